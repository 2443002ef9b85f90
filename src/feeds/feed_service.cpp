#include "unipoints/feeds/feed_service.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "feed_store.hpp"
#include "unipoints/core/crypto.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/earning/accrual_batch.hpp"
#include "unipoints/http/fields.hpp"

namespace unipoints::feeds {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;

// Body bytes read per call, and inflated per gzip step (bounds a gzip bomb's expansion per step).
constexpr std::size_t kReadBytes = 64 * 1024;
constexpr std::size_t kInflateStep = 8 * 1024;
// Longest record kept in the rejects file.
constexpr std::size_t kMaxRejectRecord = 2000;

std::string FormatName(FeedFormat f) { return f == FeedFormat::kCsv ? "csv" : "ndjson"; }

std::string Instant(const pqxx::field& f) {
  return f.is_null() ? std::string() : core::FormatRfc3339(core::FromUnixMicros(f.as<std::int64_t>()));
}

// The advisory lock of one feed: the first 60 bits of a digest of its identity.
std::int64_t LockKey(const tenancy::Principal& who, const std::string& feed_id) {
  auto hex = core::Sha256Hex("feed:" + std::to_string(who.tenant_id) + ":" + std::to_string(*who.partner_id) +
                             ":" + feed_id);
  return static_cast<std::int64_t>(std::stoull(hex.substr(0, 15), nullptr, 16));
}

struct Rejected {
  std::int64_t line;
  std::string event_id;
  std::string code;
  std::string reason;
  std::string record;
};

json RejectRow(const Rejected& r) {
  return {{"line", r.line},
          {"ev", r.event_id.empty() ? json(nullptr) : json(r.event_id)},
          {"code", r.code},
          {"reason", r.reason},
          {"rec", r.record.substr(0, kMaxRejectRecord)}};
}

std::string ProblemReason(const json& problem) {
  std::string reason = problem.value("detail", "");
  if (problem.contains("errors") && problem["errors"].is_array() && !problem["errors"].empty()) {
    const auto& e = problem["errors"][0];
    reason = e.value("field", "") + ": " + e.value("message", "");
  }
  return reason;
}

// One chunk of records on its way into the database.
struct Chunk {
  std::vector<earning::AccrualItem> items;
  std::vector<std::int64_t> item_lines;
  std::vector<std::string> item_records;
  std::vector<Rejected> rejected;
  std::int64_t lines = 0;
  void Clear() { *this = Chunk(); }
};

struct Counts {
  std::int64_t created = 0, duplicate = 0, rejected = 0;
};

class FeedRun {
 public:
  FeedRun(db::Database& db, const config::Config& config, const core::Clock& clock, earning::RuleCache& rules,
          const tenancy::Principal& who, const FeedRequest& request)
      : db_(db),
        config_(config),
        clock_(clock),
        rules_(rules),
        who_(who),
        request_(request),
        parser_(request.format) {}

  boost::asio::awaitable<void> Run(http::BodyReader& body) {
    co_await Open();
    std::string buf(kReadBytes, '\0');
    std::string inflated;
    std::vector<FeedRecord> records;
    for (;;) {
      const auto n = co_await body.Read(buf.data(), buf.size());
      if (n == 0) break;
      std::string_view data(buf.data(), n);
      if (request_.gzip) {
        for (std::size_t at = 0; at < data.size(); at += kInflateStep) {
          inflated.clear();
          inflater_.Write(data.substr(at, kInflateStep), inflated);
          parser_.Write(inflated, records);
          co_await Take(records);
        }
      } else {
        parser_.Write(data, records);
        co_await Take(records);
      }
    }
    if (request_.gzip) inflater_.Finish();
    parser_.Finish(records);
    co_await Take(records);
    if (chunk_.lines > 0) co_await Apply();
    co_await AwaitWrite();
    if (seen_ < applied_) {
      throw DomainError(ErrorCode::kFeedMismatch,
                        "The body has " + std::to_string(seen_) + " lines; feed '" + request_.feed_id +
                            "' already applied " + std::to_string(applied_),
                        {{"body", "shorter than what this Feed-Id applied"}});
    }
    co_await Close("applied", std::nullopt);
  }

  boost::asio::awaitable<void> Close(const std::string& status, std::optional<std::string> error) {
    co_await db_.Run([&](db::Tx& tx) {
      tx.Exec(store::kCloseFeed, who_.tenant_id, *who_.partner_id, request_.feed_id, status,
              db::Nullable(error));
    });
  }

  bool opened() const { return opened_; }

 private:
  boost::asio::awaitable<void> Open() {
    hash_.Update(FormatName(request_.format) + "\n");
    const auto empty_digest = hash_.HexSoFar();
    auto row = co_await db_.Run([&](db::Tx& tx) {
      return tx.Exec(store::kOpenFeed, who_.tenant_id, *who_.partner_id, request_.feed_id,
                     FormatName(request_.format), empty_digest)[0];
    });
    opened_ = true;
    if (row[0].as<std::string>() != FormatName(request_.format)) {
      throw DomainError(ErrorCode::kFeedMismatch,
                        "Feed '" + request_.feed_id + "' was posted as " + row[0].as<std::string>(),
                        {{"Content-Type", "differs from the feed's first post"}});
    }
    applied_ = row[1].as<std::int64_t>();
    applied_digest_ = row[2].as<std::string>();
    next_at_ = applied_;
  }

