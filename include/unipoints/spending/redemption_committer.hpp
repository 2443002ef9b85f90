#pragma once
// Grouped redemptions: concurrent POST /v1/redemptions are gathered (no waiting: what is queued
// when a writer is free, up to redemption_group_max) and run one after another in one
// transaction, so BEGIN, COMMIT and its flush, and the hops to a database thread are paid once
// per group. Each request still takes its member's lock and lots in its own statements and sees
// the ones before it in the group. A refusal is stored in the same transaction; should the group's
// transaction fail for any other reason, every request of it runs alone, as without grouping.

#include <boost/asio/awaitable.hpp>

#include "unipoints/config/config.hpp"
#include "unipoints/core/time.hpp"
#include "unipoints/db/batcher.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/db/idempotency_store.hpp"
#include "unipoints/http/metrics.hpp"
#include "unipoints/spending/redemption_service.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::spending {

struct RedemptionJob {
  db::IdempotencyKey key;
  tenancy::Principal who;
  RedemptionRequest request;
};

struct RedemptionOutcome {
  std::pair<db::StoredAnswer, bool> result{db::StoredAnswer{0, nullptr}, false};  // answer, replay
  std::exception_ptr error;
};

// Runs `jobs` as one group (see above); one outcome per job, in order.
std::vector<RedemptionOutcome> ApplyRedemptions(db::Database& db, const core::Clock& clock,
                                                const std::vector<const RedemptionJob*>& jobs);

class RedemptionCommitter {
 public:
  RedemptionCommitter(db::Database& db, const config::Config& config, const core::Clock& clock,
                      http::Metrics& metrics);

  void Start() { batcher_.Start(); }
  void Stop() { batcher_.Stop(); }

  // The answer and whether it is a replay; throws what the request failed with.
  boost::asio::awaitable<RedemptionOutcome> Submit(RedemptionJob job) {
    return batcher_.Submit(std::move(job));
  }

 private:
  db::Batcher<RedemptionJob, RedemptionOutcome> batcher_;
};

}  // namespace unipoints::spending
