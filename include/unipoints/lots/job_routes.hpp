#pragma once

#include "unipoints/config/config.hpp"
#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/router.hpp"

namespace unipoints::lots {

// PUT/GET /v1/tiers, GET /v1/members/{id}/tier-history, POST /v1/jobs/expiry, POST /v1/jobs/regrade,
// GET /v1/jobs, GET /v1/jobs/{id}.
void RegisterJobRoutes(http::Router& router, db::Database& db, const config::Config& config,
                       const core::Clock& clock);

}  // namespace unipoints::lots
