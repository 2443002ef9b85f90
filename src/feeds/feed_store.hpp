#pragma once
// SQL for billing feeds.

#include "unipoints/db/database.hpp"

namespace unipoints::feeds::store {

// Starts (or resumes) a feed; returns its format and how its lines are cut (from its first post).
// The feed's state before a post opens it (none for a new feed): what a refused post restores.
inline constexpr db::Query kFeedState{"feed_state",
                                      "SELECT status, error, finished_at::text FROM feeds WHERE tenant_id = "
                                      "$1 AND partner_id = $2 AND feed_id = $3"};
// A post that was refused before it applied anything leaves the feed as it found it.
inline constexpr db::Query kRestoreFeed{"feed_restore",
                                        "UPDATE feeds SET status = $4, error = $5, finished_at = "
                                        "$6::timestamptz, posts = posts - 1, updated_at = now()"
                                        " WHERE tenant_id = $1 AND partner_id = $2 AND feed_id = $3"};
inline constexpr db::Query kOpenFeed{
    "feed_open",
    "INSERT INTO feeds AS f (tenant_id, partner_id, feed_id, format, status, chunk_lines, parts)"
    " VALUES ($1, $2, $3, $4, 'receiving', $5, $6)"
    " ON CONFLICT (tenant_id, partner_id, feed_id) DO UPDATE SET status = 'receiving', error = NULL,"
    "   posts = f.posts + 1, updated_at = now(), finished_at = NULL"
    " RETURNING format, chunk_lines, parts"};
inline constexpr db::Query kFeedParts{
    "feed_parts",
    "SELECT chunk, part, sha256 FROM feed_parts WHERE tenant_id = $1 AND partner_id = $2 AND feed_id = $3"};
// One part applied: recorded, and added to the feed's counters.
inline constexpr db::Query kRecordPart{
    "feed_record_part",
    "WITH p AS (INSERT INTO feed_parts (tenant_id, partner_id, feed_id, chunk, part, lines, sha256)"
    "   VALUES ($1, $2, $3, $4, $5, $6, $7))"
    " UPDATE feeds SET lines = lines + $6, created = created + $8, duplicate = duplicate + $9,"
    " rejected = rejected + $10, updated_at = now()"
    " WHERE tenant_id = $1 AND partner_id = $2 AND feed_id = $3"};
inline constexpr db::Query kInsertRejects{
    "feed_rejects_insert",
    "INSERT INTO feed_rejects (tenant_id, partner_id, feed_id, line, event_id, code, reason, record)"
    " SELECT $1, $2, $3, x.line, x.ev, x.code, x.reason, x.rec"
    " FROM json_to_recordset($4::json) AS x(line bigint, ev text, code text, reason text, rec text)"
    // Listed up to $5 per feed (counted beyond): a small body must not fill the database with
    // rejects. Parts written side by side may pass the cap by what they carry.
    " ORDER BY x.line LIMIT greatest(0, $5::bigint - (SELECT f.rejected FROM feeds f"
    "   WHERE f.tenant_id = $1 AND f.partner_id = $2 AND f.feed_id = $3))"};
inline constexpr db::Query kCloseFeed{
    "feed_close",
    "UPDATE feeds SET status = $4, error = $5, updated_at = now(),"
    " finished_at = CASE WHEN $4 = 'applied' THEN now() ELSE finished_at END"
    " WHERE tenant_id = $1 AND partner_id = $2 AND feed_id = $3"};
inline constexpr db::Query kGetFeed{
    "feed_get",
    "SELECT feed_id, format, status, lines, created, duplicate, rejected, error, posts,"
    " (extract(epoch FROM created_at) * 1000000)::bigint, (extract(epoch FROM updated_at) * 1000000)::bigint,"
    " (extract(epoch FROM finished_at) * 1000000)::bigint,"
    // Whether a process is posting it: the session lock of the post ($4), which PostgreSQL frees
    // when the posting server's connection ends, however it ends.
    " status = 'receiving' AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory'"
    "   AND l.granted AND l.objsubid = 1 AND l.classid = ($4::bigint >> 32)::oid"
    "   AND l.objid = ($4::bigint & 4294967295)::oid"
    "   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())),"
    " (SELECT count(*) FROM feed_rejects r WHERE r.tenant_id = $1 AND r.partner_id = $2 AND r.feed_id = $3)"
    " FROM feeds WHERE tenant_id = $1 AND partner_id = $2 AND feed_id = $3"};
inline constexpr db::Query kRejectsPage{
    "feed_rejects_page",
    "SELECT line, event_id, code, reason, record FROM feed_rejects"
    " WHERE tenant_id = $1 AND partner_id = $2 AND feed_id = $3 AND line > $4 ORDER BY line LIMIT $5"};

}  // namespace unipoints::feeds::store
