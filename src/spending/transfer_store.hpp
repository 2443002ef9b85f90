#pragma once
// SQL for transfers of points between members.

#include "unipoints/db/database.hpp"

namespace unipoints::spending::store {

// Locks one side of a transfer (callers lock the two members in ascending id order).
inline constexpr db::Query kTransferLockMember{
    "transfer_lock_member", "SELECT status FROM members WHERE tenant_id = $1 AND id = $2 FOR UPDATE"};
inline constexpr db::Query kInsertTransfer{
    "transfer_insert",
    "INSERT INTO transfers (tenant_id, request_id, from_member_id, to_member_id, points, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6::timestamptz) RETURNING id"};

}  // namespace unipoints::spending::store
