#pragma once

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/router.hpp"

namespace unipoints::spending {

// POST /v1/transfers.
void RegisterTransferRoutes(http::Router& router, db::Database& db, const core::Clock& clock);

}  // namespace unipoints::spending
