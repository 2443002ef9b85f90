#include "unipoints/lots/jobs.hpp"

#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "job_store.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/http/page.hpp"

namespace unipoints::lots {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;

// Advisory lock keys: a job kind tag above the tenant id.
constexpr std::int64_t kExpiryLockTag = std::int64_t{0x4558} << 40;  // "EX"

// A re-grade may run longer than a request's statement timeout on a large tenant, and is planned for
// its own parameters (a generic plan of the prepared statement knows nothing of the tenant's size).
constexpr const char* kRegradeSettings =
    "SET LOCAL statement_timeout = '30min'; SET LOCAL plan_cache_mode = force_custom_plan";

const char* TriggerName(JobTrigger t) {
  switch (t) {
    case JobTrigger::kApi:
      return "api";
    case JobTrigger::kCli:
      return "cli";
    case JobTrigger::kSchedule:
      return "schedule";
  }
  return "api";
}

struct ChunkRow {
  std::string source;
  std::int64_t lots, expired, carried, carry_lots;
};

// One committed chunk: what it expired per source, how many candidate lots it walked (fewer than
// asked: the worker is done) and the last key walked.
struct Chunk {
  std::vector<ChunkRow> rows;
  std::int64_t walked = 0;
  std::optional<std::pair<std::string, std::string>> last;
};

std::string At(core::Instant t) { return core::FormatRfc3339(t); }

json MicrosOrNull(const pqxx::field& f) {
  return f.is_null() ? json(nullptr) : json(At(core::FromUnixMicros(f.as<std::int64_t>())));
}

json JobRow(const pqxx::row& r) {
  return {{"id", r[0].as<std::int64_t>()},
          {"kind", r[1].as<std::string>()},
          {"trigger", r[2].as<std::string>()},
          {"as_of", At(core::FromUnixMicros(r[3].as<std::int64_t>()))},
          {"status", r[4].as<std::string>()},
          {"counts", json::parse(r[5].as<std::string>())},
          {"error", r[6].is_null() ? json(nullptr) : json(r[6].as<std::string>())},
          {"started_at", MicrosOrNull(r[7])},
          {"finished_at", MicrosOrNull(r[8])}};
}

void Finish(db::Database& db, std::int64_t tenant_id, std::int64_t job_id, const char* status,
            const json& counts, const std::optional<std::string>& error) {
  db.RunSync([&](db::Tx& tx) {
    tx.Exec(store::kJobFinish, tenant_id, job_id, status, counts.dump(), db::Nullable(error),
            At(core::SystemClock().Now()));
  });
}

// What the chunks of one expiry run add up to; workers add to it after each committed chunk.
class ExpiryTotals {
 public:
  // Adds a committed chunk's rows; returns how many lots they expired.
  std::int64_t Add(const std::vector<ChunkRow>& rows) {
    std::lock_guard lock(mu_);
    std::int64_t n = 0;
    for (const auto& r : rows) {
      auto& s = by_source_[r.source];
      if (s.is_null()) s = {{"lots_expired", 0}, {"points_expired", 0}, {"points_carried_over", 0}};
      s["lots_expired"] = s["lots_expired"].get<std::int64_t>() + r.lots;
      s["points_expired"] = s["points_expired"].get<std::int64_t>() + r.expired;
      s["points_carried_over"] = s["points_carried_over"].get<std::int64_t>() + r.carried;
      n += r.lots;
      expired_ += r.expired;
      carried_ += r.carried;
      carry_lots_ += r.carry_lots;
    }
    lots_ += n;
    return n;
  }
  json Counts() {
    std::lock_guard lock(mu_);
    return {{"lots_expired", lots_},
            {"points_expired", expired_},
            {"points_carried_over", carried_},
            {"carry_over_lots", carry_lots_},
            {"by_source", by_source_}};
  }

