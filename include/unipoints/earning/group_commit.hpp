#pragma once
// Group commit of single accruals: each POST /v1/accruals hands its validated event to the
// committer and waits; writer threads gather the queued events (up to group_commit_max_events,
// waiting at most group_commit_window_us after the first) into one transaction applied set-based
// (ApplyAccrualsIsolated), and every request is answered only after that transaction committed.
// While one writer commits, the next batch gathers, so batches grow with the load.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "unipoints/config/config.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/earning/accrual_batch.hpp"
#include "unipoints/http/metrics.hpp"

namespace unipoints::earning {

class AccrualCommitter {
 public:
  AccrualCommitter(db::Database& db, const config::Config& config, const core::Clock& clock, RuleCache& rules,
                   http::Metrics& metrics);
  ~AccrualCommitter();
  AccrualCommitter(const AccrualCommitter&) = delete;
  AccrualCommitter& operator=(const AccrualCommitter&) = delete;

  void Start();
  // Applies what is queued, then stops the writers. Later submissions get 503.
  void Stop();

  // The event's outcome once its transaction committed; rethrows a failure of that transaction.
  boost::asio::awaitable<AccrualOutcome> Submit(AccrualItem item);

 private:
  struct Waiting {
    AccrualItem item;
    std::function<void(AccrualOutcome)> done;
    std::chrono::steady_clock::time_point arrived;
  };

  void Enqueue(AccrualItem item, std::function<void(AccrualOutcome)> done);
  void Writer();
  void Apply(std::vector<Waiting>& batch);

  db::Database& db_;
  const config::Config& config_;
  const core::Clock& clock_;
  RuleCache& rules_;
  http::Metrics& metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Waiting> queue_;
  bool stopping_ = false;
  std::vector<std::thread> writers_;
};

}  // namespace unipoints::earning