  // Hashes the records, skips the prefix already applied, gathers the rest into chunks.
  boost::asio::awaitable<void> Take(std::vector<FeedRecord>& records) {
    for (auto& r : records) {
      if (!header_hashed_) {
        hash_.Update(parser_.header() + "\n");
        header_hashed_ = true;
      }
      hash_.Update(r.text);
      hash_.Update("\n");
      seen_ = r.line;
      if (r.line < applied_) continue;
      if (r.line == applied_) {
        if (hash_.HexSoFar() != applied_digest_) {
          throw DomainError(ErrorCode::kFeedMismatch,
                            "The first " + std::to_string(applied_) + " lines differ from what feed '" +
                                request_.feed_id + "' already applied",
                            {{"body", "does not begin with the lines already applied"}});
        }
        continue;
      }
      Add(std::move(r));
      if (chunk_.lines >= config_.feed_chunk_lines) co_await Apply();
    }
    records.clear();
  }

  void Add(FeedRecord&& r) {
    ++chunk_.lines;
    const std::string event_id =
        r.event.is_object() && r.event.contains("event_id") && r.event["event_id"].is_string()
            ? r.event["event_id"].get<std::string>()
            : std::string();
    if (!r.error.empty()) {
      chunk_.rejected.push_back({r.line, event_id, "unreadable",
                                 "line " + std::to_string(r.line) + " " + r.error, std::move(r.text)});
      return;
    }
    http::Fields f(r.event);
    auto input = earning::ParseAccrual(r.event, f, clock_.Now());
    if (!f.ok()) {
      auto errors = f.TakeErrors();
      chunk_.rejected.push_back({r.line, event_id,
                                 std::string(core::Describe(ErrorCode::kValidationFailed).name),
                                 errors.front().field + ": " + errors.front().message, std::move(r.text)});
      return;
    }
    chunk_.items.push_back(earning::AccrualItem{who_, std::move(input)});
    chunk_.item_lines.push_back(r.line);
    chunk_.item_records.push_back(std::move(r.text));
  }

  // Chunk k is written while chunk k+1 is read and parsed. Chunks still commit in order: each
  // write starts once the one before it has ended (and a failed write stops the feed).
  boost::asio::awaitable<void> Apply() {
    co_await AwaitWrite();
    auto chunk = std::make_shared<Chunk>(std::move(chunk_));
    chunk_.Clear();
    const auto at = next_at_;
    next_at_ += chunk->lines;
    auto flight = std::make_shared<InFlight>(co_await boost::asio::this_coro::executor);
    in_flight_ = flight;
    boost::asio::co_spawn(flight->done_signal.get_executor(), Write(chunk, at, hash_.HexSoFar()),
                          [flight](std::exception_ptr error) {
                            flight->error = error;
                            flight->done = true;
                            flight->done_signal.cancel();
                          });
  }

 public:
  // Waits for the chunk being written, if any; rethrows its failure.
  boost::asio::awaitable<void> AwaitWrite() {
    if (!in_flight_) co_return;
    auto flight = std::move(in_flight_);
    if (!flight->done)
      co_await flight->done_signal.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (flight->error) std::rethrow_exception(flight->error);
  }

 private:
  struct InFlight {
    explicit InFlight(const boost::asio::any_io_executor& ex)
        : done_signal(ex, std::chrono::steady_clock::time_point::max()) {}
    boost::asio::steady_timer done_signal;  // cancelled when the write ends
    bool done = false;
    std::exception_ptr error;
  };

  boost::asio::awaitable<void> Write(std::shared_ptr<Chunk> chunk, std::int64_t at, std::string digest) {
    co_await db_.Run([&](db::Tx& tx) {
      std::vector<const earning::AccrualItem*> items;
      for (const auto& item : chunk->items) items.push_back(&item);
      auto outcomes = earning::ApplyAccruals(tx, items, rules_, clock_.Now());
      Counts c;
      json rejects = json::array();
      for (const auto& r : chunk->rejected) rejects.push_back(RejectRow(r));
      for (std::size_t k = 0; k < outcomes.size(); ++k) {
        const auto& o = outcomes[k];
        if (o.answer.status == 201) {
          (o.replay ? c.duplicate : c.created) += 1;
          continue;
        }
        rejects.push_back(RejectRow({chunk->item_lines[k], chunk->items[k].input.event_id,
                                     o.answer.body.value("code", "rejected"), ProblemReason(o.answer.body),
                                     chunk->item_records[k]}));
      }
      c.rejected = static_cast<std::int64_t>(rejects.size());
      if (!rejects.empty()) {
        tx.Exec(store::kInsertRejects, who_.tenant_id, *who_.partner_id, request_.feed_id,
                rejects.dump(-1, ' ', false, json::error_handler_t::replace));
      }
      auto moved = tx.Exec(store::kAdvanceFeed, who_.tenant_id, *who_.partner_id, request_.feed_id, at,
                           chunk->lines, c.created, c.duplicate, c.rejected, digest);
      if (moved.empty()) throw std::runtime_error("feed " + request_.feed_id + " moved under us");
      return c;
    });
  }

