#pragma once
// The server's scheduler: a thread of its own (database work never runs on the io threads) that
// wakes every scheduler_interval_ms and runs what is due, in this order: point expiry (every tenant
// with lots past their expiry instant), tier re-grades (every cadence boundary reached, in tenant
// time), settlement drafts (each tenant's previous month). Every job is idempotent and serialised in
// the database, so several server processes may run schedulers at once and each job still happens
// once; a boundary missed while no server ran is caught up at the next pass (the first at start).

#include <condition_variable>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "unipoints/config/config.hpp"
#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"

namespace unipoints::app {

class Scheduler {
 public:
  Scheduler(db::Database& db, const config::Config& config, const core::Clock& clock);
  ~Scheduler();  // stops and joins
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the thread (when scheduler_interval_ms > 0).
  void Start();
  // One pass now, on the calling thread (never concurrently with the thread's own pass):
  // {as_of, expiry:[runs], regrade:[runs], settlement_drafts}.
  nlohmann::json RunOnce();

 private:
  void Loop();

  db::Database& db_;
  const config::Config& config_;
  const core::Clock& clock_;
  std::mutex pass_mu_;  // one pass at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace unipoints::app
