// Operations endpoints, request ids, keep-alive and routing over HTTP.

#include <regex>
#include <set>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class OpsTest : public IntegrationTest {};

TEST_F(OpsTest, HealthzAnswers200WithoutKey) {
  auto r = http().Get("/healthz");
  EXPECT_EQ(r.status, 200) << r;
}

TEST_F(OpsTest, ReadyzAnswers200WhenMigrated) {
  auto r = http().Get("/readyz");
  EXPECT_EQ(r.status, 200) << r;
}

TEST_F(OpsTest, MetricsCountRequestsByRouteAndStatusWithLatencyHistogram) {
  // Make a request whose route and status the metrics must then show.
  auto missing = http().Get("/v1/tenant", "not-a-key");
  ASSERT_EQ(missing.status, 401) << missing;
  auto r = http().Get("/metrics");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.ContentType().rfind("text/plain", 0), 0u) << r.ContentType();
  EXPECT_NE(r.body.find("# TYPE unipoints_http_requests_total counter"), std::string::npos) << r.body;
  const std::regex tenant_401(
      R"(unipoints_http_requests_total\{[^}]*/v1/tenant"[^}]*"401"[^}]*\} [1-9][0-9]*)");
  EXPECT_TRUE(std::regex_search(r.body, tenant_401)) << "no request count for GET /v1/tenant 401 in\n"
                                                     << r.body;
  EXPECT_NE(r.body.find("_bucket{"), std::string::npos) << "no latency histogram in\n" << r.body;
  EXPECT_NE(r.body.find("le=\"+Inf\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("unipoints_db_pool"), std::string::npos) << "no DB pool metrics in\n" << r.body;
}

TEST_F(OpsTest, MetricsCountAccruals) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  auto r = http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 1000), a.r_key);
  ASSERT_EQ(r.status, 201) << r;
  auto metrics = http().Get("/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics;
  const std::regex accruals(R"(unipoints_accruals[a-z_]*(\{[^}]*\})? [1-9][0-9]*)");
  EXPECT_TRUE(std::regex_search(metrics.body, accruals)) << "no accrual counter in\n" << metrics.body;
}

// Replaces every {name} with {} so that parameter names do not matter.
std::string Shape(const std::string& path) {
  return std::regex_replace(path, std::regex(R"(\{[^}]*\})"), "{}");
}

TEST_F(OpsTest, OpenApiIs31AndListsEveryEndpointOfTheIssue) {
  auto r = http().Get("/openapi.json");
  ASSERT_EQ(r.status, 200) << r;
  ASSERT_TRUE(r.json.is_object()) << r;
  ASSERT_TRUE(r.json.contains("openapi") && r.json["openapi"].is_string()) << r;
  EXPECT_EQ(r.json["openapi"].get<std::string>().rfind("3.1", 0), 0u) << r.json["openapi"];
  ASSERT_TRUE(r.json.contains("paths") && r.json["paths"].is_object()) << r;
  std::set<std::string> have;
  for (const auto& [path, ops] : r.json["paths"].items()) {
    for (const auto& [method, op] : ops.items()) have.insert(method + " " + Shape(path));
  }
  const std::vector<std::string> expected = {
      "post /v1/tenants",
      "get /v1/tenant",
      "post /v1/partners",
      "get /v1/partners",
      "post /v1/keys",
      "get /v1/keys",
      "delete /v1/keys/{}",
      "put /v1/policy",
      "get /v1/policy",
      "put /v1/partners/{}/earning-rules",
      "get /v1/partners/{}/earning-rules",
      "post /v1/members",
      "get /v1/members",
      "get /v1/members/{}",
      "post /v1/cards/{}/report-lost",
      "post /v1/members/{}/cards",
      "post /v1/accruals",
      "post /v1/accruals/batch",
      "get /v1/members/{}/balance",
      "get /v1/members/{}/ledger",
      "get /healthz",
      "get /readyz",
      "get /metrics",
      "get /openapi.json",
  };
  for (const auto& e : expected) EXPECT_TRUE(have.count(e)) << "OpenAPI lacks " << e;
}

TEST_F(OpsTest, EveryOpenApiOperationIsARoute) {
  auto doc = http().Get("/openapi.json");
  ASSERT_EQ(doc.status, 200) << doc;
  int checked = 0;
  for (const auto& [path, ops] : doc.json["paths"].items()) {
    const std::string target = std::regex_replace(path, std::regex(R"(\{[^}]*\})"), "1");
    for (const auto& [method, op] : ops.items()) {
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (upper != "GET" && upper != "POST" && upper != "PUT" && upper != "DELETE" && upper != "PATCH")
        continue;
      if (upper != "GET" && target.rfind("/v1/", 0) != 0) continue;
      // Without a key a real route answers 401 (or 200 for the open ones); only a missing one says 404/405.
      auto r = http().Call(upper, target);
      EXPECT_NE(r.status, 404) << upper << " " << path << " is documented but not routed: " << r;
      EXPECT_NE(r.status, 405) << upper << " " << path << " is documented but not routed: " << r;
      EXPECT_LT(r.status, 500) << upper << " " << path << ": " << r;
      ++checked;
    }
  }
  EXPECT_GE(checked, 20);
}

TEST_F(OpsTest, EveryResponseCarriesARequestId) {
  for (const auto& target : {"/healthz", "/v1/no-such-route", "/v1/tenant"}) {
    auto r = http().Get(target);
    EXPECT_FALSE(r.Header("x-request-id").empty()) << target << ": " << r;
  }
  auto bad = http().Call("POST", "/v1/partners", std::nullopt, "x", RawBody("{"));
  EXPECT_FALSE(bad.Header("x-request-id").empty()) << bad;
}

TEST_F(OpsTest, EchoesASaneIncomingRequestIdAndReplacesAnInsaneOne) {
  auto r = http().Call("GET", "/healthz", std::nullopt, {}, WithHeader("X-Request-Id", "it-req-42.a_b"));
  EXPECT_EQ(r.Header("x-request-id"), "it-req-42.a_b") << r;
  const std::string insane = "bad id with spaces " + std::string(300, 'x');
  auto s = http().Call("GET", "/healthz", std::nullopt, {}, WithHeader("X-Request-Id", insane));
  EXPECT_FALSE(s.Header("x-request-id").empty()) << s;
  EXPECT_NE(s.Header("x-request-id"), insane) << s;
  EXPECT_EQ(s.Header("x-request-id").find(' '), std::string::npos) << s;
}

TEST_F(OpsTest, UnknownRouteIs404ProblemAndWrongMethodIsNotA500) {
  auto r = http().Get("/v1/does-not-exist");
  EXPECT_TRUE(IsProblem(r, 404));
  auto m = http().Call("PATCH", "/healthz");
  EXPECT_GE(m.status, 400) << m;
  EXPECT_LT(m.status, 500) << m;
}

TEST_F(OpsTest, KeepsTheConnectionAliveAcrossRequests) {
  auto client = NewClient();
  for (int i = 0; i < 20; ++i) {
    auto r = client->Get(i % 2 == 0 ? "/healthz" : "/v1/no-such-route");
    ASSERT_TRUE(r.status == 200 || r.status == 404) << r;
  }
  EXPECT_EQ(client->connects(), 1) << "the server closed a keep-alive connection between requests";
}

}  // namespace
}  // namespace unipoints::testing