  db::Database& db_;
  const config::Config& config_;
  const core::Clock& clock_;
  earning::RuleCache& rules_;
  const tenancy::Principal& who_;
  const FeedRequest& request_;
  FeedParser parser_;
  GzipInflater inflater_;
  core::Sha256 hash_;
  bool header_hashed_ = false;
  bool opened_ = false;
  std::int64_t applied_ = 0;  // lines earlier posts applied
  std::string applied_digest_;
  std::int64_t next_at_ = 0;  // lines applied once the chunks handed to Write so far are
  std::int64_t seen_ = 0;     // lines read from this body
  Chunk chunk_;
  std::shared_ptr<InFlight> in_flight_;
};

}  // namespace

boost::asio::awaitable<json> PostFeed(db::Database& db, const config::Config& config,
                                      const core::Clock& clock, earning::RuleCache& rules,
                                      const tenancy::Principal& who, const FeedRequest& request,
                                      http::BodyReader& body) {
  const auto key = LockKey(who, request.feed_id);
  auto lock = co_await db.Offload([&db, key] { return db.TryLock(key); });
  if (!lock) {
    throw DomainError(
        ErrorCode::kFeedInProgress,
        "Feed '" + request.feed_id + "' is being posted by another request; try again when it ends");
  }
  FeedRun run(db, config, clock, rules, who, request);
  std::optional<std::pair<std::string, std::string>> ended;  // status, error
  std::exception_ptr error;
  try {
    co_await run.Run(body);
  } catch (const http::BodyReadError& e) {
    ended = {"interrupted", e.what()};
    error = std::current_exception();
  } catch (const DomainError& e) {
    ended = {"failed", e.detail()};
    error = std::current_exception();
  } catch (const std::exception& e) {
    ended = {"interrupted", e.what()};
    error = std::current_exception();
  }
  if (ended) {
    try {
      co_await run.AwaitWrite();  // a chunk may still be being written: let it end either way
    } catch (const std::exception& e) {
      spdlog::warn("feed {}: the last chunk failed too: {}", request.feed_id, e.what());
    }
    if (run.opened()) {
      try {
        co_await run.Close(ended->first, ended->second);
      } catch (const std::exception& e) {
        spdlog::warn("feed {}: could not record its end: {}", request.feed_id, e.what());
      }
    }
    std::rethrow_exception(error);
  }
  co_return co_await db.Run([&](db::Tx& tx) { return GetFeed(tx, who, request.feed_id); });
}

json GetFeed(db::Tx& tx, const tenancy::Principal& who, const std::string& feed_id) {
  auto row = tx.ExecOne(store::kGetFeed, who.tenant_id, *who.partner_id, feed_id);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No feed '" + feed_id + "'");
  const auto& r = *row;
  return {{"feed_id", r[0].as<std::string>()},
          {"format", r[1].as<std::string>()},
          {"status", r[2].as<std::string>()},
          {"lines", r[3].as<std::int64_t>()},
          {"created", r[4].as<std::int64_t>()},
          {"duplicate", r[5].as<std::int64_t>()},
          {"rejected", r[6].as<std::int64_t>()},
          {"error", r[7].is_null() ? json(nullptr) : json(r[7].as<std::string>())},
          {"posts", r[8].as<int>()},
          {"partner", who.partner_code},
          {"created_at", Instant(r[9])},
          {"updated_at", Instant(r[10])},
          {"finished_at", r[11].is_null() ? json(nullptr) : json(Instant(r[11]))}};
}

RejectsPage FeedRejects(db::Tx& tx, const tenancy::Principal& who, const std::string& feed_id,
                        std::int64_t after, int limit) {
  GetFeed(tx, who, feed_id);  // 404 for an unknown feed
  auto rows = tx.Exec(store::kRejectsPage, who.tenant_id, *who.partner_id, feed_id, after, limit + 1);
  RejectsPage page;
  page.csv = CsvLine({"line", "event_id", "code", "reason", "record"});
  const auto n = std::min<std::size_t>(rows.size(), static_cast<std::size_t>(limit));
  for (std::size_t i = 0; i < n; ++i) {
    const auto& r = rows[i];
    page.csv += CsvLine({r[0].as<std::string>(), r[1].is_null() ? "" : r[1].as<std::string>(),
                         r[2].as<std::string>(), r[3].as<std::string>(), r[4].as<std::string>()});
  }
  if (rows.size() > n) page.next = rows[n - 1][0].as<std::int64_t>();
  return page;
}

}  // namespace unipoints::feeds
