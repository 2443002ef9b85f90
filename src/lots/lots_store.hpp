#pragma once
// SQL for lots, balances and the ledger.

#include "unipoints/db/database.hpp"

namespace unipoints::lots::store {

// The expiry instant for a lot earned at $2 of point type $3 under tenant $1's policy, computed
// in the tenant's time zone: calendar years end at local midnight of 1 January of year Y+N;
// months add N calendar months to the local earning time (Jan 31 + 1 month = end of February).
inline constexpr db::Query kExpiryFor{
    "lot_expiry_for",
    "WITH t AS (SELECT time_zone FROM tenants WHERE id = $1),"
    " pol AS (SELECT coalesce(p.by_point_type -> $3 ->> 'kind', p.expiry_kind) AS kind,"
    "               coalesce((p.by_point_type -> $3 ->> 'n')::int, p.expiry_n) AS n"
    "         FROM tenant_policies p WHERE p.tenant_id = $1)"
    " SELECT CASE pol.kind"
    "   WHEN 'calendar_years' THEN (extract(epoch FROM make_timestamptz("
    "        extract(year FROM ($2::timestamptz AT TIME ZONE t.time_zone))::int + pol.n, 1, 1, 0, 0, 0,"
    "        t.time_zone)) * 1000000)::bigint"
    "   WHEN 'months' THEN (extract(epoch FROM ((($2::timestamptz AT TIME ZONE t.time_zone)"
    "        + make_interval(months => pol.n)) AT TIME ZONE t.time_zone)) * 1000000)::bigint"
    "   ELSE NULL END,"
    " (SELECT debt FROM member_balances WHERE tenant_id = $1 AND member_id = $4)"
    " FROM t LEFT JOIN pol ON true"};
inline constexpr db::Query kCreditBalance{
    "balance_credit",
    "UPDATE member_balances SET debt = debt - $3, lifetime = lifetime + $4, held = held + $4 - $3,"
    " updated_at = now() WHERE tenant_id = $1 AND member_id = $2"};
inline constexpr db::Query kInsertLot{
    "lot_insert",
    "INSERT INTO lots (tenant_id, member_id, source_partner_id, point_type, points, remaining, earned_at,"
    " expires_at, accrual_id) VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz,"
    " CASE WHEN $8::bigint IS NULL THEN NULL ELSE 'epoch'::timestamptz + $8::bigint * interval '1 "
    "microsecond' END, $9::bigint)"
    " RETURNING id"};
inline constexpr db::Query kInsertLedger{
    "ledger_insert",
    "INSERT INTO ledger_entries (tenant_id, member_id, kind, points, source_partner_id, lot_id, ref, at)"
    " VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, $7, $8::timestamptz) RETURNING seq"};
// Balances of many members in one statement, one pass over each member's live lots: for query i
// (1-based) of the arrays $1 tenant, $2 member, $3 as-of µs, its totals and tier, then one row per
// (source partner, expiry instant) with its points unexpired at that instant; a member without
// live lots gives one row with NULL source, an unknown member none.
inline constexpr db::Query kBalances{
    "balances",
    "SELECT x.i, b.lifetime, b.debt, m.tier, g.code, g.e, g.pts"
    " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS x(t, mid, at, i)"
    " JOIN member_balances b ON b.tenant_id = x.t AND b.member_id = x.mid"
    " JOIN members m ON m.tenant_id = x.t AND m.id = x.mid"
    " LEFT JOIN LATERAL (SELECT p.code, y.e, y.pts FROM (SELECT l.source_partner_id AS src,"
    "   (extract(epoch FROM l.expires_at) * 1000000)::bigint AS e, sum(l.remaining)::bigint AS pts"
    "   FROM lots l WHERE l.tenant_id = x.t AND l.member_id = x.mid AND l.live"
    "     AND (l.expires_at IS NULL OR l.expires_at > 'epoch'::timestamptz + x.at * interval '1 microsecond')"
    "   GROUP BY 1, 2) y"
    "   JOIN partners p ON p.tenant_id = x.t AND p.id = y.src) g ON true"};
// Available without scanning live lots: held - debt - what already expired but is still held
// (lots_live by member and expiry: the row comparison keeps lots_due, all the tenant's due lots, out).
inline constexpr db::Query kAvailable{"lots_available",
                                      "SELECT b.held - b.debt - coalesce((SELECT sum(l.remaining) FROM lots l"
                                      "   WHERE l.tenant_id = $1 AND l.member_id = $2 AND l.live "
                                      "AND (l.member_id, l.expires_at) <= ($2, $3::timestamptz)), 0)"
                                      " FROM member_balances b WHERE b.tenant_id = $1 AND b.member_id = $2"};
inline constexpr db::Query kLedgerPage{
    "ledger_page",
    "SELECT e.seq, (extract(epoch FROM e.at) * 1000000)::bigint, e.kind, e.points, p.code, e.ref FROM "
    "ledger_entries e"
    " LEFT JOIN partners p ON p.tenant_id = e.tenant_id AND p.id = e.source_partner_id"
    " WHERE e.tenant_id = $1 AND e.member_id = $2 AND ($3::bigint IS NULL OR e.seq < $3::bigint)"
    " AND ($4::bigint IS NULL OR e.source_partner_id = $4::bigint)"
    " ORDER BY e.seq DESC LIMIT $5"};

}  // namespace unipoints::lots::store

