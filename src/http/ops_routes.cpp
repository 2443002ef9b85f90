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

}  // namespace

const nlohmann::json& OpenApi() {
  static const nlohmann::json kDoc = nlohmann::json::parse(OpenApiText());
  return kDoc;
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
             [](Request&) -> asio::awaitable<Response> { co_return JsonResponse(status::ok, OpenApi()); });

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
