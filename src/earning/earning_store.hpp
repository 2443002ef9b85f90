#pragma once
// SQL for earning-rule versions and accruals.

#include "unipoints/db/database.hpp"

namespace unipoints::earning::store {

inline constexpr db::Query kLockPartner{"earning_lock_partner",
                                        "SELECT 1 FROM partners WHERE tenant_id = $1 AND id = $2 FOR UPDATE"};
inline constexpr db::Query kInsertVersion{
    "earning_version_insert",
    "INSERT INTO earning_rule_versions (tenant_id, partner_id, version, effective_from, body)"
    " SELECT $1, $2, coalesce(max(version), 0) + 1, $3::timestamptz, $4::jsonb"
    " FROM earning_rule_versions WHERE tenant_id = $1 AND partner_id = $2"
    " RETURNING version"};
inline constexpr db::Query kVersionAt{
    "earning_version_at",
    "SELECT version, body::text FROM earning_rule_versions"
    " WHERE tenant_id = $1 AND partner_id = $2 AND effective_from <= $3::timestamptz"
    " ORDER BY effective_from DESC, version DESC LIMIT 1"};
inline constexpr db::Query kListVersions{
    "earning_versions",
    "SELECT version, (extract(epoch FROM effective_from) * 1000000)::bigint, body::text,"
    " (extract(epoch FROM created_at) * 1000000)::bigint"
    " FROM earning_rule_versions WHERE tenant_id = $1 AND partner_id = $2 ORDER BY version DESC LIMIT 100"};
inline constexpr db::Query kInsertAccrual{
    "accrual_insert",
    "INSERT INTO accruals (tenant_id, partner_id, event_id, member_id, card_no, category, amount_minor, "
    "points,"
    " point_type, rule_version, multiplier, occurred_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7::bigint, $8, $9, $10::integer, $11::numeric, $12::timestamptz)"
    " RETURNING id"};

}  // namespace unipoints::earning::store
