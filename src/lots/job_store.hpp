#pragma once
// SQL for the time jobs: expiry in chunks, the set-based re-grade, tier schemes and job records.

#include "unipoints/db/database.hpp"

namespace unipoints::lots::store {

inline constexpr db::Query kJobStart{
    "job_start",
    "INSERT INTO job_runs (tenant_id, kind, trigger, as_of, status, started_at)"
    " VALUES ($1, $2, $3, $4::timestamptz, 'running', $5::timestamptz) RETURNING id"};
inline constexpr db::Query kJobFinish{
    "job_finish",
    "UPDATE job_runs SET status = $3, counts = $4::jsonb, error = $5, finished_at = $6::timestamptz"
    " WHERE tenant_id = $1 AND id = $2"};
// Runs left 'running' by a process that died; called by whoever holds the tenant's job lock.
inline constexpr db::Query kJobAbandon{
    "job_abandon",
    "UPDATE job_runs SET status = 'failed', error = 'interrupted: the process running it stopped',"
    " finished_at = $3::timestamptz WHERE tenant_id = $1 AND kind = $2 AND status = 'running'"};
#define UNIPOINTS_JOB_COLUMNS                                                                      \
  "id, kind, trigger, (extract(epoch FROM as_of) * 1000000)::bigint, status, counts::text, error," \
  " (extract(epoch FROM started_at) * 1000000)::bigint, (extract(epoch FROM finished_at) * 1000000)::bigint"
inline constexpr db::Query kJobGet{
    "job_get", "SELECT " UNIPOINTS_JOB_COLUMNS " FROM job_runs WHERE tenant_id = $1 AND id = $2"};
inline constexpr db::Query kJobList{"job_list",
                                    "SELECT " UNIPOINTS_JOB_COLUMNS
                                    " FROM job_runs WHERE tenant_id = $1"
                                    " AND ($2::text IS NULL OR kind = $2) AND ($3::bigint IS NULL OR id < $3)"
                                    " ORDER BY id DESC LIMIT $4"};
#undef UNIPOINTS_JOB_COLUMNS

inline constexpr db::Query kMemberIdRange{
    "member_id_range", "SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM members WHERE tenant_id = $1"};
inline constexpr db::Query kTenantsWithDueLots{
    "tenants_due_lots",
    "SELECT t.id FROM tenants t WHERE EXISTS (SELECT 1 FROM lots l WHERE l.tenant_id = t.id"
    " AND l.live AND l.expires_at IS NOT NULL AND l.expires_at <= $1::timestamptz) ORDER BY t.id"};

// One chunk of the expiry job, set-based: locks up to $3 lots of tenant $1 that still hold points
// and whose expiry instant is at or before $2, in (expires_at, id) order after the previous chunk's
// last key ($5, $6; '-infinity', 0 for the first chunk) so that every chunk seeks straight to its
// work (a plain row comparison: the index scan starts there). A lot
// a redemption holds is waited for and re-read, so points it took are not expired and points it
// left are. Empties the lots, books one expiry entry per lot and, under a carry-over policy, a new
// lot with floor(remaining x percent / 100) points expiring at the next boundary (calendar years:
// a year later; months: n months later, in tenant time) and its carry_over entry, unless that
// boundary is also past; a carried lot never carries over again. Ledger entries are dated $4 (the booking
// instant). Moves each member's held total once. Only members with $7 <= member_id < $8: workers share the
// run by member range. Answers the chunk's totals per source partner, then a trailer row (code NULL) with the
// number of candidate lots walked and the last key.
inline constexpr db::Query kExpireChunk{
    "expire_chunk",
    "WITH pol AS ("
    "  SELECT coalesce(p.carry_over_percent, 0) AS pct, p.expiry_kind, p.expiry_n, p.by_point_type,"
    "         t.time_zone AS tz"
    "  FROM tenants t LEFT JOIN tenant_policies p ON p.tenant_id = t.id WHERE t.id = $1),"
    " cand AS ("
    "  SELECT l.id, l.member_id, l.expires_at FROM lots l"
    "  WHERE l.tenant_id = $1 AND l.live AND l.expires_at IS NOT NULL"
    "    AND l.expires_at <= $2::timestamptz"
    "    AND (l.expires_at, l.id) > ($5::timestamptz, $6::bigint)"
    "    AND l.member_id >= $7 AND l.member_id < $8"
    "  ORDER BY l.expires_at, l.id LIMIT $3),"
    // The members first, in id order: the lock order of every point movement (member, then its
    // lots, then its balance), so the job and accruals or redemptions wait, never deadlock.
    " locked AS ("
    "  SELECT m.id FROM members m WHERE m.tenant_id = $1 AND m.id IN (SELECT member_id FROM cand)"
    "  ORDER BY m.id FOR UPDATE),"
    // (The count is evaluated once, before the lots are read: their members are locked first.)
    " due AS ("
    "  SELECT l.id, l.member_id, l.source_partner_id, l.point_type, l.remaining, l.expires_at, l.carried_from"
    "  FROM cand c JOIN lots l ON l.tenant_id = $1 AND l.id = c.id"
    "  WHERE l.live AND (SELECT count(*) FROM locked) > 0"
    "  FOR UPDATE OF l),"
    " emptied AS ("
    "  UPDATE lots l SET remaining = 0 FROM due WHERE l.tenant_id = $1 AND l.id = due.id RETURNING l.id),"
    " plan0 AS ("
    "  SELECT due.*,"
    "    CASE WHEN due.carried_from IS NULL THEN due.remaining * pol.pct / 100 ELSE 0 END AS carry_share,"
    "    CASE coalesce(pol.by_point_type -> due.point_type ->> 'kind', pol.expiry_kind)"
    "      WHEN 'never' THEN NULL"
    "      WHEN 'months' THEN ((due.expires_at AT TIME ZONE pol.tz) + make_interval(months =>"
    "        coalesce((pol.by_point_type -> due.point_type ->> 'n')::int, pol.expiry_n))) AT TIME ZONE pol.tz"
    "      ELSE ((due.expires_at AT TIME ZONE pol.tz) + interval '1 year') AT TIME ZONE pol.tz"
    "    END AS carry_expires_at"
    "  FROM due CROSS JOIN pol),"
    // A carry lot that would itself have expired by $2 (a lot expired more than a period before the
    // run: a late accrual, a job that did not run) is not made: its points expired with it.
    " plan AS ("
    "  SELECT plan0.*, CASE WHEN carry_expires_at IS NULL OR carry_expires_at > $2::timestamptz"
    "    THEN carry_share ELSE 0 END AS carried FROM plan0),"
    " carried_lots AS ("
    "  INSERT INTO lots (tenant_id, member_id, source_partner_id, point_type, points, remaining, earned_at,"
    "                    expires_at, carried_from)"
    "  SELECT $1, member_id, source_partner_id, point_type, carried, carried, expires_at, carry_expires_at, "
    "id"
    "  FROM plan WHERE carried > 0 ORDER BY member_id, id"
    "  RETURNING id, member_id, source_partner_id, points, carried_from),"
    " entries AS ("
    "  INSERT INTO ledger_entries (tenant_id, member_id, at, kind, points, source_partner_id, lot_id, ref)"
    "  SELECT $1, e.member_id, $4::timestamptz, e.kind, e.points, e.source_partner_id, e.lot_id, e.ref FROM ("
    "    SELECT member_id, id AS origin, 1 AS n, 'expiry' AS kind, -remaining AS points, source_partner_id,"
    "           id AS lot_id, 'lot:' || id AS ref FROM plan"
    "    UNION ALL"
    "    SELECT member_id, carried_from, 2, 'carry_over', points, source_partner_id, id, 'lot:' || "
    "carried_from"
    "    FROM carried_lots) e"
    "  ORDER BY e.member_id, e.origin, e.n RETURNING seq),"
    " held AS ("
    "  UPDATE member_balances b SET held = b.held - x.expired + x.carried, updated_at = now()"
    "  FROM (SELECT member_id, sum(remaining) AS expired, sum(carried) AS carried FROM plan"
    "        GROUP BY member_id) x"
    "  WHERE b.tenant_id = $1 AND b.member_id = x.member_id RETURNING b.member_id)"
    " SELECT p.code, count(*), sum(x.remaining)::bigint, sum(x.carried)::bigint,"
    "   count(*) FILTER (WHERE x.carried > 0), NULL, NULL"
    " FROM plan x JOIN partners p ON p.tenant_id = $1 AND p.id = x.source_partner_id GROUP BY p.code"
    // The trailer: how many candidates the chunk walked and the last key, for the next chunk.
    " UNION ALL"
    " SELECT NULL, (SELECT count(*) FROM cand), 0, 0, 0,"
    "   (SELECT to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM cand"
    "    ORDER BY expires_at DESC, id DESC LIMIT 1),"
    "   (SELECT id::text FROM cand ORDER BY expires_at DESC, id DESC LIMIT 1)"};

// Expired and carried-over points booked in [$2, $3) per source partner: the period's breakage.
inline constexpr db::Query kBreakage{
    "breakage_between",
    "SELECT p.code, coalesce(sum(-e.points) FILTER (WHERE e.kind = 'expiry'), 0)::bigint,"
    " coalesce(sum(e.points) FILTER (WHERE e.kind = 'carry_over'), 0)::bigint"
    " FROM ledger_entries e JOIN partners p ON p.tenant_id = e.tenant_id AND p.id = e.source_partner_id"
    " WHERE e.tenant_id = $1 AND e.kind IN ('expiry', 'carry_over')"
    " AND e.at >= $2::timestamptz AND e.at < $3::timestamptz"
    " GROUP BY p.code ORDER BY p.code"};

}  // namespace unipoints::lots::store

