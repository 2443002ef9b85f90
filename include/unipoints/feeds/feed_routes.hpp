#pragma once

#include "unipoints/config/config.hpp"
#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/earning/accrual_service.hpp"
#include "unipoints/http/metrics.hpp"
#include "unipoints/http/router.hpp"

namespace unipoints::feeds {

// POST /v1/feeds (streaming), GET /v1/feeds/{id}, GET /v1/feeds/{id}/rejects.
void RegisterFeedRoutes(http::Router& router, db::Database& db, const config::Config& config,
                        const core::Clock& clock, http::Metrics& metrics, earning::RuleCache& rules);

}  // namespace unipoints::feeds
