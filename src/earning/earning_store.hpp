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
inline constexpr db::Query kListVersions{
    "earning_versions",
    "SELECT version, (extract(epoch FROM effective_from) * 1000000)::bigint, body::text,"
    " (extract(epoch FROM created_at) * 1000000)::bigint"
    " FROM earning_rule_versions WHERE tenant_id = $1 AND partner_id = $2"
    " AND ($3::int IS NULL OR version < $3::int) ORDER BY version DESC LIMIT $4"};

}  // namespace unipoints::earning::store
