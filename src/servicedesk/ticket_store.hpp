#pragma once
// SQL for service-desk tickets and their history.

#include "unipoints/db/database.hpp"

namespace unipoints::servicedesk::store {

#define UP_TICKET_COLUMNS                                                                          \
  "t.id, t.member_id, t.kind, t.severity, t.subject, t.body, t.channel, t.status, t.owner_key_id," \
  " k.label, t.repeat_count, (extract(epoch FROM t.created_at) * 1000000)::bigint,"                \
  " (extract(epoch FROM t.due_at) * 1000000)::bigint, (extract(epoch FROM t.responded_at) * "      \
  "1000000)::bigint,"                                                                              \
  " (extract(epoch FROM t.resolved_at) * 1000000)::bigint, (extract(epoch FROM t.closed_at) * "    \
  "1000000)::bigint"

inline constexpr db::Query kMemberExists{"ticket_member_exists",
                                         "SELECT 1 FROM members WHERE tenant_id = $1 AND id = $2"};
// $3 member (NULL: none), $9 owner key, $10 now, $11 due.
inline constexpr db::Query kInsertTicket{
    "ticket_insert",
    "WITH t AS (INSERT INTO tickets (tenant_id, member_id, kind, severity, subject, body, channel, "
    "owner_key_id,"
    "   created_at, due_at, updated_at)"
    "   VALUES ($1, $2::bigint, $3, $4, $5, $6, $7, $8, $9::timestamptz, $10::timestamptz, $9::timestamptz)"
    "   RETURNING id)"
    " INSERT INTO ticket_events (tenant_id, ticket_id, at, key_id, kind, status)"
    " SELECT $1, t.id, $9::timestamptz, $8, 'opened', 'open' FROM t RETURNING ticket_id"};
inline constexpr db::Query kGetTicket{
    "ticket_get",
    "SELECT " UP_TICKET_COLUMNS
    " FROM tickets t LEFT JOIN api_keys k ON k.tenant_id = t.tenant_id AND k.id = t.owner_key_id"
    " WHERE t.tenant_id = $1 AND t.id = $2"};
inline constexpr db::Query kLockTicket{
    "ticket_lock",
    "SELECT status, responded_at IS NOT NULL FROM tickets WHERE tenant_id = $1 AND id = $2 FOR UPDATE"};
// $3 status (NULL: unchanged), $4 now, $5 repeat (0 or 1), $6 responded (the first change).
inline constexpr db::Query kUpdateTicket{
    "ticket_update",
    "UPDATE tickets SET status = coalesce($3, status), repeat_count = repeat_count + $5, updated_at = "
    "$4::timestamptz,"
    " responded_at = CASE WHEN $6 THEN coalesce(responded_at, $4::timestamptz) ELSE responded_at END,"
    " resolved_at = CASE WHEN $3 = 'resolved' THEN $4::timestamptz WHEN $3 = 'in_progress' THEN NULL"
    "   ELSE resolved_at END,"
    " closed_at = CASE WHEN $3 = 'closed' THEN $4::timestamptz ELSE closed_at END"
    " WHERE tenant_id = $1 AND id = $2"};
inline constexpr db::Query kInsertEvent{
    "ticket_event_insert",
    "INSERT INTO ticket_events (tenant_id, ticket_id, at, key_id, kind, status, note)"
    " VALUES ($1, $2, $3::timestamptz, $4, $5, $6, $7)"};
inline constexpr db::Query kTicketEvents{
    "ticket_events",
    "SELECT (extract(epoch FROM e.at) * 1000000)::bigint, e.kind, e.status, e.note, e.key_id, k.label"
    " FROM ticket_events e LEFT JOIN api_keys k ON k.tenant_id = e.tenant_id AND k.id = e.key_id"
    " WHERE e.tenant_id = $1 AND e.ticket_id = $2 ORDER BY e.seq"};
// Newest first. $2 status, $3 overdue or not (NULL: either; as of $4), $5 member, $6 cursor, $7 limit.
inline constexpr db::Query kListTickets{
    "ticket_list",
    "SELECT " UP_TICKET_COLUMNS
    " FROM tickets t LEFT JOIN api_keys k ON k.tenant_id = t.tenant_id AND k.id = t.owner_key_id"
    " WHERE t.tenant_id = $1 AND ($2::text IS NULL OR t.status = $2::text)"
    " AND ($3::boolean IS NULL OR (coalesce(t.responded_at, $4::timestamptz) > t.due_at) = $3::boolean)"
    " AND ($5::bigint IS NULL OR t.member_id = $5::bigint) AND ($6::bigint IS NULL OR t.id < $6::bigint)"
    " ORDER BY t.id DESC LIMIT $7"};

#undef UP_TICKET_COLUMNS

}  // namespace unipoints::servicedesk::store
