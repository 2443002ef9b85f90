#pragma once

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/router.hpp"

namespace unipoints::earning {

// POST /v1/accruals/{event_id}/reversals.
void RegisterReversalRoutes(http::Router& router, db::Database& db, const core::Clock& clock);

}  // namespace unipoints::earning
