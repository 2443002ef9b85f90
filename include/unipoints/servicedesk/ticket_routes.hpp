#pragma once

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/router.hpp"

namespace unipoints::servicedesk {

// POST /v1/tickets, PATCH /v1/tickets/{id}, GET /v1/tickets, GET /v1/tickets/{id}.
void RegisterTicketRoutes(http::Router& router, db::Database& db, const core::Clock& clock,
                          int max_list_limit);

}  // namespace unipoints::servicedesk
