#pragma once

#include "unipoints/config/config.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/router.hpp"
#include "unipoints/http/server.hpp"
#include "unipoints/tenancy/key_cache.hpp"

namespace unipoints::tenancy {

// POST /v1/tenants, GET /v1/tenant, partners, keys, policy.
// `cache` (may be null) is emptied at once when this process revokes a key.
void RegisterTenancyRoutes(http::Router& router, db::Database& db, const config::Config& config,
                           KeyCache* cache = nullptr);

// Resolves "Authorization: Bearer <key>" against the route's roles: 401 without a valid key,
// 403 for a key of the wrong role. The platform key only opens platform routes.
// `cache` (may be null) saves the database lookup for keys seen recently.
http::Authenticator MakeAuthenticator(db::Database& db, const config::Config& config,
                                      KeyCache* cache = nullptr);

}  // namespace unipoints::tenancy
