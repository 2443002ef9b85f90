#include "unipoints/earning/group_commit.hpp"

namespace unipoints::earning {

AccrualCommitter::AccrualCommitter(db::Database& db, const config::Config& config, const core::Clock& clock,
                                   RuleCache& rules, http::Metrics& metrics)
    : batcher_({static_cast<std::size_t>(config.group_commit_max_events),
                std::chrono::microseconds(config.group_commit_window_us), config.group_commit_writers},
               [&db, &clock, &rules, &metrics](const std::vector<const AccrualItem*>& items) {
                 auto outcomes = ApplyAccrualsIsolated(db, items, rules, clock);
                 metrics.Add("unipoints_group_commit_batches_total", "", 1);
                 metrics.Add("unipoints_group_commit_events_total", "",
                             static_cast<std::int64_t>(items.size()));
                 return outcomes;
               }) {}

}  // namespace unipoints::earning
