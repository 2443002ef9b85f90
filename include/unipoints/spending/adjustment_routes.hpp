#pragma once

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/router.hpp"

namespace unipoints::spending {

// POST /v1/adjustments, POST /v1/adjustments/{id}/approve, GET /v1/adjustments[/{id}].
void RegisterAdjustmentRoutes(http::Router& router, db::Database& db, const core::Clock& clock,
                              int max_list_limit);

}  // namespace unipoints::spending
