#include "unipoints/app/scheduler.hpp"

#include <spdlog/spdlog.h>

#include "unipoints/lots/jobs.hpp"
#include "unipoints/settlement/run_service.hpp"

namespace unipoints::app {

using nlohmann::json;

Scheduler::Scheduler(db::Database& db, const config::Config& config, const core::Clock& clock)
    : db_(db), config_(config), clock_(clock) {}

void Scheduler::Start() {
  if (config_.scheduler_interval_ms > 0 && !thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

json Scheduler::RunOnce() {
  std::lock_guard pass(pass_mu_);
  const auto now = clock_.Now();
  json out = {{"as_of", core::FormatRfc3339(now)},
              {"expiry", json::array()},
              {"regrade", json::array()},
              {"settlement_drafts", 0}};
  // Each job on its own: one failing (say, a tenant without agreements) never starves the others.
  try {
    for (auto& run : lots::RunDueExpiries(db_, now, config_.expiry_chunk_lots, config_.expiry_workers)) {
      spdlog::info("scheduler: expiry job {}: {}", run.value("id", 0), run["counts"].dump());
      out["expiry"].push_back(std::move(run));
    }
  } catch (const std::exception& e) {
    spdlog::warn("scheduler: expiry failed: {}", e.what());
    out["expiry_error"] = e.what();
  }
  try {
    for (auto& run : lots::RunDueRegrades(db_, now)) {
      spdlog::info("scheduler: re-grade as of {}: {}", run["as_of"].get<std::string>(), run["counts"].dump());
      out["regrade"].push_back(std::move(run));
    }
  } catch (const std::exception& e) {
    spdlog::warn("scheduler: re-grade failed: {}", e.what());
    out["regrade_error"] = e.what();
  }
  try {
    const int drafts = settlement::RunDueDrafts(db_, now);
    if (drafts > 0) spdlog::info("scheduler: {} settlement draft(s) made", drafts);
    out["settlement_drafts"] = drafts;
  } catch (const std::exception& e) {
    spdlog::warn("scheduler: settlement drafts failed: {}", e.what());
    out["settlement_error"] = e.what();
  }
  return out;
}

void Scheduler::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    RunOnce();
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(config_.scheduler_interval_ms), [this] { return stop_; });
  }
}

}  // namespace unipoints::app