namespace unipoints::lots::store {

inline constexpr db::Query kTiersUpsert{
    "tiers_upsert",
    "INSERT INTO tier_policies (tenant_id, window_months, cadence, levels, updated_at)"
    " VALUES ($1, $2, $3, $4::jsonb, $5::timestamptz) ON CONFLICT (tenant_id) DO UPDATE SET"
    " window_months = EXCLUDED.window_months, cadence = EXCLUDED.cadence, levels = EXCLUDED.levels,"
    " updated_at = EXCLUDED.updated_at"};
inline constexpr db::Query kTiersGet{
    "tiers_get",
    "SELECT window_months, cadence, levels::text, (extract(epoch FROM updated_at) * 1000000)::bigint"
    " FROM tier_policies WHERE tenant_id = $1"};
inline constexpr db::Query kLastRegrade{
    "regrade_last",
    "SELECT (extract(epoch FROM max(as_of)) * 1000000)::bigint FROM job_runs"
    " WHERE tenant_id = $1 AND kind = 'regrade' AND status = 'done'"};
// Claims a scheduled boundary: no row when another process already graded it.
inline constexpr db::Query kRegradeClaim{
    "regrade_claim",
    "INSERT INTO job_runs (tenant_id, kind, trigger, as_of, status, started_at)"
    " VALUES ($1, 'regrade', 'schedule', $2::timestamptz, 'running', $3::timestamptz)"
    " ON CONFLICT (tenant_id, as_of) WHERE kind = 'regrade' AND trigger = 'schedule' DO NOTHING RETURNING "
    "id"};

// The whole re-grade in one statement: qualifying points = points of the accruals that occurred in
// [as_of - window_months, as_of) (tenant time) less what was reversed of them; each member that is
// not terminated gets the highest level whose min_points it reaches; changed members get the new
// tier from $2 and one history row (job $3). Answers one row per level: members now in it, how
// many moved up into it and how many moved down into it.
inline constexpr db::Query kRegrade{
    "regrade",
    "WITH cfg AS ("
    "  SELECT tp.window_months, tp.levels, t.time_zone AS tz FROM tier_policies tp"
    "  JOIN tenants t ON t.id = tp.tenant_id WHERE tp.tenant_id = $1),"
    " win AS (SELECT ((($2::timestamptz AT TIME ZONE cfg.tz) - make_interval(months => cfg.window_months))"
    "          AT TIME ZONE cfg.tz) AS s FROM cfg),"
    " lv AS (SELECT l.value ->> 'code' AS code, (l.value ->> 'min_points')::bigint AS min_points,"
    "          l.ordinality AS rank,"
    "          lead((l.value ->> 'min_points')::bigint) OVER (ORDER BY l.ordinality) AS next_min"
    "        FROM cfg, jsonb_array_elements(cfg.levels) WITH ORDINALITY l),"
    " earned AS ("
    "  SELECT a.member_id, sum(a.points - coalesce(r.points, 0)) AS pts"
    "  FROM accruals a CROSS JOIN win"
    "  LEFT JOIN (SELECT accrual_id, sum(points) AS points FROM reversals WHERE tenant_id = $1"
    "             GROUP BY accrual_id) r ON r.accrual_id = a.id"
    "  WHERE a.tenant_id = $1 AND a.occurred_at >= win.s AND a.occurred_at < $2::timestamptz"
    "  GROUP BY a.member_id),"
    " graded AS ("
    "  SELECT m.id, m.tier AS old_tier, coalesce(e.pts, 0) AS pts, lv.code AS new_tier, lv.rank AS new_rank,"
    "         old.rank AS old_rank"
    "  FROM members m LEFT JOIN earned e ON e.member_id = m.id"
    "  JOIN lv ON coalesce(e.pts, 0) >= lv.min_points AND (lv.next_min IS NULL OR coalesce(e.pts, 0) < "
    "lv.next_min)"
    "  LEFT JOIN lv old ON old.code = m.tier"
    "  WHERE m.tenant_id = $1 AND m.status <> 'terminated'),"
    " changed AS ("
    "  UPDATE members m SET tier = g.new_tier, tier_since = $2::timestamptz FROM graded g"
    "  WHERE m.tenant_id = $1 AND m.id = g.id AND m.tier <> g.new_tier"
    "  RETURNING m.id, g.old_tier, g.new_tier, g.pts, g.new_rank, g.old_rank),"
    " history AS ("
    "  INSERT INTO member_tier_history (tenant_id, member_id, at, from_tier, to_tier, qualifying_points,"
    "                                   job_run_id)"
    "  SELECT $1, id, $2::timestamptz, old_tier, new_tier, pts, $3 FROM changed ORDER BY id RETURNING id)"
    " SELECT lv.code, (SELECT count(*) FROM graded g WHERE g.new_tier = lv.code),"
    "   (SELECT count(*) FROM changed c WHERE c.new_tier = lv.code AND c.new_rank > coalesce(c.old_rank, 0)),"
    "   (SELECT count(*) FROM changed c WHERE c.new_tier = lv.code AND c.new_rank < coalesce(c.old_rank, 0)),"
    "   (SELECT count(*) FROM history)"
    " FROM lv ORDER BY lv.rank"};

// Cadence boundaries (1 January, or the first of each quarter, at local midnight) in
// (scheme updated_at, $1] not yet graded on schedule and later than every re-grade so far, per tenant,
// oldest first.
inline constexpr db::Query kDueRegrades{
    "regrades_due",
    "SELECT tp.tenant_id, (extract(epoch FROM b.at) * 1000000)::bigint"
    " FROM tier_policies tp JOIN tenants t ON t.id = tp.tenant_id,"
    " LATERAL (SELECT gs AT TIME ZONE t.time_zone AS at FROM generate_series("
    "   date_trunc(CASE tp.cadence WHEN 'yearly' THEN 'year' ELSE 'quarter' END,"
    "              tp.updated_at AT TIME ZONE t.time_zone),"
    "   $1::timestamptz AT TIME ZONE t.time_zone,"
    "   CASE tp.cadence WHEN 'yearly' THEN interval '1 year' ELSE interval '3 months' END) gs) b"
    " WHERE b.at > tp.updated_at AND b.at <= $1::timestamptz"
    " AND b.at > coalesce((SELECT max(j.as_of) FROM job_runs j WHERE j.tenant_id = tp.tenant_id"
    "                      AND j.kind = 'regrade' AND j.status = 'done'), '-infinity'::timestamptz)"
    " ORDER BY tp.tenant_id, b.at"};

inline constexpr db::Query kTierHistory{
    "tier_history",
    "SELECT h.id, (extract(epoch FROM h.at) * 1000000)::bigint, h.from_tier, h.to_tier, h.qualifying_points,"
    " h.job_run_id FROM member_tier_history h WHERE h.tenant_id = $1 AND h.member_id = $2"
    " AND ($3::bigint IS NULL OR h.id < $3::bigint) ORDER BY h.id DESC LIMIT $4"};
inline constexpr db::Query kMemberTier{
    "member_tier",
    "SELECT tier, (extract(epoch FROM tier_since) * 1000000)::bigint FROM members"
    " WHERE tenant_id = $1 AND id = $2"};

}  // namespace unipoints::lots::store
