#pragma once
// Billing feeds: POST /v1/feeds streams a partner's accrual lines (CSV or NDJSON, optionally gzip)
// into the database in chunks of feed_chunk_lines, each chunk one transaction that applies its
// events set-based (ApplyAccruals), records its rejected lines and advances the feed's counters.
// Because the counters move with the chunk, a feed cut off anywhere has applied exactly a prefix
// of its lines; posting the same Feed-Id again skips that prefix (after checking its digest) and
// applies the rest. One request per Feed-Id at a time (a session advisory lock).

#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "unipoints/config/config.hpp"
#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/earning/accrual_service.hpp"
#include "unipoints/feeds/feed_parser.hpp"
#include "unipoints/http/request.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::feeds {

struct FeedRequest {
  std::string feed_id;
  FeedFormat format = FeedFormat::kCsv;
  bool gzip = false;
};

// Reads the whole body from `body` and applies it; returns the feed's status (as GetFeed).
boost::asio::awaitable<nlohmann::json> PostFeed(db::Database& db, const config::Config& config,
                                                const core::Clock& clock, earning::RuleCache& rules,
                                                const tenancy::Principal& who, const FeedRequest& request,
                                                http::BodyReader& body);

// {feed_id, format, status, lines, created, duplicate, rejected, error, posts, created_at,
// updated_at, finished_at}; 404 when the partner has no such feed.
nlohmann::json GetFeed(db::Tx& tx, const tenancy::Principal& who, const std::string& feed_id);

// The rejected lines after line `after` (at most `limit`), as CSV with a header row:
// line,event_id,code,reason,record. `next` is the last line when more may follow.
struct RejectsPage {
  std::string csv;
  std::optional<std::int64_t> next;
};
RejectsPage FeedRejects(db::Tx& tx, const tenancy::Principal& who, const std::string& feed_id,
                        std::int64_t after, int limit);

}  // namespace unipoints::feeds
