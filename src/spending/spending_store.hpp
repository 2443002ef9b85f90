#pragma once
// SQL for rewards, redemptions, their cancellations and settlement lines.

#include "unipoints/db/database.hpp"

namespace unipoints::spending::store {

#define UP_REWARD_COLUMNS                                              \
  "r.id, r.code, p.code, r.name, r.price::text, r.stock,"              \
  " (extract(epoch FROM r.available_from) * 1000000)::bigint,"         \
  " (extract(epoch FROM r.available_to) * 1000000)::bigint, r.status," \
  " (extract(epoch FROM r.created_at) * 1000000)::bigint, r.partner_id"

inline constexpr db::Query kInsertReward{
    "reward_insert",
    "INSERT INTO rewards (tenant_id, code, partner_id, name, price, stock, available_from, available_to)"
    " VALUES ($1, $2, $3, $4, $5::jsonb, $6::bigint, $7::timestamptz, $8::timestamptz)"
    " ON CONFLICT (tenant_id, code) DO NOTHING RETURNING id"};
inline constexpr db::Query kGetReward{
    "reward_get", "SELECT " UP_REWARD_COLUMNS
                  " FROM rewards r JOIN partners p ON p.tenant_id = r.tenant_id AND p.id = r.partner_id"
                  " WHERE r.tenant_id = $1 AND r.code = $2"};
inline constexpr db::Query kLockReward{
    "reward_lock", "SELECT " UP_REWARD_COLUMNS
                   " FROM rewards r JOIN partners p ON p.tenant_id = r.tenant_id AND p.id = r.partner_id"
                   " WHERE r.tenant_id = $1 AND r.code = $2 FOR UPDATE OF r"};
inline constexpr db::Query kListRewards{
    "reward_list", "SELECT " UP_REWARD_COLUMNS
                   " FROM rewards r JOIN partners p ON p.tenant_id = r.tenant_id AND p.id = r.partner_id"
                   " WHERE r.tenant_id = $1 AND ($2::bigint IS NULL OR r.id > $2::bigint)"
                   " AND ($3::bigint IS NULL OR r.partner_id = $3::bigint) ORDER BY r.id LIMIT $4"};
inline constexpr db::Query kUpdateReward{
    "reward_update",
    "UPDATE rewards SET name = $3, stock = $4::bigint, available_from = $5::timestamptz,"
    " available_to = $6::timestamptz, status = $7 WHERE tenant_id = $1 AND id = $2"};
// Takes `$3` from a limited stock; no row when the stock is short (or no longer limited).
inline constexpr db::Query kTakeStock{
    "reward_take_stock",
    "UPDATE rewards SET stock = stock - $3 WHERE tenant_id = $1 AND id = $2 AND stock IS NOT NULL"
    " AND stock >= $3 RETURNING stock"};
inline constexpr db::Query kMoveStock{
    "reward_move_stock",
    "UPDATE rewards SET stock = stock + $3 WHERE tenant_id = $1 AND id = $2 AND stock IS NOT NULL"};
inline constexpr db::Query kPartnerCodes{"partner_codes",
                                         "SELECT code, id FROM partners WHERE tenant_id = $1"};

inline constexpr db::Query kInsertRedemption{
    "redemption_insert",
    "INSERT INTO redemptions (tenant_id, member_id, reward_id, fulfiller_partner_id, quantity, option_index, "
    "points,"
    " card_no, requested_by_key, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6::integer, $7, $8, $9, $10::timestamptz) RETURNING id"};
inline constexpr db::Query kLockRedemption{
    "redemption_lock",
    "SELECT d.id, d.member_id, d.reward_id, d.fulfiller_partner_id, d.quantity, d.points, d.status,"
    " (extract(epoch FROM d.created_at) * 1000000)::bigint, k.partner_id"
    " FROM redemptions d JOIN api_keys k ON k.tenant_id = d.tenant_id AND k.id = d.requested_by_key"
    " WHERE d.tenant_id = $1 AND d.id = $2 FOR UPDATE OF d"};
inline constexpr db::Query kCancelRedemption{
    "redemption_cancel",
    "UPDATE redemptions SET status = 'cancelled', cancelled_at = $3::timestamptz, cancel_reason = $4"
    " WHERE tenant_id = $1 AND id = $2"};
inline constexpr db::Query kGetRedemption{
    "redemption_get",
    "SELECT d.id, d.member_id, r.code, p.code, d.quantity, d.option_index, d.points, d.status,"
    " (extract(epoch FROM d.created_at) * 1000000)::bigint, (extract(epoch FROM d.cancelled_at) * "
    "1000000)::bigint,"
    " d.cancel_reason, k.partner_id, d.fulfiller_partner_id"
    " FROM redemptions d JOIN rewards r ON r.tenant_id = d.tenant_id AND r.id = d.reward_id"
    " JOIN partners p ON p.tenant_id = d.tenant_id AND p.id = d.fulfiller_partner_id"
    " JOIN api_keys k ON k.tenant_id = d.tenant_id AND k.id = d.requested_by_key"
    " WHERE d.tenant_id = $1 AND d.id = $2"};
// One settlement line per source partner: $3 redemption, $4 fulfiller, $5 kind, $6 booked at,
// $7 source ids, $8 points (signed) as arrays.
inline constexpr db::Query kInsertLines{"settlement_lines_insert",
                                        "INSERT INTO settlement_lines (tenant_id, redemption_id, "
                                        "source_partner_id, fulfiller_partner_id, points, kind,"
                                        " booked_at) SELECT $1, $2, u.src, $3, u.pts, $4, $5::timestamptz"
                                        " FROM unnest($6::bigint[], $7::bigint[]) AS u(src, pts)"};
inline constexpr db::Query kRedemptionLines{
    "redemption_lines",
    "SELECT s.code, f.code, l.points, l.kind, (extract(epoch FROM l.booked_at) * 1000000)::bigint"
    " FROM settlement_lines l JOIN partners s ON s.tenant_id = l.tenant_id AND s.id = l.source_partner_id"
    " JOIN partners f ON f.tenant_id = l.tenant_id AND f.id = l.fulfiller_partner_id"
    " WHERE l.tenant_id = $1 AND l.redemption_id = $2 ORDER BY l.id"};

#undef UP_REWARD_COLUMNS

}  // namespace unipoints::spending::store
