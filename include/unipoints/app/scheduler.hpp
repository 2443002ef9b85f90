#pragma once
// The server's scheduler: a thread of its own (database work never runs on the io threads) that
// wakes every scheduler_interval_ms and runs the jobs that are due. Every job is idempotent and
// serialised in the database, so several server processes may run schedulers at once, and a
// boundary missed while no server ran is caught up at the next wake-up.

#include <condition_variable>
#include <mutex>
#include <thread>

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

 private:
  void Loop();

  db::Database& db_;
  const config::Config& config_;
  const core::Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace unipoints::app
