#pragma once

#include "unipoints/config/config.hpp"
#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/earning/accrual_service.hpp"
#include "unipoints/earning/group_commit.hpp"
#include "unipoints/http/metrics.hpp"
#include "unipoints/http/router.hpp"

namespace unipoints::earning {

// Earning rules (PUT/GET /v1/partners/{code}/earning-rules) and accruals (single and batch).
// Single accruals go through `committer` (group commit); without one, each is its own transaction.
void RegisterEarningRoutes(http::Router& router, db::Database& db, const config::Config& config,
                           const core::Clock& clock, http::Metrics& metrics, RuleCache& rule_cache,
                           AccrualCommitter* committer);

}  // namespace unipoints::earning
