#pragma once
// Grouped balance reads: concurrent GET /v1/members/{id}/balance requests are gathered (no
// waiting: what is queued when a reader thread is free, up to balance_read_max_members) and read
// in one statement (Balances). Under load one statement serves dozens of requests, which costs
// PostgreSQL a fraction of a statement each; a lone request is read at once, as before.

#include <boost/asio/awaitable.hpp>

#include "unipoints/config/config.hpp"
#include "unipoints/db/batcher.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/metrics.hpp"
#include "unipoints/lots/lots_service.hpp"

namespace unipoints::lots {

class BalanceReader {
 public:
  BalanceReader(db::Database& db, const config::Config& config, http::Metrics& metrics);

  void Start() { batcher_.Start(); }
  void Stop() { batcher_.Stop(); }

  // The balance (the body of BalanceOutcome); throws not_found for an unknown member.
  boost::asio::awaitable<BalanceOutcome> Read(BalanceQuery query) { return batcher_.Submit(query); }

 private:
  db::Batcher<BalanceQuery, BalanceOutcome> batcher_;
};

}  // namespace unipoints::lots
