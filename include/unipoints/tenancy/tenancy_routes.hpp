#pragma once

#include "unipoints/config/config.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/router.hpp"
#include "unipoints/http/server.hpp"

namespace unipoints::tenancy {

// POST /v1/tenants, GET /v1/tenant, partners, keys, policy.
void RegisterTenancyRoutes(http::Router& router, db::Database& db, const config::Config& config);

// Resolves "Authorization: Bearer <key>" against the route's roles: 401 without a valid key,
// 403 for a key of the wrong role. The platform key only opens platform routes.
http::Authenticator MakeAuthenticator(db::Database& db, const config::Config& config);

}  // namespace unipoints::tenancy
