#pragma once

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/router.hpp"

namespace unipoints::lots {

// GET /v1/members/{id}/balance and /v1/members/{id}/ledger.
void RegisterLotRoutes(http::Router& router, db::Database& db, const core::Clock& clock, int max_list_limit);

}  // namespace unipoints::lots
