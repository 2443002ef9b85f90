#pragma once
// SQL for settlement agreements.

#include "unipoints/db/database.hpp"

namespace unipoints::settlement::store {

inline constexpr db::Query kInsertAgreement{
    "agreement_insert",
    "INSERT INTO settlement_agreements (tenant_id, payer_partner_id, payee_partner_id, price_per_point, "
    "cycle,"
    " effective_from) VALUES ($1, $2, $3, $4::numeric, $5, $6::timestamptz)"
    " ON CONFLICT (tenant_id, payer_partner_id, payee_partner_id, effective_from) DO NOTHING RETURNING id"};
inline constexpr db::Query kListAgreements{
    "agreement_list",
    "SELECT a.id, s.code, f.code, to_char(a.price_per_point, 'FM9999999999999990.000000'), a.cycle,"
    " (extract(epoch FROM a.effective_from) * 1000000)::bigint, (extract(epoch FROM a.created_at) * "
    "1000000)::bigint"
    " FROM settlement_agreements a"
    " JOIN partners s ON s.tenant_id = a.tenant_id AND s.id = a.payer_partner_id"
    " JOIN partners f ON f.tenant_id = a.tenant_id AND f.id = a.payee_partner_id"
    " WHERE a.tenant_id = $1 AND ($2::bigint IS NULL OR a.payer_partner_id = $2::bigint OR"
    " a.payee_partner_id = $2::bigint)"
    // $3: the id of the previous page's last agreement (the order is by pair codes and start).
    " AND ($3::bigint IS NULL OR (s.code, f.code, a.effective_from) > (SELECT s2.code, f2.code, "
    "a2.effective_from"
    "   FROM settlement_agreements a2 JOIN partners s2 ON s2.tenant_id = a2.tenant_id AND s2.id = "
    "a2.payer_partner_id"
    "   JOIN partners f2 ON f2.tenant_id = a2.tenant_id AND f2.id = a2.payee_partner_id"
    "   WHERE a2.tenant_id = $1 AND a2.id = $3::bigint))"
    " ORDER BY s.code, f.code, a.effective_from LIMIT $4"};
// Agreement versions and finalization of a tenant's runs exclude each other (run_store's
// kLockAgreementsShared): a version may not take effect inside a period that is final.
inline constexpr db::Query kLockAgreementsExclusive{
    "agreement_lock", "SELECT pg_advisory_xact_lock($1, hashtext('settlement_agreements'))"};
// The tenant's latest final period and the instant it ends (unix µs), if any.
inline constexpr db::Query kLatestFinalEnd{
    "agreement_latest_final_end",
    "SELECT r.period, (extract(epoch FROM (make_timestamptz(split_part(r.period, '-', 1)::int,"
    " split_part(r.period, '-', 2)::int, 1, 0, 0, 0, t.time_zone) AT TIME ZONE t.time_zone + interval '1 "
    "month')"
    " AT TIME ZONE t.time_zone) * 1000000)::bigint"
    " FROM settlement_runs r JOIN tenants t ON t.id = r.tenant_id"
    " WHERE r.tenant_id = $1 AND r.status = 'final' ORDER BY r.period DESC LIMIT 1"};
// The agreement in force for payer $2 → payee $3 at $4.
inline constexpr db::Query kAgreementInForce{
    "agreement_in_force",
    "SELECT a.id, to_char(a.price_per_point, 'FM9999999999999990.000000') FROM settlement_agreements a"
    " WHERE a.tenant_id = $1 AND a.payer_partner_id = $2 AND a.payee_partner_id = $3"
    " AND a.effective_from <= $4::timestamptz ORDER BY a.effective_from DESC LIMIT 1"};

}  // namespace unipoints::settlement::store
