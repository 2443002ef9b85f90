#include "unipoints/app/routes.hpp"

#include "unipoints/earning/earning_routes.hpp"
#include "unipoints/earning/reversal_routes.hpp"
#include "unipoints/feeds/feed_routes.hpp"
#include "unipoints/http/ops_routes.hpp"
#include "unipoints/lots/job_routes.hpp"
#include "unipoints/lots/lots_routes.hpp"
#include "unipoints/members/members_routes.hpp"
#include "unipoints/servicedesk/ticket_routes.hpp"
#include "unipoints/settlement/settlement_routes.hpp"
#include "unipoints/spending/adjustment_routes.hpp"
#include "unipoints/spending/redemption_routes.hpp"
#include "unipoints/spending/transfer_routes.hpp"
#include "unipoints/tenancy/tenancy_routes.hpp"

namespace unipoints::app {

void RegisterAllRoutes(http::Router& router, const Wiring& w) {
  tenancy::RegisterTenancyRoutes(router, w.db, w.config, w.key_cache);
  members::RegisterMemberRoutes(router, w.db, w.clock, w.members, w.config.max_list_limit);
  earning::RegisterEarningRoutes(router, w.db, w.config, w.clock, w.metrics, w.rule_cache, w.committer);
  earning::RegisterReversalRoutes(router, w.db, w.clock);
  feeds::RegisterFeedRoutes(router, w.db, w.config, w.clock, w.metrics, w.rule_cache);
  lots::RegisterLotRoutes(router, w.db, w.clock, w.config.max_list_limit, w.balance_reader);
  spending::RegisterRedemptionRoutes(router, w.db, w.config, w.clock, w.redemptions);
  spending::RegisterTransferRoutes(router, w.db, w.clock);
  spending::RegisterAdjustmentRoutes(router, w.db, w.clock, w.config.max_list_limit);
  servicedesk::RegisterTicketRoutes(router, w.db, w.clock, w.config.max_list_limit);
  settlement::RegisterSettlementRoutes(router, w.db, w.config, w.clock);
  lots::RegisterJobRoutes(router, w.db, w.config, w.clock);
  http::RegisterOpsRoutes(router, w.db, w.metrics, w.stopping);
  RegisterClockRoutes(router, w);
}

}  // namespace unipoints::app
