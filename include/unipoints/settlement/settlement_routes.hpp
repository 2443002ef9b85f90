#pragma once

#include "unipoints/config/config.hpp"
#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/router.hpp"

namespace unipoints::settlement {

// Settlement agreements (PUT/GET /v1/settlement-agreements) and runs (/v1/settlements...).
void RegisterSettlementRoutes(http::Router& router, db::Database& db, const config::Config& config,
                              const core::Clock& clock);

}  // namespace unipoints::settlement
