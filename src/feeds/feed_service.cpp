#include "unipoints/feeds/feed_service.hpp"

#include <spdlog/spdlog.h>
#include <cctype>
#include <map>
#include <unordered_map>

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
#include "unipoints/http/problem.hpp"

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

// `text` with each NUL byte (which PostgreSQL's text cannot hold) as U+FFFD.
std::string WithoutNul(std::string text) {
  for (auto pos = text.find('\0'); pos != std::string::npos; pos = text.find('\0', pos + 3)) {
    text.replace(pos, 1, "\xEF\xBF\xBD");
  }
  return text;
}

json RejectRow(const Rejected& r) {
  return {{"line", r.line},
          {"ev", r.event_id.empty() ? json(nullptr) : json(WithoutNul(r.event_id))},
          {"code", r.code},
          {"reason", WithoutNul(r.reason)},
          {"rec", WithoutNul(r.record.substr(0, kMaxRejectRecord))}};
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

// Which part of its chunk a record goes to: by member, so that the parts written side by side
// never wait for each other's member locks (by member id, or a digit of the card number; stable
// across processes, as a resumed feed must cut its lines the same way).
int PartOf(const FeedRecord& r, int parts) {
  if (parts <= 1 || !r.event.is_object()) return 0;
  if (auto it = r.event.find("member_id"); it != r.event.end() && it->is_number_integer()) {
    const auto id = it->get<std::int64_t>();
    return static_cast<int>((id % parts + parts) % parts);
  }
  if (auto it = r.event.find("card_no"); it != r.event.end() && it->is_string()) {
    const auto& card = it->get_ref<const std::string&>();
    if (card.size() >= 2 && std::isdigit(static_cast<unsigned char>(card[card.size() - 2])) != 0) {
      return (card[card.size() - 2] - '0') % parts;
    }
  }
  return 0;
}

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
    if (in_chunk_ > 0) co_await Apply();
    co_await AwaitWrites();
    co_await Close("applied", std::nullopt);
  }

  boost::asio::awaitable<void> Close(const std::string& status, std::optional<std::string> error) {
    co_await db_.Run([&](db::Tx& tx) {
      tx.Exec(store::kCloseFeed, who_.tenant_id, *who_.partner_id, request_.feed_id, status,
              db::Nullable(error));
    });
  }

  bool opened() const { return opened_; }

  // A post of a feed that existed, refused before it wrote anything (a body that differs from what
  // was applied, or one that cannot be read when the feed was already applied), leaves the feed's
  // status, error and end as they were. True when it did so.
  boost::asio::awaitable<bool> RestoreIfRefused(bool mismatch) {
    if (!opened_ || !before_ || wrote_ || !(mismatch || before_->status == "applied")) co_return false;
    co_await db_.Run([&](db::Tx& tx) {
      tx.Exec(store::kRestoreFeed, who_.tenant_id, *who_.partner_id, request_.feed_id, before_->status,
              db::Nullable(before_->error), db::Nullable(before_->finished_at));
    });
    co_return true;
  }

  // Waits for the parts being written, if any; rethrows the first failure.
  boost::asio::awaitable<void> AwaitWrites() {
    auto flights = std::move(in_flight_);
    in_flight_.clear();
    std::exception_ptr first;
    for (auto& flight : flights) {
      if (!flight->done) {
        co_await flight->done_signal.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      }
      if (flight->error && !first) first = flight->error;
    }
    if (first) std::rethrow_exception(first);
  }

 private:
  struct Part {
    Chunk data;
    std::unique_ptr<core::Sha256> hash;
  };

  struct InFlight {
    explicit InFlight(const boost::asio::any_io_executor& ex)
        : done_signal(ex, std::chrono::steady_clock::time_point::max()) {}
    boost::asio::steady_timer done_signal;  // cancelled when the write ends
    bool done = false;
    std::exception_ptr error;
  };

  boost::asio::awaitable<void> Open() {
    auto row = co_await db_.Run([&](db::Tx& tx) {
      if (auto before = tx.ExecOne(store::kFeedState, who_.tenant_id, *who_.partner_id, request_.feed_id)) {
        const auto& b = *before;
        before_ = Before{b[0].as<std::string>(),
                         b[1].is_null() ? std::nullopt : std::optional(b[1].as<std::string>()),
                         b[2].is_null() ? std::nullopt : std::optional(b[2].as<std::string>())};
      }
      return tx.Exec(store::kOpenFeed, who_.tenant_id, *who_.partner_id, request_.feed_id,
                     FormatName(request_.format), config_.feed_chunk_lines, config_.feed_parts)[0];
    });
    opened_ = true;
    if (row[0].as<std::string>() != FormatName(request_.format)) {
      throw DomainError(ErrorCode::kFeedMismatch,
                        "Feed '" + request_.feed_id + "' was posted as " + row[0].as<std::string>(),
                        {{"Content-Type", "differs from the feed's first post"}});
    }
    // A resumed feed is cut as its first post was, whatever the configuration says now.
    chunk_lines_ = row[1].as<std::int64_t>();
    parts_.resize(static_cast<std::size_t>(row[2].as<int>()));
    auto recorded = co_await db_.Read([&](db::Tx& tx) {
      return tx.Exec(store::kFeedParts, who_.tenant_id, *who_.partner_id, request_.feed_id);
    });
    for (const auto& r : recorded) {
      recorded_.emplace(std::make_pair(r[0].as<std::int64_t>(), r[1].as<int>()), r[2].as<std::string>());
    }
  }

  // Gathers the records into the parts of the current chunk; a full chunk is applied.
  boost::asio::awaitable<void> Take(std::vector<FeedRecord>& records) {
    for (auto& r : records) {
      int p = PartOf(r, static_cast<int>(parts_.size()));
      // A repeated event id goes to the part of its first line in the chunk, so the first line in
      // the file is the one applied (the parts run side by side; chunks one after another).
      if (const auto id = r.event.is_object() ? r.event.find("event_id") : r.event.end();
          id != r.event.end() && id->is_string()) {
        p = chunk_event_parts_.try_emplace(id->get<std::string>(), p).first->second;
      }
      auto& part = parts_[static_cast<std::size_t>(p)];
      if (!part.hash) {
        part.hash = std::make_unique<core::Sha256>();
        part.hash->Update(FormatName(request_.format) + "\n" + parser_.header() + "\n");
      }
      part.hash->Update(r.text);
      part.hash->Update("\n");
      Add(part.data, std::move(r));
      if (++in_chunk_ >= chunk_lines_) co_await Apply();
    }
    records.clear();
  }

  void Add(Chunk& chunk, FeedRecord&& r) {
    ++chunk.lines;
    const std::string event_id =
        r.event.is_object() && r.event.contains("event_id") && r.event["event_id"].is_string()
            ? r.event["event_id"].get<std::string>()
            : std::string();
    if (!r.error.empty()) {
      chunk.rejected.push_back({r.line, event_id, "unreadable",
                                "line " + std::to_string(r.line) + " " + r.error, std::move(r.text)});
      return;
    }
    http::Fields f(r.event);
    auto input = earning::ParseAccrual(r.event, f, clock_.Now());
    if (!f.ok()) {
      auto errors = f.TakeErrors();
      chunk.rejected.push_back({r.line, event_id,
                                std::string(core::Describe(ErrorCode::kValidationFailed).name),
                                errors.front().field + ": " + errors.front().message, std::move(r.text)});
      return;
    }
    chunk.items.push_back(earning::AccrualItem{who_, std::move(input)});
    chunk.item_lines.push_back(r.line);
    chunk.item_records.push_back(std::move(r.text));
  }

  // The parts of a full chunk are written side by side, while the next chunk is read and parsed;
  // a chunk's writes start once the previous chunk's have ended. Parts a previous post applied
  // are skipped once their digests match (else nothing of the chunk is written: feed_mismatch).
  boost::asio::awaitable<void> Apply() {
    co_await AwaitWrites();
    const auto chunk_no = chunk_no_++;
    std::vector<std::pair<int, std::string>> to_write;
    for (std::size_t p = 0; p < parts_.size(); ++p) {
      if (parts_[p].data.lines == 0) continue;
      auto digest = parts_[p].hash->HexSoFar();
      auto it = recorded_.find({chunk_no, static_cast<int>(p)});
      if (it == recorded_.end()) {
        to_write.emplace_back(static_cast<int>(p), std::move(digest));
      } else if (it->second != digest) {
        throw DomainError(ErrorCode::kFeedMismatch,
                          "Lines " + std::to_string(chunk_no * chunk_lines_ + 1) + "-" +
                              std::to_string(chunk_no * chunk_lines_ + in_chunk_) +
                              " differ from what feed '" + request_.feed_id + "' already applied",
                          {{"body", "does not match the lines already applied"}});
      }
    }
    const auto ex = co_await boost::asio::this_coro::executor;
    if (!to_write.empty()) wrote_ = true;
    for (auto& [p, digest] : to_write) {
      auto chunk = std::make_shared<Chunk>(std::move(parts_[static_cast<std::size_t>(p)].data));
      auto flight = std::make_shared<InFlight>(ex);
      in_flight_.push_back(flight);
      boost::asio::co_spawn(ex, Write(chunk, chunk_no, p, std::move(digest)),
                            [flight](std::exception_ptr error) {
                              flight->error = error;
                              flight->done = true;
                              flight->done_signal.cancel();
                            });
    }
    for (auto& part : parts_) part = Part{};
    chunk_event_parts_.clear();
    in_chunk_ = 0;
  }

  boost::asio::awaitable<void> Write(std::shared_ptr<Chunk> chunk, std::int64_t chunk_no, int part,
                                     std::string digest) {
    std::vector<const earning::AccrualItem*> items;
    for (const auto& item : chunk->items) items.push_back(&item);
    bool one_by_one = false;
    try {
      co_await db_.Run([&](db::Tx& tx) {
        Record(tx, *chunk, chunk_no, part, digest, earning::ApplyAccruals(tx, items, rules_, clock_.Now()));
      });
    } catch (const DomainError&) {
      throw;  // the database is unavailable
    } catch (const pqxx::in_doubt_error&) {
      throw;
    } catch (const std::exception& e) {
      if (items.empty()) throw;
      spdlog::warn("feed {}: part {}/{} failed ({}); applying its lines one by one", request_.feed_id,
                   chunk_no, part, e.what());
      one_by_one = true;
    }
    if (!one_by_one) co_return;
    // Each line under a savepoint of one transaction: a line that trips the database is rejected
    // alone (internal_error), and the part is still applied and recorded at once.
    co_await db_.Run([&](db::Tx& tx) {
      std::vector<earning::AccrualOutcome> outcomes;
      for (const auto* item : items) {
        try {
          outcomes.push_back(tx.Savepoint([&](db::Tx& line) {
            return earning::ApplyAccruals(line, std::span(&item, 1), rules_, clock_.Now()).front();
          }));
        } catch (const DomainError&) {
          throw;
        } catch (const pqxx::in_doubt_error&) {
          throw;
        } catch (const pqxx::broken_connection&) {
          throw;
        } catch (const std::exception& e) {
          spdlog::error("feed {}: event {} failed: {}", request_.feed_id, item->input.event_id, e.what());
          earning::AccrualOutcome failed;
          failed.answer = {500, http::ProblemBody(DomainError(ErrorCode::kInternal,
                                                              "The line could not be applied; post it again "
                                                              "with another event id or report it"))};
          outcomes.push_back(std::move(failed));
        }
      }
      Record(tx, *chunk, chunk_no, part, digest, outcomes);
    });
  }

  // Records a part's outcomes: its rejects, its counters and its digest (what a resumed post skips).
  void Record(db::Tx& tx, const Chunk& chunk, std::int64_t chunk_no, int part, const std::string& digest,
              const std::vector<earning::AccrualOutcome>& outcomes) {
    Counts c;
    json rejects = json::array();
    for (const auto& r : chunk.rejected) rejects.push_back(RejectRow(r));
    for (std::size_t k = 0; k < outcomes.size(); ++k) {
      const auto& o = outcomes[k];
      if (o.answer.status == 201) {
        (o.replay ? c.duplicate : c.created) += 1;
        continue;
      }
      rejects.push_back(RejectRow({chunk.item_lines[k], chunk.items[k].input.event_id,
                                   o.answer.body.value("code", "rejected"), ProblemReason(o.answer.body),
                                   chunk.item_records[k]}));
    }
    c.rejected = static_cast<std::int64_t>(rejects.size());
    if (!rejects.empty()) {
      tx.Exec(store::kInsertRejects, who_.tenant_id, *who_.partner_id, request_.feed_id,
              rejects.dump(-1, ' ', false, json::error_handler_t::replace),
              static_cast<std::int64_t>(config_.feed_max_listed_rejects));
    }
    tx.Exec(store::kRecordPart, who_.tenant_id, *who_.partner_id, request_.feed_id, chunk_no, part,
            chunk.lines, digest, c.created, c.duplicate, c.rejected);
  }

  db::Database& db_;
  const config::Config& config_;
  const core::Clock& clock_;
  earning::RuleCache& rules_;
  const tenancy::Principal& who_;
  const FeedRequest& request_;
  FeedParser parser_;
  GzipInflater inflater_;
  bool opened_ = false;
  struct Before {
    std::string status;
    std::optional<std::string> error;
    std::optional<std::string> finished_at;
  };
  std::optional<Before> before_;  // the feed as this post found it
  bool wrote_ = false;            // whether this post began writing any part
  std::int64_t chunk_lines_ = 1;
  std::vector<Part> parts_;
  std::map<std::pair<std::int64_t, int>, std::string> recorded_;  // (chunk, part) applied -> digest
  std::int64_t chunk_no_ = 0;
  std::int64_t in_chunk_ = 0;                               // lines in the current chunk
  std::unordered_map<std::string, int> chunk_event_parts_;  // event id -> part, in the current chunk
  std::vector<std::shared_ptr<InFlight>> in_flight_;
};

}  // namespace

