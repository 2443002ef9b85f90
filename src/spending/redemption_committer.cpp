#include "unipoints/spending/redemption_committer.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include "unipoints/http/idempotent.hpp"

namespace unipoints::spending {
namespace {

// Each alone, as without grouping: its own transaction, a refusal stored after it rolled back.
std::vector<RedemptionOutcome> ApplyEachAlone(db::Database& db, const core::Clock& clock,
                                              const std::vector<const RedemptionJob*>& jobs) {
  std::vector<RedemptionOutcome> out(jobs.size());
  for (std::size_t k = 0; k < jobs.size(); ++k) {
    const auto& j = *jobs[k];
    try {
      out[k].result = http::RunIdempotentFoldedSync(
          db, j.key, [&j, &clock](db::Tx& tx) { return Redeem(tx, j.key, j.who, j.request, clock.Now()); });
    } catch (...) {
      out[k].error = std::current_exception();
    }
  }
  return out;
}

}  // namespace

std::vector<RedemptionOutcome> ApplyRedemptions(db::Database& db, const core::Clock& clock,
                                                const std::vector<const RedemptionJob*>& jobs) {
  if (jobs.size() < 2) return ApplyEachAlone(db, clock, jobs);
  // Members named by id are taken in id order (the lock order of point movements), so that two
  // groups rarely wait for each other in a cycle; a deadlock is retried like any other.
  std::vector<std::size_t> order(jobs.size());
  std::iota(order.begin(), order.end(), 0);
  const auto rank = [&jobs](std::size_t k) {
    const auto& r = jobs[k]->request;
    return std::make_tuple(r.member_id.value_or(std::numeric_limits<std::int64_t>::max()),
                           r.card_no.value_or(std::string()), k);
  };
  std::sort(order.begin(), order.end(), [&rank](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
  try {
    return db.RunSync([&](db::Tx& tx) {
      std::vector<RedemptionOutcome> out(jobs.size());
      for (const auto k : order) {
        const auto& j = *jobs[k];
        bool wrote = false;
        try {
          out[k].result = Redeem(tx, j.key, j.who, j.request, clock.Now(), &wrote);
        } catch (const core::DomainError& e) {
          // Refused after its rows were written (a limited stock ran out meanwhile): the group
          // cannot commit them, so it rolls back and each request runs alone.
          if (wrote) throw;
          if (core::Describe(e.code()).http_status == 422) {
            out[k].result = http::RecordRefusal(tx, j.key, e);
          } else {
            out[k].error = std::current_exception();  // nothing written: 404, 409 and the like
          }
        }
      }
      return out;
    });
  } catch (const pqxx::in_doubt_error&) {
    // The commit may or may not have happened: never run again blindly; each request says so.
    std::vector<RedemptionOutcome> out(jobs.size());
    for (auto& o : out) o.error = std::current_exception();
    return out;
  } catch (...) {
    // The group's transaction failed (a request tripped a database check, the connection broke,
    // retries ran out): nothing of it was committed, each request runs alone.
  }
  return ApplyEachAlone(db, clock, jobs);
}

RedemptionCommitter::RedemptionCommitter(db::Database& db, const config::Config& config,
                                         const core::Clock& clock, http::Metrics& metrics)
    : batcher_({static_cast<std::size_t>(config.redemption_group_max), std::chrono::microseconds(0),
                config.redemption_writers},
               [&db, &clock, &metrics](const std::vector<const RedemptionJob*>& jobs) {
                 auto out = ApplyRedemptions(db, clock, jobs);
                 metrics.Add("unipoints_redemption_groups_total", "", 1);
                 metrics.Add("unipoints_redemption_group_requests_total", "",
                             static_cast<std::int64_t>(jobs.size()));
                 return out;
               }) {}

}  // namespace unipoints::spending
