#pragma once
// SQL for tenants, partners, keys and policy. Named queries only; no rules here.

#include <optional>
#include <string>

#include "unipoints/db/database.hpp"

namespace unipoints::tenancy::store {

inline constexpr db::Query kTimeZoneExists{"tz_exists",
                                           "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)"};
inline constexpr db::Query kInsertTenant{
    "tenant_insert",
    "INSERT INTO tenants (code, name, currency, minor_units, time_zone) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (code) DO NOTHING"
    " RETURNING id, code, name, currency, minor_units, time_zone,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"};
inline constexpr db::Query kGetTenant{
    "tenant_get",
    "SELECT id, code, name, currency, minor_units, time_zone,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM tenants WHERE id = $1"};
inline constexpr db::Query kGetTenantByCode{
    "tenant_get_by_code",
    "SELECT id, code, name, currency, minor_units, time_zone,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM tenants WHERE code = $1"};

inline constexpr db::Query kInsertPartner{
    "partner_insert",
    "INSERT INTO partners (tenant_id, code, name, kind) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (tenant_id, code) DO NOTHING"
    " RETURNING id, code, name, kind, status, to_char(created_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"};
inline constexpr db::Query kListPartners{"partner_list",
                                         "SELECT id, code, name, kind, status, to_char(created_at AT TIME "
                                         "ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                                         " FROM partners WHERE tenant_id = $1 AND ($2::bigint IS NULL OR"
                                         " code > (SELECT c.code FROM partners c WHERE c.tenant_id = $1"
                                         " AND c.id = $2::bigint)) ORDER BY code LIMIT $3"};
inline constexpr db::Query kGetPartner{"partner_get",
                                       "SELECT id, code, name, kind, status, to_char(created_at AT TIME ZONE "
                                       "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                                       " FROM partners WHERE tenant_id = $1 AND code = $2"};

inline constexpr db::Query kInsertKey{
    "key_insert",
    "INSERT INTO api_keys (tenant_id, role, partner_id, label, key_hash, rate_per_second, rate_burst)"
    " VALUES ($1, $2, $3::bigint, $4, $5, $6::integer, $7::integer) RETURNING id"};
inline constexpr db::Query kSetKeyRate{
    "key_set_rate",
    "UPDATE api_keys SET rate_per_second = $3::integer, rate_burst = $4::integer"
    " WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING id"};
inline constexpr db::Query kRevokeKey{"key_revoke",
                                      "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE "
                                      "tenant_id = $1 AND id = $2 RETURNING id"};
inline constexpr db::Query kNotifyKeys{"keys_notify", "SELECT pg_notify('unipoints_keys', '')"};
inline constexpr db::Query kListKeys{
    "key_list",
    "SELECT k.id, k.role, p.code, k.label,"
    " to_char(k.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " to_char(k.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), k.rate_per_second, "
    "k.rate_burst"
    " FROM api_keys k LEFT JOIN partners p ON p.tenant_id = k.tenant_id AND p.id = k.partner_id"
    " WHERE k.tenant_id = $1 AND ($2::bigint IS NULL OR k.id > $2::bigint) ORDER BY k.id LIMIT $3"};
inline constexpr db::Query kAuthenticate{
    "key_authenticate",
    "SELECT k.id, k.role, k.partner_id, coalesce(p.code, ''), t.time_zone, t.currency, t.minor_units,"
    " coalesce(p.status, 'active'), k.rate_per_second, k.rate_burst"
    " FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
    " LEFT JOIN partners p ON p.tenant_id = k.tenant_id AND p.id = k.partner_id"
    " WHERE k.tenant_id = $1 AND k.key_hash = $2 AND k.revoked_at IS NULL"};

inline constexpr db::Query kUpsertPolicy{
    "policy_upsert",
    "INSERT INTO tenant_policies (tenant_id, expiry_kind, expiry_n, carry_over_percent, consumption, "
    "by_point_type, cancel_window_hours, adjustment_approval_threshold)"
    " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)"
    " ON CONFLICT (tenant_id) DO UPDATE SET expiry_kind = EXCLUDED.expiry_kind, expiry_n = EXCLUDED.expiry_n,"
    " carry_over_percent = EXCLUDED.carry_over_percent, consumption = EXCLUDED.consumption,"
    " by_point_type = EXCLUDED.by_point_type, cancel_window_hours = EXCLUDED.cancel_window_hours,"
    " adjustment_approval_threshold = EXCLUDED.adjustment_approval_threshold, updated_at = now()"};
inline constexpr db::Query kGetPolicy{
    "policy_get",
    "SELECT expiry_kind, expiry_n, carry_over_percent, consumption, by_point_type::text,"
    " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " cancel_window_hours, adjustment_approval_threshold"
    " FROM tenant_policies WHERE tenant_id = $1"};

}  // namespace unipoints::tenancy::store
