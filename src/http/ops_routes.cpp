#include "unipoints/http/ops_routes.hpp"

#include <nlohmann/json.hpp>

#include "unipoints/db/migrations.hpp"
#include "unipoints/http/problem.hpp"

namespace unipoints::http {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

json ProblemRef() { return {{"$ref", "#/components/responses/Problem"}}; }

}  // namespace

json OpenApi(const Router& router) {
  json paths = json::object();
  for (const auto& r : router.routes()) {
    json op = {{"summary", r.summary},
               {"operationId", Lower(std::string(boost::beast::http::to_string(r.method))) + r.pattern}};
    json params = json::array();
    for (const auto& seg : r.segments) {
      if (seg.size() > 2 && seg.front() == '{') {
        params.push_back({{"name", seg.substr(1, seg.size() - 2)},
                          {"in", "path"},
                          {"required", true},
                          {"schema", {{"type", "string"}}}});
      }
    }
    if (!params.empty()) op["parameters"] = params;
    json roles = json::array();
    for (auto role : r.roles) roles.push_back(std::string(tenancy::RoleName(role)));
    if (!r.roles.empty()) {
      op["security"] = json::array({{{"bearer", json::array()}}});
      op["x-roles"] = roles;
    }
    if (r.method == verb::post || r.method == verb::put || r.method == verb::patch) {
      op["requestBody"] = {{"required", false},
                           {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
    }
    op["responses"] = {
        {"200",
         {{"description", "OK"}, {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}}},
        {"400", ProblemRef()},
        {"401", ProblemRef()},
        {"403", ProblemRef()},
        {"404", ProblemRef()},
        {"409", ProblemRef()},
        {"422", ProblemRef()}};
    paths[r.pattern][Lower(std::string(boost::beast::http::to_string(r.method)))] = std::move(op);
  }
  return {{"openapi", "3.1.0"},
          {"info",
           {{"title", "unipoints"},
            {"version", "1"},
            {"description",
             "Multi-tenant points-alliance settlement server. Errors are RFC 9457 problem+json."}}},
          {"paths", paths},
          {"components",
           {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
            {"responses",
             {{"Problem",
               {{
                    "description",
                    "An RFC 9457 problem",
                },
                {"content",
                 {{"application/problem+json",
                   {{"schema",
                     {{"type", "object"},
                      {"required", json::array({"type", "title", "status", "detail", "errors"})},
                      {"properties",
                       {{"type", {{"type", "string"}}},
                        {"title", {{"type", "string"}}},
                        {"status", {{"type", "integer"}}},
                        {"code", {{"type", "string"}}},
                        {"detail", {{"type", "string"}}},
                        {"errors",
                         {{"type", "array"},
                          {"items",
                           {{"type", "object"},
                            {"properties",
                             {{"field", {{"type", "string"}}},
                              {"message", {{"type", "string"}}}}}}}}}}}}}}}}}}}}}}}};
}

void RegisterOpsRoutes(Router& router, db::Database& db, Metrics& metrics, std::function<bool()> stopping) {
  router.Add(verb::get, "/healthz", {}, "The process is up", [](Request&) -> asio::awaitable<Response> {
    co_return JsonResponse(status::ok, {{"status", "ok"}});
  });

  router.Add(
      verb::get, "/readyz", {}, "The database is reachable and migrations are current",
      [&db, stopping](Request&) -> asio::awaitable<Response> {
        if (stopping()) co_return Problem(core::ErrorCode::kServiceUnavailable, "The server is stopping");
        std::optional<db::MigrationStatus> s;
        try {
          s = co_await db.Run([](db::Tx& tx) { return db::Status(tx); });
        } catch (const std::exception&) {
          co_return Problem(core::ErrorCode::kServiceUnavailable, std::string("Database unreachable"));
        }
        if (!s->current()) {
          co_return Problem(core::ErrorCode::kServiceUnavailable,
                            "Migrations behind: applied " + std::to_string(s->applied_version) + ", need " +
                                std::to_string(s->latest_version));
        }
        co_return JsonResponse(status::ok, {{"status", "ready"}, {"schema_version", s->applied_version}});
      });

  router.Add(verb::get, "/metrics", {}, "Prometheus metrics",
             [&metrics](Request&) -> asio::awaitable<Response> {
               Response r;
               r.content_type = "text/plain; version=0.0.4; charset=utf-8";
               r.body = metrics.Render();
               co_return r;
             });

  router.Add(verb::get, "/openapi.json", {}, "This document",
             [&router](Request&) -> asio::awaitable<Response> {
               co_return JsonResponse(status::ok, OpenApi(router));
             });

  metrics.AddCollector([&db](std::string& out) {
    auto s = db.Stats();
    out += "# TYPE unipoints_db_pool_size gauge\nunipoints_db_pool_size " + std::to_string(s.size) + "\n";
    out +=
        "# TYPE unipoints_db_pool_in_use gauge\nunipoints_db_pool_in_use " + std::to_string(s.in_use) + "\n";
    out += "# TYPE unipoints_db_pool_open gauge\nunipoints_db_pool_open " + std::to_string(s.open) + "\n";
    out += "# TYPE unipoints_db_pool_waits_total counter\nunipoints_db_pool_waits_total " +
           std::to_string(s.waits) + "\n";
    out += "# TYPE unipoints_db_pool_timeouts_total counter\nunipoints_db_pool_timeouts_total " +
           std::to_string(s.timeouts) + "\n";
  });
}

}  // namespace unipoints::http
