#include "unipoints/feeds/feed_routes.hpp"

#include <algorithm>
#include <cctype>

#include "unipoints/core/error.hpp"
#include "unipoints/feeds/feed_service.hpp"

namespace unipoints::feeds {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using core::DomainError;
using core::ErrorCode;
using nlohmann::json;
using tenancy::Role;

constexpr int kMaxRejectsPage = 100000;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The media type without parameters, in lower case.
std::string MediaType(std::string_view header) {
  auto type = Lower(header.substr(0, header.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type;
}

FeedRequest ReadFeedRequest(const http::Request& req) {
  FeedRequest out;
  out.feed_id = std::string(req.Header("Feed-Id"));
  const bool printable =
      std::all_of(out.feed_id.begin(), out.feed_id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (out.feed_id.empty() || out.feed_id.size() > 128 || !printable) {
    throw DomainError(ErrorCode::kValidationFailed,
                      "Feed-Id: give the feed's id (1 to 128 printable ASCII characters without spaces)",
                      {{"Feed-Id", "required: 1 to 128 printable ASCII characters"}});
  }
  const auto type = MediaType(req.Header("Content-Type"));
  if (type == "text/csv") {
    out.format = FeedFormat::kCsv;
  } else if (type == "application/x-ndjson" || type == "application/ndjson") {
    out.format = FeedFormat::kNdjson;
  } else {
    throw DomainError(ErrorCode::kUnsupportedMediaType,
                      "Send a feed as text/csv or application/x-ndjson, not '" +
                          std::string(req.Header("Content-Type")) + "'",
                      {{"Content-Type", "must be text/csv or application/x-ndjson"}});
  }
  const auto encoding = Lower(req.Header("Content-Encoding"));
  if (encoding == "gzip" || encoding == "x-gzip") {
    out.gzip = true;
  } else if (!encoding.empty() && encoding != "identity") {
    throw DomainError(ErrorCode::kUnsupportedMediaType,
                      "A feed may be sent as is or gzip, not '" + encoding + "'",
                      {{"Content-Encoding", "must be gzip or absent"}});
  }
  return out;
}

}  // namespace

void RegisterFeedRoutes(http::Router& router, db::Database& db, const config::Config& config,
                        const core::Clock& clock, http::Metrics& metrics, earning::RuleCache& rules) {
  router.AddStreaming(
      verb::post, "/v1/feeds", {Role::kPartner},
      "A billing feed of accrual lines (text/csv with a header row, or application/x-ndjson; optionally "
      "Content-Encoding: gzip), streamed and applied in chunks; re-posting a Feed-Id resumes it",
      [&db, &config, &clock, &metrics, &rules](http::Request& req) -> asio::awaitable<http::Response> {
        const auto request = ReadFeedRequest(req);
        if (req.body == nullptr) throw std::logic_error("POST /v1/feeds is a streaming route");
        const auto who = req.who();
        auto out = co_await PostFeed(db, config, clock, rules, who, request, *req.body);
        metrics.Add("unipoints_feed_lines_total", "result=\"created\"", out["created"].get<std::int64_t>());
        co_return http::JsonResponse(status::accepted, out);
      });

  router.Add(verb::get, "/v1/feeds/{id}", {Role::kPartner},
             "A feed's status and counts: lines applied, created, duplicate, rejected",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               const auto who = req.who();
               const auto id = req.Param("id");
               auto out = co_await db.Read([&](db::Tx& tx) { return GetFeed(tx, who, id); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(
      verb::get, "/v1/feeds/{id}/rejects", {Role::kPartner},
      "A feed's rejected lines as CSV (line,event_id,code,reason,record); ?after=<line>&limit=",
      [&db](http::Request& req) -> asio::awaitable<http::Response> {
        const auto who = req.who();
        const auto id = req.Param("id");
        const auto after = http::ListCursor(req).value_or(0);
        const auto limit = req.Query("limit") ? http::ListLimit(req, kMaxRejectsPage) : kMaxRejectsPage;
        auto page = co_await db.Run([&](db::Tx& tx) { return FeedRejects(tx, who, id, after, limit); });
        http::Response res;
        res.content_type = "text/csv; charset=utf-8";
        res.body = std::move(page.csv);
        if (page.next) {
          res.headers.emplace_back("Link", "</v1/feeds/" + id + "/rejects?after=" +
                                               std::to_string(*page.next) + ">; rel=\"next\"");
        }
        co_return res;
      });
}

}  // namespace unipoints::feeds
