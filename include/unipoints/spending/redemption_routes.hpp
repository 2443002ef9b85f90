#pragma once

#include "unipoints/config/config.hpp"
#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/router.hpp"
#include "unipoints/spending/redemption_committer.hpp"

namespace unipoints::spending {

// Rewards (POST/GET/PATCH) and redemptions (POST, GET, cancel). Redemptions go through
// `committer` (grouped); without one, each is its own transaction.
void RegisterRedemptionRoutes(http::Router& router, db::Database& db, const config::Config& config,
                              const core::Clock& clock, RedemptionCommitter* committer);

}  // namespace unipoints::spending
