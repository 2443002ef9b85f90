#pragma once

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/router.hpp"
#include "unipoints/members/members_service.hpp"

namespace unipoints::members {

// POST/GET /v1/members, GET /v1/members/{id}, report-lost, replacement cards.
void RegisterMemberRoutes(http::Router& router, db::Database& db, const core::Clock& clock,
                          const MemberService& service, int max_list_limit);

}  // namespace unipoints::members
