#pragma once

#include "unipoints/config/config.hpp"
#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/router.hpp"

namespace unipoints::spending {

// Rewards (POST/GET/PATCH) and redemptions (POST, GET, cancel).
void RegisterRedemptionRoutes(http::Router& router, db::Database& db, const config::Config& config,
                              const core::Clock& clock);

}  // namespace unipoints::spending
