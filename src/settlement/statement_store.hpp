#pragma once
// SQL for partner statements, their acknowledgements or disputes, and reconciliation.

#include "unipoints/db/database.hpp"

namespace unipoints::settlement::statement_store {

inline constexpr db::Query kRun{
    "statement_run",
    "SELECT status, content_text, content_hash FROM settlement_runs WHERE tenant_id = $1 AND period = $2"};
inline constexpr db::Query kPartner{"statement_partner",
                                    "SELECT id, name FROM partners WHERE tenant_id = $1 AND code = $2"};
inline constexpr db::Query kPartnerNames{"statement_partner_names",
                                         "SELECT code, name FROM partners WHERE tenant_id = $1"};
inline constexpr db::Query kTenantName{"statement_tenant_name", "SELECT name FROM tenants WHERE id = $1"};
// Cross lines of the partner booked in [$2, $3) (the run's bounds, RFC 3339), oldest first.
inline constexpr db::Query kDetail{
    "statement_detail",
    "SELECT l.redemption_id, (extract(epoch FROM l.booked_at) * 1000000)::bigint, l.kind, s.code, f.code,"
    " l.points FROM period_settlement_lines($1, $2) l"
    " JOIN partners s ON s.tenant_id = $1 AND s.id = l.source_partner_id"
    " JOIN partners f ON f.tenant_id = $1 AND f.id = l.fulfiller_partner_id"
    " WHERE (l.source_partner_id = $3 OR l.fulfiller_partner_id = $3)"
    " AND l.source_partner_id <> l.fulfiller_partner_id ORDER BY l.booked_at, l.id"};
inline constexpr db::Query kResponse{
    "statement_response",
    "SELECT status, reason, (extract(epoch FROM at) * 1000000)::bigint FROM statement_responses"
    " WHERE tenant_id = $1 AND period = $2 AND partner_id = $3"};
inline constexpr db::Query kInsertResponse{
    "statement_insert_response",
    "INSERT INTO statement_responses (tenant_id, period, partner_id, status, reason, at)"
    " VALUES ($1, $2, $3, $4, $5, 'epoch'::timestamptz + $6::bigint * interval '1 microsecond')"
    " ON CONFLICT (tenant_id, period, partner_id) DO NOTHING"};
// Net points per redemption of the partner's cross lines booked in the month ($2 year, $3 month)
// of the tenant's time zone.
inline constexpr db::Query kReconcileServer{
    "statement_reconcile_server",
    "SELECT l.redemption_id, sum(l.points)::bigint FROM period_settlement_lines($1, $2) l"
    " WHERE (l.source_partner_id = $3 OR l.fulfiller_partner_id = $3)"
    " AND l.source_partner_id <> l.fulfiller_partner_id GROUP BY l.redemption_id ORDER BY l.redemption_id"};

}  // namespace unipoints::settlement::statement_store
