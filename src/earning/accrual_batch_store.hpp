#pragma once
// Set-based SQL for many accruals in one transaction: three statements whatever the number of
// events (read and lock; state after the locks; write). Each takes its rows as JSON arrays read
// with json_to_recordset, and the first two answer rows of several kinds as (kind, event, JSON).

#include "unipoints/db/database.hpp"

namespace unipoints::earning::store {

// 1. For each event ($1): its stored answer if its id has one ('k': n1 status, n2 accrual id,
// n3 member, n4 points, n5 rule version, n6 its lot's expiry µs, n7 balance after, s1 request
// hash, s2 response, s3 point type; an accepted accrual's response is NULL and its answer is
// rebuilt from the accrual's columns); its member, found by card or id and locked in id order, the
// lock order of every point movement ('m': n1 id, n2 tier_since µs, s1 status, s2 tier, s3 card
// status; no row: unknown card or member); for priced events the partner's rule version in force
// at occurred_at ('v': n1). Plus $2 accrual and lot ids taken ahead ('i': n1 accrual id, n2 lot
// id), so that the write needs no join of one insert's output with another's. Every row has the
// same typed columns (kind, i, n1..n7, s1..s3): read without parsing.
// The statement in two forms: waiting for members another transaction holds, or skipping them
// (SKIP LOCKED) and naming their events instead ('o': member found, held elsewhere), so that a
// batch need not wait, holding its own locks, for another batch's commit.
#define UP_ACCRUALS_READ_LOCK(LOCK, HELD_CTE, HELD_ROWS)                                                   \
  "WITH x AS (SELECT * FROM json_to_recordset($1::json) AS x(i int, t bigint, s bigint, c text, p bigint," \
  "   card text, mid bigint, occ timestamptz, priced boolean)),"                                           \
  " k AS (SELECT x.i, k.status::bigint AS st, a.id, a.member_id, a.points, a.rule_version::bigint AS rv,"  \
  "   (extract(epoch FROM l.expires_at) * 1000000)::bigint AS exp, a.balance_after, k.request_hash,"       \
  "   k.response::text AS response, a.point_type FROM x"                                                   \
  "   JOIN idempotency_keys k ON k.tenant_id = x.t AND k.scope = x.s AND k.kind = 'accrual'"               \
  "   AND k.client_id = x.c"                                                                               \
  "   LEFT JOIN accruals a ON k.response IS NULL AND a.tenant_id = x.t AND a.partner_id = x.p"             \
  "   AND a.event_id = x.c"                                                                                \
  "   LEFT JOIN lots l ON l.tenant_id = a.tenant_id AND l.accrual_id = a.id),"                             \
  " m AS (SELECT x.i, m.id, m.status, m.tier, c.status AS card_status, m.tier_since FROM x"                \
  "   LEFT JOIN cards c ON x.card IS NOT NULL AND c.tenant_id = x.t AND c.card_no = x.card"                \
  "   JOIN members m ON m.tenant_id = x.t AND m.id = coalesce(c.member_id, x.mid)"                         \
  "   ORDER BY m.id FOR UPDATE OF m" LOCK ")," HELD_CTE                                                    \
  " v AS (SELECT x.i, r.version FROM x CROSS JOIN LATERAL (SELECT r.version FROM earning_rule_versions r"  \
  "   WHERE r.tenant_id = x.t AND r.partner_id = x.p AND r.effective_from <= x.occ"                        \
  "   ORDER BY r.effective_from DESC, r.version DESC LIMIT 1) r WHERE x.priced),"                          \
  " ids AS (SELECT nextval('accruals_id_seq'::regclass) AS a, nextval('lots_id_seq'::regclass) AS l"       \
  "   FROM generate_series(1, $2::int))"                                                                   \
  " SELECT 'k' AS kind, i, st, id, member_id, points, rv, exp, balance_after, request_hash, response,"     \
  "   point_type FROM k"                                                                                   \
  " UNION ALL SELECT 'm', i, id, (extract(epoch FROM tier_since) * 1000000)::bigint, NULL, NULL, NULL,"    \
  "   NULL, NULL, status, tier, card_status FROM m"                                                        \
  " UNION ALL SELECT 'v', i, version, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM v"         \
  " UNION ALL SELECT 'i', 0, a, l, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM ids" HELD_ROWS

inline constexpr db::Query kReadAndLock{"accruals_read_lock", UP_ACCRUALS_READ_LOCK("", "", "")};
// Members are looked up a second time only for the events left without a locked one.
inline constexpr db::Query kReadAndLockSkipping{
    "accruals_read_lock_skipping",
    UP_ACCRUALS_READ_LOCK(
        " SKIP LOCKED",
        " o AS (SELECT x.i FROM x"
        "   LEFT JOIN cards c ON x.card IS NOT NULL AND c.tenant_id = x.t AND c.card_no = x.card"
        "   JOIN members m ON m.tenant_id = x.t AND m.id = coalesce(c.member_id, x.mid)"
        "   WHERE x.i NOT IN (SELECT i FROM m)),",
        " UNION ALL SELECT 'o', i, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM o")};
#undef UP_ACCRUALS_READ_LOCK

// 2. After the locks (a statement of its own, so that it sees what the transactions it waited for
// committed): debt and available points at $2 of each member ($1; 's': n1 tenant, n2 member,
// n3 debt, n4 available); the tier held at occurred_at for events older than the member's last
// tier change ($3; 't': s1); the expiry of each event's lot from the tenant's policy for its point
// type, in the tenant's time zone ($4; 'e': n1 µs, or null for never). Calendar years end at local
// midnight of 1 January of Y+N; N months keep the local time and clamp to the month's end.
// Lots past their expiry that the expiry job has not taken yet are looked for per member only in
// tenants that have any (the first entry of lots_due, the tenant's earliest expiry; an EXISTS
// there got a generic plan that read all of lots_live), and then through lots_live by
// member and expiry (the row comparison keeps lots_due, all of the tenant's, out of that plan).
// The policies are read once per tenant and point type (MATERIALIZED), not once per event.
inline constexpr db::Query kState{
    "accruals_state",
    "WITH e AS (SELECT * FROM json_to_recordset($4::json) AS e(i int, t bigint, pt text, occ timestamptz)),"
    " pol AS MATERIALIZED (SELECT d.t, d.pt, tn.time_zone AS tz,"
    "   coalesce(p.by_point_type -> d.pt ->> 'kind', p.expiry_kind, 'never') AS kind,"
    "   coalesce((p.by_point_type -> d.pt ->> 'n')::int, p.expiry_n) AS n"
    "   FROM (SELECT DISTINCT t, pt FROM e) d JOIN tenants tn ON tn.id = d.t"
    "   LEFT JOIN tenant_policies p ON p.tenant_id = d.t),"
    " x AS (SELECT * FROM json_to_recordset($1::json) AS x(t bigint, m bigint)),"
    " due AS MATERIALIZED (SELECT d.t FROM (SELECT DISTINCT t FROM x) d WHERE (SELECT l.expires_at"
    "   FROM lots l WHERE l.tenant_id = d.t AND l.live AND l.expires_at IS NOT NULL"
    "   ORDER BY l.expires_at LIMIT 1) <= $2::timestamptz)"
    " SELECT 's' AS kind, 0 AS i, x.t AS n1, x.m AS n2, b.debt AS n3, b.held - b.debt"
    "   - CASE WHEN x.t IN (SELECT t FROM due) THEN coalesce((SELECT sum(l.remaining) FROM lots l"
    "     WHERE l.tenant_id = x.t AND l.member_id = x.m AND l.live"
    "     AND (l.member_id, l.expires_at) <= (x.m, $2::timestamptz)), 0) ELSE 0 END::bigint AS n4,"
    "   NULL::text AS s1"
    " FROM x JOIN member_balances b ON b.tenant_id = x.t AND b.member_id = x.m"
    " UNION ALL SELECT 't', x.i, NULL, NULL, NULL, NULL, coalesce((SELECT h.to_tier"
    "   FROM member_tier_history h WHERE h.tenant_id = x.t AND h.member_id = x.m AND h.at <= x.occ"
    "   ORDER BY h.at DESC, h.id DESC LIMIT 1), (SELECT h.from_tier FROM member_tier_history h"
    "   WHERE h.tenant_id = x.t AND h.member_id = x.m ORDER BY h.at, h.id LIMIT 1), x.cur)"
    " FROM json_to_recordset($3::json) AS x(i int, t bigint, m bigint, occ timestamptz, cur text)"
    " UNION ALL SELECT 'e', e.i, (extract(epoch FROM CASE pol.kind"
    "     WHEN 'calendar_years' THEN make_timestamptz("
    "       extract(year FROM (e.occ AT TIME ZONE pol.tz))::int + pol.n, 1, 1, 0, 0, 0, pol.tz)"
    "     WHEN 'months' THEN"
    "       ((e.occ AT TIME ZONE pol.tz) + make_interval(months => pol.n)) AT TIME ZONE pol.tz"
    "     END) * 1000000)::bigint, NULL, NULL, NULL, NULL"
    " FROM e JOIN pol ON pol.t = e.t AND pol.pt = e.pt"};

inline constexpr db::Query kVersionBody{"earning_version_body",
                                        "SELECT body::text FROM earning_rule_versions"
                                        " WHERE tenant_id = $1 AND partner_id = $2 AND version = $3"};

// 3. Writes the accruals ($1, in key order, each with the balance its answer reports), their lots
// and ledger entries (received and dated $4, the business clock's now), moves the members' totals ($2: one
// row per member) and stores the keys ($3, in key order: two batches never wait for each other's keys in a
// cycle; the answer only for refusals, an accepted accrual's is rebuilt from its row). No ON CONFLICT: an
// event id another transaction stored meanwhile fails this one, which then runs again (Database::RunSync) and
// replays it.
inline constexpr db::Query kWrite{
    "accruals_write",
    "WITH x AS (SELECT * FROM json_to_recordset($1::json) AS x(i int, t bigint, p bigint, ev text, m bigint,"
    "   card text, cat text, amt bigint, pts bigint, pt text, rv int, mul numeric, occ timestamptz, rem "
    "bigint,"
    "   aid bigint, lid bigint, exp bigint, bal bigint)),"
    " a AS (INSERT INTO accruals (id, tenant_id, partner_id, event_id, member_id, card_no, category,"
    "   amount_minor, points, point_type, rule_version, multiplier, occurred_at, balance_after, created_at)"
    "   OVERRIDING SYSTEM VALUE"
    "   SELECT aid, t, p, ev, m, card, cat, amt, pts, pt, rv, mul, occ, bal, $4::timestamptz FROM x"
    "   ORDER BY t, p, ev),"
    " l AS (INSERT INTO lots (id, tenant_id, member_id, source_partner_id, point_type, points, remaining,"
    "   earned_at, expires_at, accrual_id) OVERRIDING SYSTEM VALUE"
    "   SELECT lid, t, m, p, pt, pts, rem, occ,"
    "   CASE WHEN exp IS NOT NULL THEN 'epoch'::timestamptz + exp * interval '1 microsecond' END, aid"
    "   FROM x WHERE pts > 0 ORDER BY i),"
    " g AS (INSERT INTO ledger_entries (tenant_id, member_id, kind, points, source_partner_id, lot_id, ref, "
    "at)"
    "   SELECT t, m, 'accrual', pts, p, lid, 'accrual:' || aid, $4::timestamptz FROM x WHERE pts > 0"
    "   ORDER BY i),"
    " b AS (UPDATE member_balances mb SET debt = mb.debt - y.r, lifetime = mb.lifetime + y.p,"
    "   held = mb.held + y.p - y.r, updated_at = now()"
    "   FROM json_to_recordset($2::json) AS y(t bigint, m bigint, p bigint, r bigint)"
    "   WHERE mb.tenant_id = y.t AND mb.member_id = y.m),"
    " k AS (INSERT INTO idempotency_keys (tenant_id, scope, kind, client_id, request_hash, status, response)"
    "   SELECT y.t, y.s, 'accrual', y.c, y.h, y.st, y.r"
    "   FROM json_to_recordset($3::json) AS y(t bigint, s bigint, c text, h text, st smallint, r jsonb)"
    "   ORDER BY y.t, y.s, y.c)"
    " SELECT count(*) FROM x"};

}  // namespace unipoints::earning::store
