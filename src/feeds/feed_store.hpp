#pragma once
// SQL for billing feeds.

#include "unipoints/db/database.hpp"

namespace unipoints::feeds::store {

// Starts (or resumes) a feed: returns what it has applied so far and the digest of that prefix.
inline constexpr db::Query kOpenFeed{
    "feed_open",
    "INSERT INTO feeds AS f (tenant_id, partner_id, feed_id, format, status, prefix_sha256)"
    " VALUES ($1, $2, $3, $4, 'receiving', $5)"
    " ON CONFLICT (tenant_id, partner_id, feed_id) DO UPDATE SET status = 'receiving', error = NULL,"
    "   posts = f.posts + 1, updated_at = now(), finished_at = NULL"
    " RETURNING format, lines, prefix_sha256"};
// Advances a feed by one applied chunk; no row unless the feed was at $4 lines.
inline constexpr db::Query kAdvanceFeed{
    "feed_advance",
    "UPDATE feeds SET lines = lines + $5, created = created + $6, duplicate = duplicate + $7,"
    " rejected = rejected + $8, prefix_sha256 = $9, updated_at = now()"
    " WHERE tenant_id = $1 AND partner_id = $2 AND feed_id = $3 AND lines = $4 RETURNING lines"};
inline constexpr db::Query kInsertRejects{
    "feed_rejects_insert",
    "INSERT INTO feed_rejects (tenant_id, partner_id, feed_id, line, event_id, code, reason, record)"
    " SELECT $1, $2, $3, x.line, x.ev, x.code, x.reason, x.rec"
    " FROM json_to_recordset($4::json) AS x(line bigint, ev text, code text, reason text, rec text)"};
inline constexpr db::Query kCloseFeed{
    "feed_close",
    "UPDATE feeds SET status = $4, error = $5, updated_at = now(),"
    " finished_at = CASE WHEN $4 = 'applied' THEN now() ELSE finished_at END"
    " WHERE tenant_id = $1 AND partner_id = $2 AND feed_id = $3"};
inline constexpr db::Query kGetFeed{
    "feed_get",
    "SELECT feed_id, format, status, lines, created, duplicate, rejected, error, posts,"
    " (extract(epoch FROM created_at) * 1000000)::bigint, (extract(epoch FROM updated_at) * 1000000)::bigint,"
    " (extract(epoch FROM finished_at) * 1000000)::bigint"
    " FROM feeds WHERE tenant_id = $1 AND partner_id = $2 AND feed_id = $3"};
inline constexpr db::Query kRejectsPage{
    "feed_rejects_page",
    "SELECT line, event_id, code, reason, record FROM feed_rejects"
    " WHERE tenant_id = $1 AND partner_id = $2 AND feed_id = $3 AND line > $4 ORDER BY line LIMIT $5"};

}  // namespace unipoints::feeds::store
