#pragma once

#include <functional>

#include "unipoints/db/database.hpp"
#include "unipoints/http/metrics.hpp"
#include "unipoints/http/router.hpp"

namespace unipoints::http {

// /healthz, /readyz, /metrics and /openapi.json.
void RegisterOpsRoutes(Router& router, db::Database& db, Metrics& metrics, std::function<bool()> stopping);

// The OpenAPI 3.1 document, api/openapi.json embedded at build time. A unit test holds it and
// the router's routes in step.
const char* OpenApiText();
const nlohmann::json& OpenApi();

}  // namespace unipoints::http
