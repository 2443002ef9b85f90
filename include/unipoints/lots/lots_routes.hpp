#pragma once

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/router.hpp"
#include "unipoints/lots/balance_reader.hpp"

namespace unipoints::lots {

// GET /v1/members/{id}/balance and /v1/members/{id}/ledger. Balances go through `reader` (grouped
// reads); without one, each is its own statement.
void RegisterLotRoutes(http::Router& router, db::Database& db, const core::Clock& clock, int max_list_limit,
                       BalanceReader* reader);

}  // namespace unipoints::lots
