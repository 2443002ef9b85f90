#pragma once
// SQL for manual adjustments and their approval.

#include "unipoints/db/database.hpp"

namespace unipoints::spending::store {

// Locks the member whatever its status (an agent may correct a suspended account); returns the
// default source of a credit (id, code): its issuing partner; else the partner it last earned
// from; else the tenant's partner if it has only one; else none.
inline constexpr db::Query kAdjustmentLockMember{
    "adjustment_lock_member",
    "SELECT s.id, p.code FROM members m"
    " CROSS JOIN LATERAL (SELECT coalesce(m.issuing_partner_id,"
    "   (SELECT e.source_partner_id FROM ledger_entries e WHERE e.tenant_id = m.tenant_id"
    "     AND e.member_id = m.id AND e.kind = 'accrual' ORDER BY e.seq DESC LIMIT 1),"
    "   (SELECT min(o.id) FROM partners o WHERE o.tenant_id = m.tenant_id HAVING count(*) = 1)) AS id) s"
    " LEFT JOIN partners p ON p.tenant_id = m.tenant_id AND p.id = s.id"
    " WHERE m.tenant_id = $1 AND m.id = $2 FOR UPDATE OF m"};
// $8 status; an adjustment recorded as applied is applied at once ($10).
inline constexpr db::Query kInsertAdjustment{
    "adjustment_insert",
    "INSERT INTO adjustments (tenant_id, request_id, member_id, points, source_partner_id, point_type, "
    "reason,"
    " status, requested_by_key, created_at, applied_at)"
    " VALUES ($1, $2, $3, $4, $5::bigint, $6, $7, $8, $9, $10::timestamptz,"
    " CASE WHEN $8 = 'applied' THEN $10::timestamptz END) RETURNING id"};
inline constexpr db::Query kLockAdjustment{
    "adjustment_lock",
    "SELECT member_id, points, source_partner_id, point_type, status, requested_by_key"
    " FROM adjustments WHERE tenant_id = $1 AND id = $2 FOR UPDATE"};
inline constexpr db::Query kMarkAdjustmentApplied{
    "adjustment_mark_applied",
    "UPDATE adjustments SET status = 'applied', approved_by_key = $3, applied_at = $4::timestamptz"
    " WHERE tenant_id = $1 AND id = $2 AND status = 'pending_approval'"};

#define UP_ADJUSTMENT_COLUMNS                                                                                \
  "a.id, a.request_id, a.member_id, a.points, p.code, a.point_type, a.reason, a.status, a.requested_by_key," \
  " a.approved_by_key, (extract(epoch FROM a.created_at) * 1000000)::bigint,"                                \
  " (extract(epoch FROM a.applied_at) * 1000000)::bigint"

inline constexpr db::Query kGetAdjustment{
    "adjustment_get",
    "SELECT " UP_ADJUSTMENT_COLUMNS
    " FROM adjustments a LEFT JOIN partners p ON p.tenant_id = a.tenant_id AND p.id = a.source_partner_id"
    " WHERE a.tenant_id = $1 AND a.id = $2"};
// Newest first; $2 status, $3 member, $4 cursor (an id), $5 limit.
inline constexpr db::Query kListAdjustments{
    "adjustment_list",
    "SELECT " UP_ADJUSTMENT_COLUMNS
    " FROM adjustments a LEFT JOIN partners p ON p.tenant_id = a.tenant_id AND p.id = a.source_partner_id"
    " WHERE a.tenant_id = $1 AND ($2::text IS NULL OR a.status = $2::text)"
    " AND ($3::bigint IS NULL OR a.member_id = $3::bigint) AND ($4::bigint IS NULL OR a.id < $4::bigint)"
    " ORDER BY a.id DESC LIMIT $5"};

#undef UP_ADJUSTMENT_COLUMNS

}  // namespace unipoints::spending::store
