#pragma once
// Set-based SQL for many accruals in one transaction. Every statement takes its rows as one JSON
// array ($1) read with json_to_recordset, so a batch of any size is one round trip per step.

#include "unipoints/db/database.hpp"

namespace unipoints::earning::store {

// Claims idempotency keys in key order (concurrent batches never wait on each other in a cycle);
// returns the keys claimed here. A key held by an uncommitted transaction waits for its outcome.
inline constexpr db::Query kClaimKeys{
    "accruals_claim_keys",
    "INSERT INTO idempotency_keys (tenant_id, scope, kind, client_id, request_hash, status, response)"
    " SELECT x.t, x.s, 'accrual', x.c, x.h, 0, '{}'::jsonb"
    " FROM json_to_recordset($1::json) AS x(t bigint, s bigint, c text, h text) ORDER BY x.t, x.s, x.c"
    " ON CONFLICT DO NOTHING RETURNING tenant_id, scope, client_id"};
inline constexpr db::Query kStoredKeys{
    "accruals_stored_keys",
    "SELECT k.tenant_id, k.scope, k.client_id, k.request_hash, k.status, k.response::text"
    " FROM json_to_recordset($1::json) AS x(t bigint, s bigint, c text)"
    " JOIN idempotency_keys k ON k.tenant_id = x.t AND k.scope = x.s AND k.kind = 'accrual' AND k.client_id "
    "= "
    "x.c"};
inline constexpr db::Query kRecordKeys{
    "accruals_record_keys",
    "UPDATE idempotency_keys k SET status = x.st, response = x.r"
    " FROM json_to_recordset($1::json) AS x(t bigint, s bigint, c text, st smallint, r jsonb)"
    " WHERE k.tenant_id = x.t AND k.scope = x.s AND k.kind = 'accrual' AND k.client_id = x.c"};
inline constexpr db::Query kUnclaimKeys{
    "accruals_unclaim_keys",
    "DELETE FROM idempotency_keys k USING json_to_recordset($1::json) AS x(t bigint, s bigint, c text)"
    " WHERE k.tenant_id = x.t AND k.scope = x.s AND k.kind = 'accrual' AND k.client_id = x.c AND k.status = "
    "0"};

// Resolves each event's card or member id and locks the members in id order: the lock order of
// every point movement. A missing row means an unknown card or member.
inline constexpr db::Query kLockMembers{
    "accruals_lock_members",
    "SELECT x.i, m.id, m.status, m.tier, c.status, (extract(epoch FROM m.tier_since) * 1000000)::bigint"
    " FROM json_to_recordset($1::json) AS x(i int, t bigint, card text, mid bigint)"
    " LEFT JOIN cards c ON x.card IS NOT NULL AND c.tenant_id = x.t AND c.card_no = x.card"
    " JOIN members m ON m.tenant_id = x.t AND m.id = coalesce(c.member_id, x.mid)"
    " ORDER BY m.id FOR UPDATE OF m"};
// Debt and available points ($2 = now) of locked members, read after the locks were granted.
inline constexpr db::Query kMemberStates{
    "accruals_member_states",
    "SELECT x.t, x.m, b.debt, b.held - b.debt - coalesce((SELECT sum(l.remaining) FROM lots l"
    "   WHERE l.tenant_id = x.t AND l.member_id = x.m AND l.remaining > 0 AND l.expires_at <= "
    "$2::timestamptz),"
    " 0)::bigint"
    " FROM json_to_recordset($1::json) AS x(t bigint, m bigint)"
    " JOIN member_balances b ON b.tenant_id = x.t AND b.member_id = x.m"};
// The partner's rule version in force at each event's occurred_at (NULL: none).
inline constexpr db::Query kVersionsAt{
    "accruals_versions_at",
    "SELECT x.i, v.version FROM json_to_recordset($1::json) AS x(i int, t bigint, p bigint, occ timestamptz)"
    " LEFT JOIN LATERAL (SELECT r.version FROM earning_rule_versions r"
    "   WHERE r.tenant_id = x.t AND r.partner_id = x.p AND r.effective_from <= x.occ"
    "   ORDER BY r.effective_from DESC, r.version DESC LIMIT 1) v ON true"};
inline constexpr db::Query kVersionBody{"earning_version_body",
                                        "SELECT body::text FROM earning_rule_versions"
                                        " WHERE tenant_id = $1 AND partner_id = $2 AND version = $3"};
// The tier each member held at occurred_at, for events older than the member's last tier change.
inline constexpr db::Query kTiersAt{
    "accruals_tiers_at",
    "SELECT x.i, coalesce((SELECT h.to_tier FROM member_tier_history h WHERE h.tenant_id = x.t"
    "   AND h.member_id = x.m AND h.at <= x.occ ORDER BY h.at DESC, h.id DESC LIMIT 1),"
    " (SELECT h.from_tier FROM member_tier_history h WHERE h.tenant_id = x.t AND h.member_id = x.m"
    "   ORDER BY h.at, h.id LIMIT 1), x.cur)"
    " FROM json_to_recordset($1::json) AS x(i int, t bigint, m bigint, occ timestamptz, cur text)"};

// Writes the accruals, their lots (expiry from the tenant's policy for the point type, in the
// tenant's time zone, as lot_expiry_for does for one lot) and ledger entries, and moves the
// members' totals ($2: one row per member). Returns per event its accrual id, lot id and expiry.
inline constexpr db::Query kWriteAccruals{
    "accruals_write",
    "WITH x AS (SELECT * FROM json_to_recordset($1::json) AS x(i int, t bigint, p bigint, ev text, m bigint,"
    "   card text, cat text, amt bigint, pts bigint, pt text, rv int, mul numeric, occ timestamptz, rem "
    "bigint)),"
    " a AS (INSERT INTO accruals (tenant_id, partner_id, event_id, member_id, card_no, category, "
    "amount_minor,"
    "   points, point_type, rule_version, multiplier, occurred_at)"
    "   SELECT t, p, ev, m, card, cat, amt, pts, pt, rv, mul, occ FROM x ORDER BY i"
    "   RETURNING id, tenant_id, partner_id, event_id),"
    " ax AS (SELECT x.*, a.id AS aid FROM x JOIN a ON a.tenant_id = x.t AND a.partner_id = x.p"
    "   AND a.event_id = x.ev),"
    " pol AS (SELECT d.t, d.pt, tn.time_zone AS tz,"
    "   coalesce(p.by_point_type -> d.pt ->> 'kind', p.expiry_kind, 'never') AS kind,"
    "   coalesce((p.by_point_type -> d.pt ->> 'n')::int, p.expiry_n) AS n"
    "   FROM (SELECT DISTINCT t, pt FROM x) d JOIN tenants tn ON tn.id = d.t"
    "   LEFT JOIN tenant_policies p ON p.tenant_id = d.t),"
    " l AS (INSERT INTO lots (tenant_id, member_id, source_partner_id, point_type, points, remaining, "
    "earned_at,"
    "   expires_at, accrual_id)"
    "   SELECT ax.t, ax.m, ax.p, ax.pt, ax.pts, ax.rem, ax.occ, CASE pol.kind"
    "     WHEN 'calendar_years' THEN make_timestamptz("
    "       extract(year FROM (ax.occ AT TIME ZONE pol.tz))::int + pol.n, 1, 1, 0, 0, 0, pol.tz)"
    "     WHEN 'months' THEN ((ax.occ AT TIME ZONE pol.tz) + make_interval(months => pol.n)) AT TIME ZONE "
    "pol.tz"
    "     ELSE NULL END, ax.aid"
    "   FROM ax JOIN pol ON pol.t = ax.t AND pol.pt = ax.pt WHERE ax.pts > 0 ORDER BY ax.i"
    "   RETURNING id, tenant_id, member_id, source_partner_id, points, accrual_id, expires_at),"
    " g AS (INSERT INTO ledger_entries (tenant_id, member_id, kind, points, source_partner_id, lot_id, ref)"
    "   SELECT l.tenant_id, l.member_id, 'accrual', l.points, l.source_partner_id, l.id, 'accrual:' || "
    "l.accrual_id"
    "   FROM l ORDER BY l.id),"
    " b AS (UPDATE member_balances mb SET debt = mb.debt - y.r, lifetime = mb.lifetime + y.p,"
    "   held = mb.held + y.p - y.r, updated_at = now()"
    "   FROM json_to_recordset($2::json) AS y(t bigint, m bigint, p bigint, r bigint)"
    "   WHERE mb.tenant_id = y.t AND mb.member_id = y.m)"
    " SELECT ax.i, ax.aid, l.id, (extract(epoch FROM l.expires_at) * 1000000)::bigint"
    " FROM ax LEFT JOIN l ON l.tenant_id = ax.t AND l.accrual_id = ax.aid"};

}  // namespace unipoints::earning::store
