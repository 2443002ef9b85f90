// The served OpenAPI document (api/openapi.json) and the router must list the same operations.

#include <set>

#include <gtest/gtest.h>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include "unipoints/app/routes.hpp"
#include "unipoints/http/ops_routes.hpp"

namespace unipoints {
namespace {

std::set<std::string> RouterOperations() {
  config::Config config;
  config.database_url = "postgresql://unused";  // the pool connects lazily; nothing connects here
  config.db_pool_size = 1;
  db::Database db(config);
  core::SystemClock clock;
  http::Metrics metrics;
  members::MemberService members("00");
  earning::RuleCache rules;
  http::Router router;
  app::RegisterAllRoutes(router, {db, config, clock, metrics, members, rules, [] { return false; }});
  std::set<std::string> ops;
  for (const auto& r : router.routes()) {
    std::string method(boost::beast::http::to_string(r.method));
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ops.insert(method + " " + r.pattern);
  }
  return ops;
}

std::set<std::string> DocumentOperations() {
  std::set<std::string> ops;
  for (const auto& [path, item] : http::OpenApi().at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      ops.insert(method + " " + path);
    }
  }
  return ops;
}

TEST(OpenApiTest, IsOpenApi31) {
  EXPECT_EQ(http::OpenApi().at("openapi").get<std::string>().substr(0, 3), "3.1");
}

TEST(OpenApiTest, EveryRouteIsDocumented) {
  const auto documented = DocumentOperations();
  for (const auto& op : RouterOperations())
    EXPECT_TRUE(documented.contains(op)) << op << " is not in api/openapi.json";
}

TEST(OpenApiTest, EveryDocumentedOperationIsRouted) {
  const auto routed = RouterOperations();
  for (const auto& op : DocumentOperations()) EXPECT_TRUE(routed.contains(op)) << op << " has no route";
}

TEST(OpenApiTest, EveryOperationHasSummaryAndResponses) {
  for (const auto& [path, item] : http::OpenApi().at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      if (!op.is_object()) continue;
      EXPECT_TRUE(op.contains("summary")) << method << " " << path;
      EXPECT_TRUE(op.contains("responses")) << method << " " << path;
    }
  }
}

}  // namespace
}  // namespace unipoints