boost::asio::awaitable<json> PostFeed(db::Database& db, const config::Config& config,
                                      const core::Clock& clock, earning::RuleCache& rules,
                                      const tenancy::Principal& who, const FeedRequest& request,
                                      http::BodyReader& body) {
  const auto key = LockKey(who, request.feed_id);
  auto lock = co_await db.Offload([&db, key] { return db.TryLock(key); });
  // A retry while the first post still runs (a client that timed out) waits for it to end.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(config.feed_wait_ms);
  while (!lock && std::chrono::steady_clock::now() < give_up) {
    boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor,
                                    std::chrono::milliseconds(500));
    co_await pause.async_wait(boost::asio::use_awaitable);
    lock = co_await db.Offload([&db, key] { return db.TryLock(key); });
  }
  if (!lock) {
    throw DomainError(ErrorCode::kFeedInProgress,
                      "Feed '" + request.feed_id + "' is still being posted by another request after " +
                          std::to_string(config.feed_wait_ms / 1000) + " s; post it again when that ends");
  }
  FeedRun run(db, config, clock, rules, who, request);
  std::optional<std::pair<std::string, std::string>> ended;  // status, error
  std::exception_ptr error;
  bool mismatch = false;
  try {
    co_await run.Run(body);
  } catch (const http::BodyReadError& e) {
    ended = {"interrupted", e.what()};
    error = std::current_exception();
  } catch (const DomainError& e) {
    ended = {"failed", e.detail()};
    mismatch = e.code() == ErrorCode::kFeedMismatch;
    error = std::current_exception();
  } catch (const std::exception& e) {
    // The database's or the library's words stay in the log; the caller learns what to do.
    spdlog::error("feed {}: {}", request.feed_id, e.what());
    ended = {"interrupted", "An internal error stopped the post; post the feed again to finish it"};
    error = std::current_exception();
  }
  if (ended) {
    try {
      co_await run.AwaitWrites();  // parts may still be being written: let them end either way
    } catch (const std::exception& e) {
      spdlog::warn("feed {}: the last chunk failed too: {}", request.feed_id, e.what());
    }
    if (run.opened()) {
      try {
        if (!co_await run.RestoreIfRefused(mismatch)) co_await run.Close(ended->first, ended->second);
      } catch (const std::exception& e) {
        spdlog::warn("feed {}: could not record its end: {}", request.feed_id, e.what());
      }
    }
    std::rethrow_exception(error);
  }
  co_return co_await db.Run([&](db::Tx& tx) { return GetFeed(tx, who, request.feed_id); });
}

json GetFeed(db::Tx& tx, const tenancy::Principal& who, const std::string& feed_id) {
  auto row = tx.ExecOne(store::kGetFeed, who.tenant_id, *who.partner_id, feed_id, LockKey(who, feed_id));
  if (!row) throw DomainError(ErrorCode::kNotFound, "No feed '" + feed_id + "'");
  const auto& r = *row;
  // Recorded as being received but no process is posting it: its server stopped mid-post.
  const bool orphaned = r[12].as<bool>();
  json error = r[7].is_null() ? json(nullptr) : json(r[7].as<std::string>());
  if (orphaned && error.is_null()) {
    error = "The post ended without an answer (its server stopped); post the feed again to finish it";
  }
  return {{"feed_id", r[0].as<std::string>()},
          {"format", r[1].as<std::string>()},
          {"status", orphaned ? std::string("interrupted") : r[2].as<std::string>()},
          {"lines", r[3].as<std::int64_t>()},
          {"created", r[4].as<std::int64_t>()},
          {"duplicate", r[5].as<std::int64_t>()},
          {"rejected", r[6].as<std::int64_t>()},
          {"rejects_listed", r[13].as<std::int64_t>()},
          {"error", error},
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