 private:
  std::mutex mu_;
  std::int64_t lots_ = 0, expired_ = 0, carried_ = 0, carry_lots_ = 0;
  json by_source_ = json::object();
};

// One worker's share of the run: the lots of members with ids in [first, end), chunk by chunk in
// index order. Members never span workers, so workers never wait on each other.
void ExpirePart(db::Database& db, const ExpiryJob& job, std::int64_t first, std::int64_t end,
                ExpiryTotals& totals) {
  std::string after_expires_at = "-infinity", after_id = "0";  // the last key done
  for (;;) {
    // One short transaction per chunk: accruals and redemptions of the same members wait at most
    // one chunk, never the whole job. Totals are added only once the chunk has committed, so a
    // retried chunk never counts twice.
    const auto chunk = db.RunSync([&](db::Tx& tx) {
      // Index nested loops: the chunk touches a few thousand rows of tables with millions. A plan
      // for this chunk's own key and range: a generic plan of the prepared statement cannot seek.
      tx.work().exec(
          "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off;"
          " SET LOCAL plan_cache_mode = force_custom_plan");
      Chunk chunk;
      for (const auto& r : tx.Exec(store::kExpireChunk, job.tenant_id, At(job.as_of), job.chunk_lots,
                                   At(job.booked_at), after_expires_at, after_id, first, end)) {
        if (r[0].is_null()) {  // the trailer
          chunk.walked = r[1].as<std::int64_t>();
          if (!r[5].is_null()) chunk.last = {r[5].as<std::string>(), r[6].as<std::string>()};
          continue;
        }
        chunk.rows.push_back({r[0].as<std::string>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>(),
                              r[3].as<std::int64_t>(), r[4].as<std::int64_t>()});
      }
      return chunk;
    });
    totals.Add(chunk.rows);
    if (chunk.walked < job.chunk_lots) return;
    after_expires_at = chunk.last->first;
    after_id = chunk.last->second;
  }
}

}  // namespace

