#pragma once

#include <functional>

#include "unipoints/db/database.hpp"
#include "unipoints/http/metrics.hpp"
#include "unipoints/http/router.hpp"

namespace unipoints::http {

// /healthz, /readyz, /metrics and /openapi.json. Register last: the OpenAPI document lists the
// router's routes as they are when it is served.
void RegisterOpsRoutes(Router& router, db::Database& db, Metrics& metrics, std::function<bool()> stopping);

// The OpenAPI 3.1 document for every route of `router`.
nlohmann::json OpenApi(const Router& router);

}  // namespace unipoints::http
