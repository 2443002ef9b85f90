#include "unipoints/lots/balance_reader.hpp"

namespace unipoints::lots {

BalanceReader::BalanceReader(db::Database& db, const config::Config& config, http::Metrics& metrics)
    : batcher_({static_cast<std::size_t>(config.balance_read_max_members), std::chrono::microseconds(0),
                config.balance_readers},
               [&db, &metrics](const std::vector<const BalanceQuery*>& queries) {
                 // One statement is its own snapshot: no transaction needed.
                 auto out = db.ReadSync([&](db::Tx& tx) { return Balances(tx, queries); });
                 metrics.Add("unipoints_balance_read_batches_total", "", 1);
                 metrics.Add("unipoints_balance_reads_total", "", static_cast<std::int64_t>(queries.size()));
                 return out;
               }) {}

}  // namespace unipoints::lots
