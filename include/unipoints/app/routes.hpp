#pragma once
// Every route of the server, registered in one place (used by `serve` and by the OpenAPI test).

#include <functional>

#include "unipoints/app/scheduler.hpp"
#include "unipoints/config/config.hpp"
#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/earning/accrual_service.hpp"
#include "unipoints/earning/group_commit.hpp"
#include "unipoints/http/metrics.hpp"
#include "unipoints/http/router.hpp"
#include "unipoints/lots/balance_reader.hpp"
#include "unipoints/members/members_service.hpp"
#include "unipoints/spending/redemption_committer.hpp"
#include "unipoints/tenancy/key_cache.hpp"

namespace unipoints::app {

struct Wiring {
  db::Database& db;
  const config::Config& config;
  const core::Clock& clock;
  http::Metrics& metrics;
  const members::MemberService& members;
  earning::RuleCache& rule_cache;
  std::function<bool()> stopping;
  core::SettableClock* settable_clock = nullptr;  // set when config.clock == "settable"
  Scheduler* scheduler = nullptr;
  tenancy::KeyCache* key_cache = nullptr;
  earning::AccrualCommitter* committer = nullptr;        // group commit of single accruals
  lots::BalanceReader* balance_reader = nullptr;         // grouped balance reads
  spending::RedemptionCommitter* redemptions = nullptr;  // grouped redemptions
};

void RegisterAllRoutes(http::Router& router, const Wiring& w);
// GET/PUT /v1/ops/clock and POST /v1/ops/scheduler/run (platform key).
void RegisterClockRoutes(http::Router& router, const Wiring& w);

}  // namespace unipoints::app
