#pragma once
// Set-based SQL for many accruals in one transaction. Every statement takes its rows as one JSON
// array ($1) read with json_to_recordset, so a batch of any size is one round trip per step.

#include "unipoints/db/database.hpp"

namespace unipoints::earning::store {

// Stored answers of event ids (replays and conflicts).
inline constexpr db::Query kStoredKeys{
    "accruals_stored_keys",
    "SELECT k.tenant_id, k.scope, k.client_id, k.request_hash, k.status, k.response::text"
    " FROM json_to_recordset($1::json) AS x(t bigint, s bigint, c text)"
    " JOIN idempotency_keys k ON k.tenant_id = x.t AND k.scope = x.s AND k.kind = 'accrual' AND k.client_id "
    "= "
    "x.c"};
// The answers, in key order (two batches never wait for each other's keys in a cycle). No ON
// CONFLICT: an id stored meanwhile by another transaction fails this one, which then runs again.
inline constexpr db::Query kInsertAnswers{
    "accruals_insert_answers",
    "INSERT INTO idempotency_keys (tenant_id, scope, kind, client_id, request_hash, status, response)"
    " SELECT x.t, x.s, 'accrual', x.c, x.h, x.st, x.r"
    " FROM json_to_recordset($1::json) AS x(t bigint, s bigint, c text, h text, st smallint, r jsonb)"
    " ORDER BY x.t, x.s, x.c"};

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

// $1 ids for new accruals and as many for their lots, taken ahead so that the write below needs
// no join of one insert's output with another's.
inline constexpr db::Query kTakeIds{
    "accruals_take_ids",
    "SELECT nextval('accruals_id_seq'::regclass), nextval('lots_id_seq'::regclass)"
    " FROM generate_series(1, $1::int)"};

// Writes the accruals, their lots (expiry from the tenant's policy for the point type, in the
// tenant's time zone, as lot_expiry_for does for one lot) and ledger entries, and moves the
// members' totals ($2: one row per member). Returns per event the expiry of its lot.
inline constexpr db::Query kWriteAccruals{
    "accruals_write",
    "WITH x AS (SELECT * FROM json_to_recordset($1::json) AS x(i int, t bigint, p bigint, ev text, m bigint,"
    "   card text, cat text, amt bigint, pts bigint, pt text, rv int, mul numeric, occ timestamptz, rem "
    "bigint,"
    "   aid bigint, lid bigint)),"
    " a AS (INSERT INTO accruals (id, tenant_id, partner_id, event_id, member_id, card_no, category,"
    "   amount_minor, points, point_type, rule_version, multiplier, occurred_at) OVERRIDING SYSTEM VALUE"
    "   SELECT aid, t, p, ev, m, card, cat, amt, pts, pt, rv, mul, occ FROM x ORDER BY t, p, ev),"
    " pol AS (SELECT d.t, d.pt, tn.time_zone AS tz,"
    "   coalesce(p.by_point_type -> d.pt ->> 'kind', p.expiry_kind, 'never') AS kind,"
    "   coalesce((p.by_point_type -> d.pt ->> 'n')::int, p.expiry_n) AS n"
    "   FROM (SELECT DISTINCT t, pt FROM x) d JOIN tenants tn ON tn.id = d.t"
    "   LEFT JOIN tenant_policies p ON p.tenant_id = d.t),"
    " e AS (SELECT x.*, CASE pol.kind"
    "     WHEN 'calendar_years' THEN make_timestamptz("
    "       extract(year FROM (x.occ AT TIME ZONE pol.tz))::int + pol.n, 1, 1, 0, 0, 0, pol.tz)"
    "     WHEN 'months' THEN ((x.occ AT TIME ZONE pol.tz) + make_interval(months => pol.n)) AT TIME ZONE "
    "pol.tz"
    "     ELSE NULL END AS exp"
    "   FROM x JOIN pol ON pol.t = x.t AND pol.pt = x.pt),"
    " l AS (INSERT INTO lots (id, tenant_id, member_id, source_partner_id, point_type, points, remaining,"
    "   earned_at, expires_at, accrual_id) OVERRIDING SYSTEM VALUE"
    "   SELECT lid, t, m, p, pt, pts, rem, occ, exp, aid FROM e WHERE pts > 0 ORDER BY i),"
    " g AS (INSERT INTO ledger_entries (tenant_id, member_id, kind, points, source_partner_id, lot_id, ref)"
    "   SELECT t, m, 'accrual', pts, p, lid, 'accrual:' || aid FROM x WHERE pts > 0 ORDER BY i),"
    " b AS (UPDATE member_balances mb SET debt = mb.debt - y.r, lifetime = mb.lifetime + y.p,"
    "   held = mb.held + y.p - y.r, updated_at = now()"
    "   FROM json_to_recordset($2::json) AS y(t bigint, m bigint, p bigint, r bigint)"
    "   WHERE mb.tenant_id = y.t AND mb.member_id = y.m)"
    " SELECT i, CASE WHEN pts > 0 THEN (extract(epoch FROM exp) * 1000000)::bigint END FROM e"};

}  // namespace unipoints::earning::store
