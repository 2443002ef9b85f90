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
    " ORDER BY s.code, f.code, a.effective_from"};
// The agreement in force for payer $2 → payee $3 at $4.
inline constexpr db::Query kAgreementInForce{
    "agreement_in_force",
    "SELECT a.id, to_char(a.price_per_point, 'FM9999999999999990.000000') FROM settlement_agreements a"
    " WHERE a.tenant_id = $1 AND a.payer_partner_id = $2 AND a.payee_partner_id = $3"
    " AND a.effective_from <= $4::timestamptz ORDER BY a.effective_from DESC LIMIT 1"};

}  // namespace unipoints::settlement::store
