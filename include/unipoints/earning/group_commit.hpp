#pragma once
// Group commit of single accruals: each POST /v1/accruals hands its validated event to the
// committer and waits; writer threads gather the queued events (up to group_commit_max_events,
// waiting at most group_commit_window_us after the first) into one transaction applied set-based
// (ApplyAccrualsIsolated), and every request is answered only after that transaction committed.
// While one writer commits, the next batch gathers, so batches grow with the load.

#include <boost/asio/awaitable.hpp>

#include "unipoints/config/config.hpp"
#include "unipoints/db/batcher.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/earning/accrual_batch.hpp"
#include "unipoints/http/metrics.hpp"

namespace unipoints::earning {

class AccrualCommitter {
 public:
  AccrualCommitter(db::Database& db, const config::Config& config, const core::Clock& clock, RuleCache& rules,
                   http::Metrics& metrics);

  void Start() { batcher_.Start(); }
  // Applies what is queued, then stops the writers. Later submissions get 503.
  void Stop() { batcher_.Stop(); }

  // The event's outcome once its transaction committed; rethrows a failure of that transaction.
  boost::asio::awaitable<AccrualOutcome> Submit(AccrualItem item) { return batcher_.Submit(std::move(item)); }

 private:
  db::Batcher<AccrualItem, AccrualOutcome> batcher_;
};

}  // namespace unipoints::earning
