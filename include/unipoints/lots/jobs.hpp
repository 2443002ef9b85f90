#pragma once
// The time jobs of a tenant: point expiry and tier re-grading. Every run is recorded in job_runs with
// its counts. Expiry spans many short transactions and holds the tenant's advisory lock for it, so a
// second process waits (API, CLI) or skips (schedule); expiring is idempotent per lot anyway. A
// scheduled re-grade claims its boundary in the same transaction that grades, so it runs once.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"

namespace unipoints::lots {

enum class JobTrigger { kApi, kCli, kSchedule };

struct ExpiryJob {
  std::int64_t tenant_id = 0;
  core::Instant as_of;      // lots whose expiry instant is at or before as_of expire
  core::Instant booked_at;  // when the expiry and carry_over entries are booked (the clock's now)
  JobTrigger trigger = JobTrigger::kApi;
  int chunk_lots = 2000;
  int workers = 2;  // connections working in parallel, each on its own members
};

// Expires every lot still holding points whose expiry instant is at or before `as_of`, chunk by
// chunk, and records the run: {id, kind, trigger, as_of, status, counts:{lots_expired,
// points_expired, points_carried_over, carry_over_lots, by_source}, started_at, finished_at}.
// nullopt only when `wait` is false and another session is running the tenant's expiry.
std::optional<nlohmann::json> RunExpiry(db::Database& db, const ExpiryJob& job, bool wait);

// The scheduler's pass: expires, as of `now`, every tenant that has lots past expiry. Returns the
// runs made.
std::vector<nlohmann::json> RunDueExpiries(db::Database& db, core::Instant now, int chunk_lots, int workers);

struct RegradeJob {
  std::int64_t tenant_id = 0;
  core::Instant as_of;  // the new tiers apply from this instant
  core::Instant now;
  JobTrigger trigger = JobTrigger::kApi;
};

// Re-grades every member of the tenant in one set-based statement and records the run; counts are
// {members, changed, upgraded, downgraded, by_tier:{code:members}}. Refused without a tier scheme
// (409 no_tier_scheme), or with `as_of` earlier than the tenant's last re-grade (409 conflict).
nlohmann::json RunRegrade(db::Database& db, const RegradeJob& job);

// The scheduler's pass: every cadence boundary reached since each tenant set its scheme and not yet
// graded, oldest first, each claimed by exactly one process. Returns the runs made.
std::vector<nlohmann::json> RunDueRegrades(db::Database& db, core::Instant now);

nlohmann::json GetJob(db::Tx& tx, std::int64_t tenant_id, std::int64_t job_id);
// Newest first; `kind` "expiry" or "regrade" or nullopt for both.
nlohmann::json ListJobs(db::Tx& tx, std::int64_t tenant_id, const std::optional<std::string>& kind,
                        std::optional<std::int64_t> after, int limit);

// Expired and carried-over points booked in [from, to) per source partner code:
// [{partner, points_expired, points_carried_over}], for breakage figures.
nlohmann::json Breakage(db::Tx& tx, std::int64_t tenant_id, core::Instant from, core::Instant to);

}  // namespace unipoints::lots
