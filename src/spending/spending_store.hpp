#pragma once
// SQL for rewards, redemptions, their cancellations and settlement lines.

#include "unipoints/db/database.hpp"

namespace unipoints::spending::store {

#define UP_REWARD_COLUMNS                                              \
  "r.id, r.code, p.code, r.name, r.price::text, r.stock,"              \
  " (extract(epoch FROM r.available_from) * 1000000)::bigint,"         \
  " (extract(epoch FROM r.available_to) * 1000000)::bigint, r.status," \
  " (extract(epoch FROM r.created_at) * 1000000)::bigint, r.partner_id"

inline constexpr db::Query kInsertReward{
    "reward_insert",
    "INSERT INTO rewards (tenant_id, code, partner_id, name, price, stock, available_from, available_to)"
    " VALUES ($1, $2, $3, $4, $5::jsonb, $6::bigint, $7::timestamptz, $8::timestamptz)"
    " ON CONFLICT (tenant_id, code) DO NOTHING RETURNING id"};
inline constexpr db::Query kGetReward{
    "reward_get", "SELECT " UP_REWARD_COLUMNS
                  " FROM rewards r JOIN partners p ON p.tenant_id = r.tenant_id AND p.id = r.partner_id"
                  " WHERE r.tenant_id = $1 AND r.code = $2"};
inline constexpr db::Query kLockReward{
    "reward_lock", "SELECT " UP_REWARD_COLUMNS
                   " FROM rewards r JOIN partners p ON p.tenant_id = r.tenant_id AND p.id = r.partner_id"
                   " WHERE r.tenant_id = $1 AND r.code = $2 FOR UPDATE OF r"};
inline constexpr db::Query kListRewards{
    "reward_list", "SELECT " UP_REWARD_COLUMNS
                   " FROM rewards r JOIN partners p ON p.tenant_id = r.tenant_id AND p.id = r.partner_id"
                   " WHERE r.tenant_id = $1 AND ($2::bigint IS NULL OR r.id > $2::bigint)"
                   " AND ($3::bigint IS NULL OR r.partner_id = $3::bigint) ORDER BY r.id LIMIT $4"};
inline constexpr db::Query kUpdateReward{
    "reward_update",
    "UPDATE rewards SET name = $3, stock = $4::bigint, available_from = $5::timestamptz,"
    " available_to = $6::timestamptz, status = $7 WHERE tenant_id = $1 AND id = $2"};
// Takes `$3` from a limited stock; no row when the stock is short (or no longer limited).
inline constexpr db::Query kTakeStock{
    "reward_take_stock",
    "UPDATE rewards SET stock = stock - $3 WHERE tenant_id = $1 AND id = $2 AND stock IS NOT NULL"
    " AND stock >= $3 RETURNING stock"};
inline constexpr db::Query kMoveStock{
    "reward_move_stock",
    "UPDATE rewards SET stock = stock + $3 WHERE tenant_id = $1 AND id = $2 AND stock IS NOT NULL"};
inline constexpr db::Query kPartnerCodes{"partner_codes",
                                         "SELECT code, id FROM partners WHERE tenant_id = $1"};

inline constexpr db::Query kInsertRedemption{
    "redemption_insert",
    "INSERT INTO redemptions (tenant_id, member_id, reward_id, fulfiller_partner_id, quantity, option_index, "
    "points,"
    " card_no, requested_by_key, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6::integer, $7, $8, $9, $10::timestamptz) RETURNING id"};
inline constexpr db::Query kLockRedemption{
    "redemption_lock",
    "SELECT d.id, d.member_id, d.reward_id, d.fulfiller_partner_id, d.quantity, d.points, d.status,"
    " (extract(epoch FROM d.created_at) * 1000000)::bigint, k.partner_id"
    " FROM redemptions d JOIN api_keys k ON k.tenant_id = d.tenant_id AND k.id = d.requested_by_key"
    " WHERE d.tenant_id = $1 AND d.id = $2 FOR UPDATE OF d"};
inline constexpr db::Query kCancelRedemption{
    "redemption_cancel",
    "UPDATE redemptions SET status = 'cancelled', cancelled_at = $3::timestamptz, cancel_reason = $4"
    " WHERE tenant_id = $1 AND id = $2"};
inline constexpr db::Query kGetRedemption{
    "redemption_get",
    "SELECT d.id, d.member_id, r.code, p.code, d.quantity, d.option_index, d.points, d.status,"
    " (extract(epoch FROM d.created_at) * 1000000)::bigint, (extract(epoch FROM d.cancelled_at) * "
    "1000000)::bigint,"
    " d.cancel_reason, k.partner_id, d.fulfiller_partner_id"
    " FROM redemptions d JOIN rewards r ON r.tenant_id = d.tenant_id AND r.id = d.reward_id"
    " JOIN partners p ON p.tenant_id = d.tenant_id AND p.id = d.fulfiller_partner_id"
    " JOIN api_keys k ON k.tenant_id = d.tenant_id AND k.id = d.requested_by_key"
    " WHERE d.tenant_id = $1 AND d.id = $2"};
// A cancellation's settlement lines, one per source partner: $2 redemption, $3 fulfiller, $4 booked
// at, $5 priced at (the redemption's time: its agreement version prices them), $6 source ids and
// $7 points (negative) as arrays.
inline constexpr db::Query kInsertCancellationLines{
    "settlement_lines_insert_cancellation",
    "INSERT INTO settlement_lines (tenant_id, redemption_id, source_partner_id, fulfiller_partner_id, "
    "points, kind,"
    " booked_at, priced_at) SELECT $1, $2, u.src, $3, u.pts, 'cancellation', $4::timestamptz, $5::timestamptz"
    " FROM unnest($6::bigint[], $7::bigint[]) AS u(src, pts)"};
inline constexpr db::Query kRedemptionLines{
    "redemption_lines",
    "SELECT s.code, f.code, l.points, l.kind, (extract(epoch FROM l.booked_at) * 1000000)::bigint"
    " FROM settlement_lines l JOIN partners s ON s.tenant_id = l.tenant_id AND s.id = l.source_partner_id"
    " JOIN partners f ON f.tenant_id = l.tenant_id AND f.id = l.fulfiller_partner_id"
    " WHERE l.tenant_id = $1 AND l.redemption_id = $2 ORDER BY l.id"};

// A redemption in three statements. 1: the stored answer of its request id ($2 scope, $3 id), its
// member (by card $4 or id $5) locked, the partners' codes, the reward ($6), as one row.
inline constexpr db::Query kRedeemRead{
    "redemption_read",
    "WITH k AS (SELECT json_build_array(request_hash, status, response)::text AS v FROM idempotency_keys"
    "   WHERE tenant_id = $1 AND scope = $2 AND kind = 'redemption' AND client_id = $3),"
    " m AS (SELECT m.id, m.status, m.tier, c.status AS card_status,"
    "   (extract(epoch FROM m.tier_since) * 1000000)::bigint AS since"
    "   FROM (SELECT $4::text AS card, $5::bigint AS mid) x"
    "   LEFT JOIN cards c ON x.card IS NOT NULL AND c.tenant_id = $1 AND c.card_no = x.card"
    "   JOIN members m ON m.tenant_id = $1 AND m.id = coalesce(c.member_id, x.mid) FOR UPDATE OF m),"
    " w (id, code, partner, name, price, stock, available_from, available_to, status, created_at, partner_id)"
    "   AS (SELECT " UP_REWARD_COLUMNS
    "   FROM rewards r JOIN partners p ON p.tenant_id = r.tenant_id AND p.id = r.partner_id"
    "   WHERE r.tenant_id = $1 AND r.code = $6)"
    " SELECT (SELECT v FROM k), m.id, m.status, m.tier, m.card_status, m.since,"
    " coalesce((SELECT json_object_agg(code, id) FROM partners WHERE tenant_id = $1), '{}')::text, w.*"
    " FROM (SELECT 1) one LEFT JOIN m ON true LEFT JOIN w ON true"};
// 2, after the member's lock (a statement of its own, so that it sees what the transactions it
// waited for committed): its live lots locked ('l': id, source, code, remaining, expiry µs, point
// type, earned µs), its totals ('b': held, debt, -, available), the payers with an agreement in
// force at $3 towards the fulfiller $4 ('a'), the redemption's id taken ahead ('i').
inline constexpr db::Query kRedeemLots{
    "redemption_lots",
    "WITH l AS (SELECT l.id, l.source_partner_id, p.code, l.remaining,"
    "   (extract(epoch FROM l.expires_at) * 1000000)::bigint AS e, l.point_type,"
    "   (extract(epoch FROM l.earned_at) * 1000000)::bigint AS earned"
    "   FROM lots l JOIN partners p ON p.tenant_id = l.tenant_id AND p.id = l.source_partner_id"
    "   WHERE l.tenant_id = $1 AND l.member_id = $2 AND l.live"
    "   AND (l.expires_at IS NULL OR l.expires_at > $3::timestamptz) FOR UPDATE OF l)"
    " SELECT 'l', id, source_partner_id, code, remaining, e, point_type, earned FROM l"
    " UNION ALL SELECT 'b', b.held, b.debt, NULL, b.held - b.debt - coalesce((SELECT sum(x.remaining)"
    "   FROM lots x WHERE x.tenant_id = $1 AND x.member_id = $2 AND x.live"
    "   AND (x.member_id, x.expires_at) <= ($2, $3::timestamptz)), 0)::bigint, NULL, NULL, NULL"
    "   FROM member_balances b WHERE b.tenant_id = $1 AND b.member_id = $2"
    " UNION ALL SELECT DISTINCT 'a', a.payer_partner_id, NULL::bigint, NULL, NULL::bigint, NULL::bigint,"
    "   NULL, NULL::bigint FROM settlement_agreements a"
    "   WHERE a.tenant_id = $1 AND a.payee_partner_id = $4 AND a.effective_from <= $3::timestamptz"
    " UNION ALL SELECT 'i', nextval('redemptions_id_seq'::regclass), NULL, NULL, NULL, NULL, NULL, NULL"};
// 3. The redemption ($2, taken ahead), the lots taken ($12: [{lot, src, pts}]), their
// consumptions, one ledger entry and one settlement line per source ($13: [{src, pts}]), the
// member's total, a limited stock ($14) taken by a conditional update, and the answer ($15 scope,
// $16 request id, $17 request hash, $18 body). Returns 1 when the stock was taken, else 0.
inline constexpr db::Query kRedeemWrite{
    "redemption_write",
    "WITH r AS (INSERT INTO redemptions (id, tenant_id, member_id, reward_id, fulfiller_partner_id, quantity,"
    "   option_index, points, card_no, requested_by_key, created_at) OVERRIDING SYSTEM VALUE"
    "   VALUES ($2::bigint, $1, $3, $4, $5, $6, $7::integer, $8, $9, $10, $11::timestamptz)),"
    " pc AS (SELECT * FROM json_to_recordset($12::json) AS x(lot bigint, src bigint, pts bigint)),"
    " ps AS (SELECT * FROM json_to_recordset($13::json) AS x(src bigint, pts bigint)),"
    " t AS (UPDATE lots l SET remaining = l.remaining - pc.pts FROM pc WHERE l.tenant_id = $1 AND l.id = "
    "pc.lot),"
    " c AS (INSERT INTO lot_consumptions (tenant_id, ref, lot_id, source_partner_id, points)"
    "   SELECT $1, 'redemption:' || $2::bigint, lot, src, pts FROM pc),"
    " g AS (INSERT INTO ledger_entries (tenant_id, member_id, kind, points, source_partner_id, lot_id, ref, "
    "at)"
    "   SELECT $1, $3, 'redemption', -pts, src, NULL, 'redemption:' || $2::bigint, $11::timestamptz FROM ps"
    "   ORDER BY src),"
    " s AS (INSERT INTO settlement_lines (tenant_id, redemption_id, source_partner_id, fulfiller_partner_id,"
    "   points, kind, booked_at) SELECT $1, $2::bigint, src, $5, pts, 'redemption', $11::timestamptz"
    "   FROM ps ORDER BY src),"
    " b AS (UPDATE member_balances SET held = held - $8, updated_at = now() WHERE tenant_id = $1 AND "
    "member_id = $3),"
    " st AS (UPDATE rewards SET stock = stock - $6 WHERE $14::boolean AND tenant_id = $1 AND id = $4"
    "   AND stock IS NOT NULL AND stock >= $6 RETURNING 1),"
    " k AS (INSERT INTO idempotency_keys (tenant_id, scope, kind, client_id, request_hash, status, response)"
    "   VALUES ($1, $15, 'redemption', $16, $17, 201, $18::jsonb))"
    " SELECT count(*) FROM st"};

#undef UP_REWARD_COLUMNS

}  // namespace unipoints::spending::store
