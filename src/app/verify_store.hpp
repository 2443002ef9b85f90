#pragma once
// SQL for `unipoints verify`: one set-based query per invariant. Each check answers its first
// violation (or no row) as (tenant code, member id or NULL, what, expected, found), ordered by
// tenant and member; $1 limits it to one tenant (NULL: all).

#include "unipoints/db/database.hpp"

namespace unipoints::app::store {

// Not preparable; run first in the transaction so that every check sees the same snapshot.
inline constexpr const char* kVerifySnapshot = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";
// A full check of a large tenant takes longer than a request may: no statement timeout for it. Every
// check reads whole tables, and with LIMIT 1 the planner would otherwise pick order-preserving
// nested loops over an aggregate (quadratic in members), or a merge on the tenant alone whose
// join filter compares every redemption with every ref (200,000 redemptions: over ten minutes):
// hash joins only.
inline constexpr const char* kVerifyNoTimeout =
    "SET LOCAL statement_timeout = 0; SET LOCAL enable_nestloop = off; SET LOCAL enable_mergejoin = off";

inline constexpr db::Query kVerifyCounts{
    "verify_counts",
    "SELECT (SELECT count(*) FROM members WHERE $1::bigint IS NULL OR tenant_id = $1::bigint),"
    " (SELECT count(*) FROM lots WHERE $1::bigint IS NULL OR tenant_id = $1::bigint)"};

inline constexpr db::Query kVerifyBalanceRow{
    "verify_balance_row",
    "SELECT t.code, m.id, 'the member has a balance row', 'a row', 'none'"
    " FROM members m JOIN tenants t ON t.id = m.tenant_id"
    " LEFT JOIN member_balances b ON b.tenant_id = m.tenant_id AND b.member_id = m.id"
    " WHERE b.member_id IS NULL AND ($1::bigint IS NULL OR m.tenant_id = $1::bigint)"
    " ORDER BY m.tenant_id, m.id LIMIT 1"};

inline constexpr db::Query kVerifyHeld{
    "verify_held",
    "SELECT t.code, b.member_id, 'held = sum of remaining over all the member''s lots',"
    " coalesce(l.s, 0)::text, b.held::text"
    " FROM member_balances b JOIN tenants t ON t.id = b.tenant_id"
    " LEFT JOIN (SELECT tenant_id, member_id, sum(remaining)::bigint AS s FROM lots"
    "            WHERE $1::bigint IS NULL OR tenant_id = $1::bigint GROUP BY tenant_id, member_id) l"
    "   ON l.tenant_id = b.tenant_id AND l.member_id = b.member_id"
    " WHERE b.held <> coalesce(l.s, 0) AND ($1::bigint IS NULL OR b.tenant_id = $1::bigint)"
    " ORDER BY b.tenant_id, b.member_id LIMIT 1"};

inline constexpr db::Query kVerifyNonNegative{
    "verify_non_negative",
    "SELECT t.code, b.member_id, v.what, '>= 0', v.found::text"
    " FROM member_balances b JOIN tenants t ON t.id = b.tenant_id"
    " CROSS JOIN LATERAL (VALUES (1, 'held', b.held), (2, 'debt', b.debt), (3, 'lifetime', b.lifetime))"
    "   AS v(n, what, found)"
    " WHERE v.found < 0 AND ($1::bigint IS NULL OR b.tenant_id = $1::bigint)"
    " ORDER BY b.tenant_id, b.member_id, v.n LIMIT 1"};

inline constexpr db::Query kVerifyLedger{
    "verify_ledger",
    "SELECT t.code, b.member_id, 'sum of the member''s ledger points = held - debt',"
    " (b.held - b.debt)::text, coalesce(e.s, 0)::text"
    " FROM member_balances b JOIN tenants t ON t.id = b.tenant_id"
    " LEFT JOIN (SELECT tenant_id, member_id, sum(points)::bigint AS s FROM ledger_entries"
    "            WHERE $1::bigint IS NULL OR tenant_id = $1::bigint GROUP BY tenant_id, member_id) e"
    "   ON e.tenant_id = b.tenant_id AND e.member_id = b.member_id"
    " WHERE coalesce(e.s, 0) <> b.held - b.debt AND ($1::bigint IS NULL OR b.tenant_id = $1::bigint)"
    " ORDER BY b.tenant_id, b.member_id LIMIT 1"};

// Lifetime = all ever earned less reversals: accruals, reversals and credit adjustments. Nothing
// else (redemptions, transfers, debits, expiry) moves it.
inline constexpr db::Query kVerifyLifetime{
    "verify_lifetime",
    "SELECT t.code, b.member_id,"
    " 'lifetime = ledger accruals - reversals + credit adjustments (redemptions never lower it)',"
    " coalesce(e.s, 0)::text, b.lifetime::text"
    " FROM member_balances b JOIN tenants t ON t.id = b.tenant_id"
    " LEFT JOIN (SELECT tenant_id, member_id, sum(points)::bigint AS s FROM ledger_entries"
    "            WHERE (kind IN ('accrual', 'reversal') OR (kind = 'adjustment' AND points > 0))"
    "              AND ($1::bigint IS NULL OR tenant_id = $1::bigint)"
    "            GROUP BY tenant_id, member_id) e"
    "   ON e.tenant_id = b.tenant_id AND e.member_id = b.member_id"
    " WHERE coalesce(e.s, 0) <> b.lifetime AND ($1::bigint IS NULL OR b.tenant_id = $1::bigint)"
    " ORDER BY b.tenant_id, b.member_id LIMIT 1"};

inline constexpr db::Query kVerifyLots{
    "verify_lots",
    "SELECT t.code, l.member_id, 'lot ' || l.id || ': 0 <= remaining <= points',"
    " '0..' || l.points, l.remaining::text"
    " FROM lots l JOIN tenants t ON t.id = l.tenant_id"
    " WHERE (l.remaining < 0 OR l.remaining > l.points) AND ($1::bigint IS NULL OR l.tenant_id = $1::bigint)"
    " ORDER BY l.tenant_id, l.member_id, l.id LIMIT 1"};

// Every accrual has its member and partner, and (when it earned points) exactly one lot of those
// points for that member from that partner and one ledger entry of them: what the foreign keys
// dropped in migration 9 checked, and more. Lots and ledger entries belong to existing members.
inline constexpr db::Query kVerifyAccruals{
    "verify_accruals",
    "SELECT t.code, a.member_id, 'accrual ' || a.id || ': ' || v.what, v.expected, v.found"
    " FROM accruals a JOIN tenants t ON t.id = a.tenant_id"
    " LEFT JOIN members m ON m.tenant_id = a.tenant_id AND m.id = a.member_id"
    " LEFT JOIN partners p ON p.tenant_id = a.tenant_id AND p.id = a.partner_id"
    " LEFT JOIN (SELECT tenant_id, accrual_id, count(*) AS n, min(points) AS points,"
    "                   min(member_id) AS member_id, min(source_partner_id) AS source"
    "            FROM lots WHERE accrual_id IS NOT NULL AND ($1::bigint IS NULL OR tenant_id = $1::bigint)"
    "            GROUP BY tenant_id, accrual_id) l ON l.tenant_id = a.tenant_id AND l.accrual_id = a.id"
    " LEFT JOIN (SELECT tenant_id, ref, count(*) AS n, sum(points) AS points FROM ledger_entries"
    "            WHERE kind = 'accrual' AND ($1::bigint IS NULL OR tenant_id = $1::bigint)"
    "            GROUP BY tenant_id, ref) e ON e.tenant_id = a.tenant_id AND e.ref = 'accrual:' || a.id"
    " CROSS JOIN LATERAL (VALUES"
    "   ('its member exists', 'yes', CASE WHEN m.id IS NULL THEN 'no' ELSE 'yes' END),"
    "   ('its partner exists', 'yes', CASE WHEN p.id IS NULL THEN 'no' ELSE 'yes' END),"
    "   ('one lot of its points, for its member, from its partner',"
    "    CASE WHEN a.points > 0 THEN '1 x ' || a.points || ' m' || a.member_id || ' p' || a.partner_id"
    "         ELSE 'none' END,"
    "    CASE WHEN l.n IS NULL THEN 'none'"
    "         ELSE l.n || ' x ' || l.points || ' m' || l.member_id || ' p' || l.source END),"
    "   ('one ledger entry of its points', CASE WHEN a.points > 0 THEN '1 x ' || a.points ELSE 'none' END,"
    "    CASE WHEN e.n IS NULL THEN 'none' ELSE e.n || ' x ' || e.points END)) v(what, expected, found)"
    " WHERE v.expected <> v.found AND ($1::bigint IS NULL OR a.tenant_id = $1::bigint)"
    " ORDER BY a.tenant_id, a.member_id, a.id LIMIT 1"};
inline constexpr db::Query kVerifyOwners{
    "verify_owners",
    "SELECT t.code, x.member_id, x.what || ' belongs to an existing member', 'a member', 'none'"
    " FROM (SELECT tenant_id, member_id, 'lot ' || id AS what FROM lots"
    "       UNION ALL SELECT tenant_id, member_id, 'ledger entry ' || seq FROM ledger_entries"
    "       UNION ALL SELECT tenant_id, member_id, 'redemption ' || id FROM redemptions) x"
    " JOIN tenants t ON t.id = x.tenant_id"
    " WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.tenant_id = x.tenant_id AND m.id = x.member_id)"
    " AND ($1::bigint IS NULL OR x.tenant_id = $1::bigint) LIMIT 1"};

// Points taken from lots under a ref, per ref of one kind ($2: 'redemption:', 'transfer:', ...).
#define UP_CONSUMED(prefix)                                                           \
  " LEFT JOIN (SELECT tenant_id, ref, sum(points)::bigint AS s FROM lot_consumptions" \
  "            WHERE ref LIKE '" prefix                                               \
  "%' AND ($1::bigint IS NULL OR tenant_id = $1::bigint)"                             \
  "            GROUP BY tenant_id, ref) c ON c.tenant_id = x.tenant_id AND c.ref = '" prefix "' || x.id"
// Ledger points written under a ref, per ref and kind.
#define UP_LEDGER(prefix)                                                                                 \
  " LEFT JOIN (SELECT tenant_id, ref, sum(points) FILTER (WHERE kind = 'transfer_out')::bigint AS out_s," \
  "                   sum(points) FILTER (WHERE kind = 'transfer_in')::bigint AS in_s,"                   \
  "                   sum(points)::bigint AS s FROM ledger_entries"                                       \
  "            WHERE ref LIKE '" prefix                                                                   \
  "%' AND ($1::bigint IS NULL OR tenant_id = $1::bigint)"                                                 \
  "            GROUP BY tenant_id, ref) e ON e.tenant_id = x.tenant_id AND e.ref = '" prefix "' || x.id"

inline constexpr db::Query kVerifyRedemptionLots{
    "verify_redemption_lots",
    "SELECT t.code, x.member_id, 'redemption ' || x.id || ': points taken from lots = its points',"
    " x.points::text, coalesce(c.s, 0)::text"
    " FROM redemptions x JOIN tenants t ON t.id = x.tenant_id" UP_CONSUMED("redemption:")
    " WHERE coalesce(c.s, 0) <> x.points AND ($1::bigint IS NULL OR x.tenant_id = $1::bigint)"
    " ORDER BY x.tenant_id, x.member_id, x.id LIMIT 1"};

inline constexpr db::Query kVerifySettlementLines{
    "verify_settlement_lines",
    "SELECT t.code, x.member_id,"
    " 'redemption ' || x.id || ' (' || x.status || '): sum of its settlement lines',"
    " (CASE WHEN x.status = 'cancelled' THEN 0 ELSE x.points END)::text, coalesce(s.s, 0)::text"
    " FROM redemptions x JOIN tenants t ON t.id = x.tenant_id"
    " LEFT JOIN (SELECT tenant_id, redemption_id, sum(points)::bigint AS s FROM settlement_lines"
    "            WHERE $1::bigint IS NULL OR tenant_id = $1::bigint GROUP BY tenant_id, redemption_id) s"
    "   ON s.tenant_id = x.tenant_id AND s.redemption_id = x.id"
    " WHERE coalesce(s.s, 0) <> (CASE WHEN x.status = 'cancelled' THEN 0 ELSE x.points END)"
    " AND ($1::bigint IS NULL OR x.tenant_id = $1::bigint)"
    " ORDER BY x.tenant_id, x.member_id, x.id LIMIT 1"};

inline constexpr db::Query kVerifyRedemptionRewards{
    "verify_redemption_rewards",
    "SELECT t.code, x.member_id, 'redemption ' || x.id || ': its reward exists', 'yes', 'no'"
    " FROM redemptions x JOIN tenants t ON t.id = x.tenant_id"
    " WHERE NOT EXISTS (SELECT 1 FROM rewards r WHERE r.tenant_id = x.tenant_id AND r.id = x.reward_id)"
    " AND ($1::bigint IS NULL OR x.tenant_id = $1::bigint)"
    " ORDER BY x.tenant_id, x.member_id, x.id LIMIT 1"};

// Rows written beside a redemption or a transfer without a foreign key (migration 0013).
inline constexpr db::Query kVerifyLinks{
    "verify_links",
    "SELECT t.code, x.member_id, x.what, 'yes', 'no'"
    " FROM (SELECT c.tenant_id, NULL::bigint AS member_id,"
    "         'lot consumption ' || c.ref || ' of lot ' || c.lot_id || ': its lot exists' AS what"
    "       FROM lot_consumptions c WHERE NOT EXISTS (SELECT 1 FROM lots l"
    "         WHERE l.tenant_id = c.tenant_id AND l.id = c.lot_id)"
    "       UNION ALL SELECT s.tenant_id, NULL, 'settlement line ' || s.id || ': its redemption '"
    "         || s.redemption_id || ' exists'"
    "       FROM settlement_lines s WHERE NOT EXISTS (SELECT 1 FROM redemptions r"
    "         WHERE r.tenant_id = s.tenant_id AND r.id = s.redemption_id)) x"
    " JOIN tenants t ON t.id = x.tenant_id"
    " WHERE $1::bigint IS NULL OR x.tenant_id = $1::bigint LIMIT 1"};

inline constexpr db::Query kVerifyTransfers{
    "verify_transfers",
    "SELECT t.code, v.member, 'transfer ' || x.id || ': ' || v.what, v.expected::text, v.found::text"
    " FROM transfers x JOIN tenants t ON t.id = x.tenant_id" UP_CONSUMED("transfer:") UP_LEDGER("transfer:")
    " CROSS JOIN LATERAL (VALUES"
    "   (1, x.from_member_id, 'points taken from the giver''s lots', x.points, coalesce(c.s, 0)),"
    "   (2, x.from_member_id, 'transfer_out ledger points', -x.points, coalesce(e.out_s, 0)),"
    "   (3, x.to_member_id, 'transfer_in ledger points', x.points, coalesce(e.in_s, 0)))"
    "   AS v(n, member, what, expected, found)"
    " WHERE v.expected <> v.found AND ($1::bigint IS NULL OR x.tenant_id = $1::bigint)"
    " ORDER BY x.tenant_id, v.member, x.id, v.n LIMIT 1"};

inline constexpr db::Query kVerifyReversals{
    "verify_reversals",
    "SELECT t.code, x.member_id, 'reversal ' || x.id || ': ' || v.what, v.expected::text, v.found::text"
    " FROM reversals x JOIN tenants t ON t.id = x.tenant_id" UP_CONSUMED("reversal:") UP_LEDGER("reversal:")
    " CROSS JOIN LATERAL (VALUES"
    "   (1, 'points taken from lots + debt created = points reversed', x.points, coalesce(c.s, 0) + x.debt_created),"
    "   (2, 'reversal ledger points', -x.points, coalesce(e.s, 0)))"
    "   AS v(n, what, expected, found)"
    " WHERE v.expected <> v.found AND ($1::bigint IS NULL OR x.tenant_id = $1::bigint)"
    " ORDER BY x.tenant_id, x.member_id, x.id, v.n LIMIT 1"};

inline constexpr db::Query kVerifyAdjustments{
    "verify_adjustments",
    "SELECT t.code, x.member_id, 'adjustment ' || x.id || ' (' || x.status || '): ' || v.what,"
    " v.expected::text, v.found::text"
    " FROM adjustments x JOIN tenants t ON t.id = x.tenant_id" UP_CONSUMED("adjustment:") UP_LEDGER("adjustment:")
    " CROSS JOIN LATERAL (VALUES"
    "   (1, 'ledger points', CASE WHEN x.status = 'applied' THEN x.points ELSE 0 END, coalesce(e.s, 0)),"
    "   (2, 'points taken from lots',"
    "    CASE WHEN x.status = 'applied' AND x.points < 0 THEN -x.points ELSE 0 END, coalesce(c.s, 0)))"
    "   AS v(n, what, expected, found)"
    " WHERE v.expected <> v.found AND ($1::bigint IS NULL OR x.tenant_id = $1::bigint)"
    " ORDER BY x.tenant_id, x.member_id, x.id, v.n LIMIT 1"};

#undef UP_CONSUMED
#undef UP_LEDGER

// Every check, in the order verify runs them.
inline constexpr db::Query kVerifyChecks[] = {
    kVerifyBalanceRow,     kVerifyHeld,
    kVerifyNonNegative,    kVerifyLedger,
    kVerifyLifetime,       kVerifyLots,
    kVerifyRedemptionLots, kVerifySettlementLines,
    kVerifyTransfers,      kVerifyReversals,
    kVerifyAdjustments,    kVerifyAccruals,
    kVerifyOwners,         kVerifyRedemptionRewards,
    kVerifyLinks,
};

}  // namespace unipoints::app::store
