#pragma once
// SQL for reversals of accruals.

#include "unipoints/db/database.hpp"

namespace unipoints::earning::store {

// The accrual a partner posted under an event id: id, member, amount (NULL when posted as points),
// points.
inline constexpr db::Query kAccrualByEvent{"reversal_accrual_by_event",
                                           "SELECT id, member_id, amount_minor, points FROM accruals"
                                           " WHERE tenant_id = $1 AND partner_id = $2 AND event_id = $3"};
// Locks the member whatever its status: a suspended member's accrual can still be reversed.
inline constexpr db::Query kLockReversalMember{
    "reversal_lock_member", "SELECT 1 FROM members WHERE tenant_id = $1 AND id = $2 FOR UPDATE"};
// What earlier reversals of the accrual took: amounts and points of those by amount, and points
// of all. Read under the member's lock, which serialises reversals of one accrual.
inline constexpr db::Query kReversedSoFar{
    "reversal_sums",
    "SELECT coalesce(sum(amount_minor), 0)::bigint,"
    " coalesce(sum(points) FILTER (WHERE amount_minor IS NOT NULL), 0)::bigint,"
    " coalesce(sum(points), 0)::bigint"
    " FROM reversals WHERE tenant_id = $1 AND accrual_id = $2"};
// The lot the accrual created (there is at most one).
inline constexpr db::Query kAccrualLot{
    "reversal_accrual_lot",
    "SELECT id FROM lots WHERE tenant_id = $1 AND accrual_id = $2 ORDER BY id LIMIT 1"};
inline constexpr db::Query kInsertReversal{
    "reversal_insert",
    "INSERT INTO reversals (tenant_id, partner_id, reversal_id, accrual_id, member_id, amount_minor, points,"
    " debt_created, reason, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6::bigint, $7, $8, $9, $10::timestamptz) RETURNING id"};

}  // namespace unipoints::earning::store
