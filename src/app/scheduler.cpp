#include "unipoints/app/scheduler.hpp"

#include <spdlog/spdlog.h>

#include "unipoints/settlement/run_service.hpp"

namespace unipoints::app {

Scheduler::Scheduler(db::Database& db, const config::Config& config, const core::Clock& clock)
    : db_(db), config_(config), clock_(clock) {
  if (config_.scheduler_interval_ms > 0) thread_ = std::thread([this] { Loop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    try {
      const int drafts = settlement::RunDueDrafts(db_, clock_.Now());
      if (drafts > 0) spdlog::info("scheduler: {} settlement draft(s) made", drafts);
    } catch (const std::exception& e) {
      spdlog::warn("scheduler: settlement drafts failed: {}", e.what());
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(config_.scheduler_interval_ms), [this] { return stop_; });
  }
}

}  // namespace unipoints::app