std::optional<json> RunExpiry(db::Database& db, const ExpiryJob& job, bool wait) {
  const std::int64_t key = kExpiryLockTag | job.tenant_id;
  auto lock = wait ? db.Lock(key) : db.TryLock(key);
  if (!lock) return std::nullopt;
  const auto started = core::SystemClock().Now();
  const auto job_id = db.RunSync([&](db::Tx& tx) {
    tx.Exec(store::kJobAbandon, job.tenant_id, "expiry", At(started));
    return tx
        .Exec(store::kJobStart, job.tenant_id, "expiry", TriggerName(job.trigger), At(job.as_of),
              At(started))[0][0]
        .as<std::int64_t>();
  });
  // Workers split the tenant's member ids into equal ranges.
  const auto [min_id, max_id] = db.RunSync([&](db::Tx& tx) {
    auto r = tx.Exec(store::kMemberIdRange, job.tenant_id)[0];
    return std::pair{r[0].as<std::int64_t>(), r[1].as<std::int64_t>()};
  });
  const std::int64_t span = (max_id - min_id) / std::max(1, job.workers) + 1;
  ExpiryTotals totals;
  std::mutex error_mu;
  std::exception_ptr error;
  auto work = [&, min_id = min_id, max_id = max_id](int part) {
    const std::int64_t first = min_id + part * span;
    const std::int64_t end = part + 1 == job.workers ? max_id + 1 : first + span;
    try {
      ExpirePart(db, job, first, end, totals);
    } catch (...) {
      std::lock_guard guard(error_mu);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> helpers;
  for (int part = 1; part < job.workers; ++part) helpers.emplace_back(work, part);
  work(0);
  for (auto& t : helpers) t.join();
  if (error) {
    // Chunks already committed stay expired (each is whole); the next run finishes the rest.
    std::string what = "unknown error";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    Finish(db, job.tenant_id, job_id, "failed", totals.Counts(), what);
    std::rethrow_exception(error);
  }
  Finish(db, job.tenant_id, job_id, "done", totals.Counts(), std::nullopt);
  return db.RunSync([&](db::Tx& tx) { return GetJob(tx, job.tenant_id, job_id); });
}

std::vector<json> RunDueExpiries(db::Database& db, core::Instant now, int chunk_lots, int workers) {
  std::vector<std::int64_t> tenants;
  db.RunSync([&](db::Tx& tx) {
    for (const auto& r : tx.Exec(store::kTenantsWithDueLots, At(now)))
      tenants.push_back(r[0].as<std::int64_t>());
  });
  std::vector<json> runs;
  for (const auto tenant : tenants) {
    ExpiryJob job{tenant, now, now, JobTrigger::kSchedule, chunk_lots, workers};
    if (auto run = RunExpiry(db, job, false)) runs.push_back(std::move(*run));
  }
  return runs;
}

json RunRegrade(db::Database& db, const RegradeJob& job) {
  if (job.as_of > job.now) {
    throw DomainError(ErrorCode::kValidationFailed, "as_of is in the future",
                      {{"as_of", "must not be later than now (" + At(job.now) + ")"}});
  }
  return db.RunSync([&](db::Tx& tx) -> json {
    tx.work().exec(kRegradeSettings);
    if (!tx.ExecOne(store::kTiersGet, job.tenant_id)) {
      throw DomainError(ErrorCode::kNoTierScheme, "Set the tenant's tiers with PUT /v1/tiers first");
    }
    std::int64_t job_id = 0;
    if (job.trigger == JobTrigger::kSchedule) {
      auto claim =
          tx.ExecOne(store::kRegradeClaim, job.tenant_id, At(job.as_of), At(core::SystemClock().Now()));
      if (!claim) return nullptr;  // another process graded this boundary
      job_id = (*claim)[0].as<std::int64_t>();
    } else {
      auto last = tx.Exec(store::kLastRegrade, job.tenant_id);
      if (!last[0][0].is_null() && core::FromUnixMicros(last[0][0].as<std::int64_t>()) > job.as_of) {
        throw DomainError(ErrorCode::kConflict,
                          "A re-grade as of " + At(core::FromUnixMicros(last[0][0].as<std::int64_t>())) +
                              " already ran; tiers are not graded backwards",
                          {{"as_of", "earlier than the last re-grade"}});
      }
      job_id = tx.Exec(store::kJobStart, job.tenant_id, "regrade", TriggerName(job.trigger), At(job.as_of),
                       At(core::SystemClock().Now()))[0][0]
                   .as<std::int64_t>();
    }
    std::int64_t members = 0, changed = 0, up = 0, down = 0;
    json by_tier = json::object();
    for (const auto& r : tx.Exec(store::kRegrade, job.tenant_id, At(job.as_of), job_id)) {
      by_tier[r[0].as<std::string>()] = r[1].as<std::int64_t>();
      members += r[1].as<std::int64_t>();
      up += r[2].as<std::int64_t>();
      down += r[3].as<std::int64_t>();
      changed = r[4].as<std::int64_t>();
    }
    const json counts = {{"members", members},
                         {"changed", changed},
                         {"upgraded", up},
                         {"downgraded", down},
                         {"by_tier", by_tier}};
    tx.Exec(store::kJobFinish, job.tenant_id, job_id, "done", counts.dump(), db::Nullable(std::nullopt),
            At(core::SystemClock().Now()));
    return GetJob(tx, job.tenant_id, job_id);
  });
}

std::vector<json> RunDueRegrades(db::Database& db, core::Instant now) {
  std::vector<std::pair<std::int64_t, core::Instant>> due;
  db.RunSync([&](db::Tx& tx) {
    for (const auto& r : tx.Exec(store::kDueRegrades, At(now))) {
      due.emplace_back(r[0].as<std::int64_t>(), core::FromUnixMicros(r[1].as<std::int64_t>()));
    }
  });
  std::vector<json> runs;
  for (const auto& [tenant, boundary] : due) {
    auto run = RunRegrade(db, RegradeJob{tenant, boundary, now, JobTrigger::kSchedule});
    if (!run.is_null()) runs.push_back(std::move(run));
  }
  return runs;
}

json GetJob(db::Tx& tx, std::int64_t tenant_id, std::int64_t job_id) {
  auto row = tx.ExecOne(store::kJobGet, tenant_id, job_id);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No job " + std::to_string(job_id));
  return JobRow(*row);
}

json ListJobs(db::Tx& tx, std::int64_t tenant_id, const std::optional<std::string>& kind,
              std::optional<std::int64_t> after, int limit) {
  auto rows =
      tx.Exec(store::kJobList, tenant_id, db::Nullable(kind), db::Nullable(http::OptText(after)), limit + 1);
  return http::Page(rows, limit, [](const pqxx::row& r) { return JobRow(r); });
}

json Breakage(db::Tx& tx, std::int64_t tenant_id, core::Instant from, core::Instant to) {
  json out = json::array();
  for (const auto& r : tx.Exec(store::kBreakage, tenant_id, At(from), At(to))) {
    out.push_back({{"partner", r[0].as<std::string>()},
                   {"points_expired", r[1].as<std::int64_t>()},
                   {"points_carried_over", r[2].as<std::int64_t>()}});
  }
  return out;
}

}  // namespace unipoints::lots
