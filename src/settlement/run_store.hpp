#pragma once
// SQL for settlement runs.

#include "unipoints/db/database.hpp"

namespace unipoints::settlement::store {

// Serialises runs of one tenant and period across server processes.
inline constexpr db::Query kLockPeriod{"run_lock_period", "SELECT pg_advisory_xact_lock($1, hashtext($2))"};
// [start, end) of a month in the tenant's time zone, as unix microseconds.
inline constexpr db::Query kPeriodBounds{
    "run_period_bounds",
    "SELECT (extract(epoch FROM make_timestamptz($2, $3, 1, 0, 0, 0, t.time_zone)) * 1000000)::bigint,"
    " (extract(epoch FROM (make_timestamptz($2, $3, 1, 0, 0, 0, t.time_zone) AT TIME ZONE t.time_zone"
    "   + interval '1 month') AT TIME ZONE t.time_zone) * 1000000)::bigint,"
    " t.currency, t.minor_units, t.code, t.name"
    " FROM tenants t WHERE t.id = $1"};
// Cross lines booked in [start, end), per ordered pair and the price in force when booked. Each
// agreement version is valid from its effective_from until the next version's, so the lines join
// the versions by range in one set-based pass (no per-line lookup).
inline constexpr db::Query kPeriodPairs{
    "run_period_pairs",
    "WITH ag AS (SELECT payer_partner_id, payee_partner_id, price_per_point, effective_from,"
    "   lead(effective_from) OVER (PARTITION BY payer_partner_id, payee_partner_id ORDER BY effective_from) "
    "AS until"
    "   FROM settlement_agreements WHERE tenant_id = $1),"
    " l AS (SELECT source_partner_id, fulfiller_partner_id, booked_at, points FROM settlement_lines"
    "   WHERE tenant_id = $1 AND booked_at >= 'epoch'::timestamptz + $2::bigint * interval '1 microsecond'"
    "   AND booked_at < 'epoch'::timestamptz + $3::bigint * interval '1 microsecond'"
    "   AND source_partner_id <> fulfiller_partner_id),"
    " priced AS (SELECT l.source_partner_id, l.fulfiller_partner_id, ag.price_per_point, sum(l.points) AS "
    "points"
    "   FROM l LEFT JOIN ag ON ag.payer_partner_id = l.source_partner_id"
    "   AND ag.payee_partner_id = l.fulfiller_partner_id AND l.booked_at >= ag.effective_from"
    "   AND (ag.until IS NULL OR l.booked_at < ag.until)"
    "   GROUP BY l.source_partner_id, l.fulfiller_partner_id, ag.price_per_point)"
    " SELECT s.code, f.code, priced.points::bigint,"
    " coalesce(to_char(priced.price_per_point, 'FM9999999999999990.000000'), '') FROM priced"
    " JOIN partners s ON s.tenant_id = $1 AND s.id = priced.source_partner_id"
    " JOIN partners f ON f.tenant_id = $1 AND f.id = priced.fulfiller_partner_id"
    " ORDER BY s.code, f.code, priced.price_per_point"};
inline constexpr db::Query kPeriodCancellations{
    "run_period_cancellations",
    "SELECT s.code, f.code, coalesce(sum(-l.points), 0)::bigint FROM settlement_lines l"
    " JOIN partners s ON s.tenant_id = l.tenant_id AND s.id = l.source_partner_id"
    " JOIN partners f ON f.tenant_id = l.tenant_id AND f.id = l.fulfiller_partner_id"
    " WHERE l.tenant_id = $1 AND l.kind = 'cancellation'"
    " AND l.booked_at >= 'epoch'::timestamptz + $2::bigint * interval '1 microsecond'"
    " AND l.booked_at < 'epoch'::timestamptz + $3::bigint * interval '1 microsecond'"
    " AND l.source_partner_id <> l.fulfiller_partner_id GROUP BY s.code, f.code ORDER BY s.code, f.code"};
// Cancellations booked in [start, end) of cross redemptions made before the period: late events
// for earlier (possibly final) periods, netted here and shown as prior-period adjustments.
inline constexpr db::Query kPriorPeriodAdjustments{
    "run_prior_period_adjustments",
    "SELECT l.redemption_id, to_char(d.created_at AT TIME ZONE t.time_zone, 'YYYY-MM'), s.code, f.code,"
    " l.points FROM settlement_lines l"
    " JOIN redemptions d ON d.tenant_id = l.tenant_id AND d.id = l.redemption_id"
    " JOIN tenants t ON t.id = l.tenant_id"
    " JOIN partners s ON s.tenant_id = l.tenant_id AND s.id = l.source_partner_id"
    " JOIN partners f ON f.tenant_id = l.tenant_id AND f.id = l.fulfiller_partner_id"
    " WHERE l.tenant_id = $1 AND l.kind = 'cancellation'"
    " AND l.booked_at >= 'epoch'::timestamptz + $2::bigint * interval '1 microsecond'"
    " AND l.booked_at < 'epoch'::timestamptz + $3::bigint * interval '1 microsecond'"
    " AND d.created_at < 'epoch'::timestamptz + $2::bigint * interval '1 microsecond'"
    " AND l.source_partner_id <> l.fulfiller_partner_id ORDER BY l.redemption_id, s.code"};
// Tenants whose previous month (in their time zone, as of $1) has no run yet: the scheduler's due
// settlement drafts, including any missed while no server ran.
inline constexpr db::Query kDueDrafts{
    "run_due_drafts",
    "SELECT t.id, p.period FROM tenants t,"
    " LATERAL (SELECT to_char(($1::timestamptz AT TIME ZONE t.time_zone) - interval '1 month', 'YYYY-MM')"
    "   AS period) p"
    " WHERE NOT EXISTS (SELECT 1 FROM settlement_runs r WHERE r.tenant_id = t.id AND r.period = p.period)"
    " ORDER BY t.id"};
inline constexpr db::Query kPartnerCodes{"run_partner_codes",
                                         "SELECT code FROM partners WHERE tenant_id = $1 ORDER BY code"};
inline constexpr db::Query kGetRun{
    "run_get",
    "SELECT status, content_text, content_hash, previous_hash FROM settlement_runs"
    " WHERE tenant_id = $1 AND period = $2"};
inline constexpr db::Query kLockRun{
    "run_lock",
    "SELECT status, content_text, content_hash, previous_hash FROM settlement_runs"
    " WHERE tenant_id = $1 AND period = $2 FOR UPDATE"};
inline constexpr db::Query kPreviousFinalHash{
    "run_previous_final_hash",
    "SELECT content_hash FROM settlement_runs WHERE tenant_id = $1 AND status = 'final' AND period < $2"
    " ORDER BY period DESC LIMIT 1"};
inline constexpr db::Query kUpsertDraft{
    "run_upsert_draft",
    "INSERT INTO settlement_runs (tenant_id, period, status, content, content_text, content_hash, "
    "previous_hash)"
    " VALUES ($1, $2, 'draft', $3::jsonb, $3, $4, $5)"
    " ON CONFLICT (tenant_id, period) DO UPDATE SET content = EXCLUDED.content, content_text = "
    "EXCLUDED.content_text,"
    " content_hash = EXCLUDED.content_hash, previous_hash = EXCLUDED.previous_hash, computed_at = now()"
    " WHERE settlement_runs.status = 'draft'"};
inline constexpr db::Query kFinalize{
    "run_finalize",
    "UPDATE settlement_runs SET status = 'final', content = $3::jsonb, content_text = $3, content_hash = $4,"
    " previous_hash = $5, finalized_at = now() WHERE tenant_id = $1 AND period = $2 AND status = 'draft'"};

}  // namespace unipoints::settlement::store
