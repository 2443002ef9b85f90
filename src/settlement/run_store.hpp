#pragma once
// SQL for settlement runs.

#include "unipoints/db/database.hpp"

namespace unipoints::settlement::store {

// Serialises runs of one tenant and period across server processes.
inline constexpr db::Query kLockPeriod{"run_lock_period", "SELECT pg_advisory_xact_lock($1, hashtext($2))"};
// Held while finalizing: no agreement version is added meanwhile (agreement_store's exclusive lock).
inline constexpr db::Query kLockAgreementsShared{
    "run_lock_agreements", "SELECT pg_advisory_xact_lock_shared($1, hashtext('settlement_agreements'))"};
// [start, end) of a month in the tenant's time zone, as unix microseconds.
inline constexpr db::Query kPeriodBounds{
    "run_period_bounds",
    "SELECT (extract(epoch FROM make_timestamptz($2, $3, 1, 0, 0, 0, t.time_zone)) * 1000000)::bigint,"
    " (extract(epoch FROM (make_timestamptz($2, $3, 1, 0, 0, 0, t.time_zone) AT TIME ZONE t.time_zone"
    "   + interval '1 month') AT TIME ZONE t.time_zone) * 1000000)::bigint,"
    " t.currency, t.minor_units, t.code, t.name"
    " FROM tenants t WHERE t.id = $1"};
// The period's cross lines (period_settlement_lines applies each pair's cycle and the agreement
// version in force when booked), per ordered pair and price.
inline constexpr db::Query kPeriodPairs{
    "run_period_pairs",
    "SELECT s.code, f.code, sum(l.points)::bigint,"
    " coalesce(to_char(l.price_per_point, 'FM9999999999999990.000000'), '')"
    " FROM period_settlement_lines($1, $2) l"
    " JOIN partners s ON s.tenant_id = $1 AND s.id = l.source_partner_id"
    " JOIN partners f ON f.tenant_id = $1 AND f.id = l.fulfiller_partner_id"
    " WHERE l.source_partner_id <> l.fulfiller_partner_id"
    " GROUP BY s.code, f.code, l.price_per_point ORDER BY s.code, f.code, l.price_per_point"};
inline constexpr db::Query kPeriodCancellations{
    "run_period_cancellations",
    "SELECT s.code, f.code, coalesce(sum(-l.points), 0)::bigint FROM period_settlement_lines($1, $2) l"
    " JOIN partners s ON s.tenant_id = $1 AND s.id = l.source_partner_id"
    " JOIN partners f ON f.tenant_id = $1 AND f.id = l.fulfiller_partner_id"
    " WHERE l.kind = 'cancellation' AND l.source_partner_id <> l.fulfiller_partner_id"
    " GROUP BY s.code, f.code ORDER BY s.code, f.code"};
// Cancellations booked in [start, end) of cross redemptions made before the period: late events
// for earlier (possibly final) periods, netted here and shown as prior-period adjustments.
inline constexpr db::Query kPriorPeriodAdjustments{
    "run_prior_period_adjustments",
    "SELECT l.redemption_id, to_char(d.created_at AT TIME ZONE t.time_zone, 'YYYY-MM'), s.code, f.code,"
    " l.points FROM period_settlement_lines($1, $2) l"
    " JOIN redemptions d ON d.tenant_id = $1 AND d.id = l.redemption_id"
    " JOIN tenants t ON t.id = $1"
    " JOIN partners s ON s.tenant_id = $1 AND s.id = l.source_partner_id"
    " JOIN partners f ON f.tenant_id = $1 AND f.id = l.fulfiller_partner_id"
    " WHERE l.kind = 'cancellation' AND l.source_partner_id <> l.fulfiller_partner_id"
    " AND d.created_at < 'epoch'::timestamptz + $3::bigint * interval '1 microsecond'"
    " ORDER BY l.redemption_id, s.code"};
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