namespace unipoints::lots::store {

// Live lots of a member, earliest expiry first (never-expiring last), locked for the movement.
inline constexpr db::Query kLockLiveLots{
    "lots_lock_live",
    "SELECT l.id, l.source_partner_id, p.code, l.remaining, (extract(epoch FROM l.expires_at) * "
    "1000000)::bigint,"
    " l.point_type, (extract(epoch FROM l.earned_at) * 1000000)::bigint"
    " FROM lots l JOIN partners p ON p.tenant_id = l.tenant_id AND p.id = l.source_partner_id"
    " WHERE l.tenant_id = $1 AND l.member_id = $2 AND l.live"
    " AND (l.expires_at IS NULL OR l.expires_at > $3::timestamptz)"
    " ORDER BY l.expires_at ASC NULLS LAST, l.id ASC FOR UPDATE OF l"};
// Takes points from lots: $2 lot ids, $3 points, as arrays.
inline constexpr db::Query kTakeFromLots{"lots_take",
                                         "UPDATE lots l SET remaining = l.remaining - u.take"
                                         " FROM unnest($2::bigint[], $3::bigint[]) AS u(id, take)"
                                         " WHERE l.tenant_id = $1 AND l.id = u.id"};
inline constexpr db::Query kRecordConsumptions{
    "lots_record_consumptions",
    "INSERT INTO lot_consumptions (tenant_id, ref, lot_id, source_partner_id, points)"
    " SELECT $1, $2, u.lot, u.src, u.pts FROM unnest($3::bigint[], $4::bigint[], $5::bigint[]) AS u(lot, "
    "src, pts)"};
// Puts back what `ref` took, into the same lots (with their original expiry).
inline constexpr db::Query kRestoreConsumptions{
    "lots_restore",
    "WITH c AS (SELECT lot_id, source_partner_id, points FROM lot_consumptions WHERE tenant_id = $1 AND ref "
    "= $2),"
    " u AS (UPDATE lots l SET remaining = l.remaining + c.points FROM c"
    "       WHERE l.tenant_id = $1 AND l.id = c.lot_id RETURNING l.id)"
    " SELECT c.lot_id, c.source_partner_id, p.code, c.points FROM c"
    " JOIN partners p ON p.tenant_id = $1 AND p.id = c.source_partner_id ORDER BY c.lot_id"};
inline constexpr db::Query kTotals{
    "balance_totals", "SELECT held, debt FROM member_balances WHERE tenant_id = $1 AND member_id = $2"};
inline constexpr db::Query kMoveHeld{"balance_move",
                                     "UPDATE member_balances SET held = held + $3, debt = debt + $4, "
                                     "lifetime = lifetime + $5, updated_at = now()"
                                     " WHERE tenant_id = $1 AND member_id = $2 RETURNING held, debt"};
inline constexpr db::Query kCopyLot{
    "lot_copy",
    "INSERT INTO lots (tenant_id, member_id, source_partner_id, point_type, points, remaining, earned_at, "
    "expires_at,"
    " accrual_id)"
    " SELECT tenant_id, $3, source_partner_id, point_type, $4, $4, earned_at, expires_at, NULL"
    " FROM lots WHERE tenant_id = $1 AND id = $2 RETURNING id"};

}  // namespace unipoints::lots::store
