#include "unipoints/lots/job_routes.hpp"

#include "unipoints/core/error.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/lots/jobs.hpp"
#include "unipoints/lots/tiers.hpp"
#include "unipoints/members/members_service.hpp"

namespace unipoints::lots {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using tenancy::Role;

// {as_of?}: defaults to now; never later than now (a job cannot expire points whose time has not
// come, nor grade on points not yet earned).
core::Instant AsOf(http::Request& req, core::Instant now) {
  auto body = http::ParseJsonObject(req);
  http::Fields f(body);
  auto as_of = f.OptTime("as_of");
  if (as_of && *as_of > now)
    f.Error("as_of", "must not be later than now (" + core::FormatRfc3339(now) + ")");
  f.Done();
  return as_of.value_or(now);
}

}  // namespace

void RegisterJobRoutes(http::Router& router, db::Database& db, const config::Config& config,
                       const core::Clock& clock) {
  const std::vector<Role> kAnyRole{Role::kAdmin, Role::kPartner, Role::kAgent, Role::kFinance};
  const std::vector<Role> kReaders{Role::kAgent, Role::kPartner, Role::kAdmin};
  const int max_list_limit = config.max_list_limit;

  router.Add(verb::put, "/v1/tiers", {Role::kAdmin},
             "Set the tier scheme: levels by qualifying points over a window, re-graded yearly or quarterly",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               const auto tenant = req.who().tenant_id;
               const auto now = clock.Now();
               auto out = co_await db.Run([&](db::Tx& tx) { return PutTiers(tx, tenant, body, now); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::get, "/v1/tiers", kAnyRole, "The tier scheme",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               const auto tenant = req.who().tenant_id;
               auto out = co_await db.Run([&](db::Tx& tx) { return GetTiers(tx, tenant); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::get, "/v1/members/{id}/tier-history", kReaders,
             "A member's tier changes, newest first, cursor-paginated",
             [&db, max_list_limit](http::Request& req) -> asio::awaitable<http::Response> {
               auto id = http::IdParam(req, "id");
               const int limit = http::ListLimit(req, max_list_limit);
               auto after = http::ListCursor(req);
               const auto tenant = req.who().tenant_id;
               auto out =
                   co_await db.Run([&](db::Tx& tx) { return TierHistory(tx, tenant, id, after, limit); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::post, "/v1/jobs/expiry", {Role::kAdmin},
             "Expire every lot whose expiry instant is at or before as_of (default now); idempotent",
             [&db, &config, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               const auto now = clock.Now();
               const auto as_of = AsOf(req, now);
               ExpiryJob job{req.who().tenant_id,  as_of, now, JobTrigger::kApi, config.expiry_chunk_lots,
                             config.expiry_workers};
               auto out = co_await db.Offload([&db, job] { return *RunExpiry(db, job, true); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::post, "/v1/jobs/regrade", {Role::kAdmin},
             "Re-grade every member's tier as of as_of (default now) in one set-based pass",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               const auto now = clock.Now();
               const auto as_of = AsOf(req, now);
               RegradeJob job{req.who().tenant_id, as_of, now, JobTrigger::kApi};
               auto out = co_await db.Offload([&db, job] { return RunRegrade(db, job); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::get, "/v1/jobs", {Role::kAdmin, Role::kFinance},
             "Expiry and re-grade runs, newest first (?kind=expiry|regrade), cursor-paginated",
             [&db, max_list_limit](http::Request& req) -> asio::awaitable<http::Response> {
               const int limit = http::ListLimit(req, max_list_limit);
               auto after = http::ListCursor(req);
               auto kind = req.Query("kind");
               if (kind && *kind != "expiry" && *kind != "regrade") {
                 core::ThrowField("kind", "must be expiry or regrade");
               }
               const auto tenant = req.who().tenant_id;
               auto out =
                   co_await db.Run([&](db::Tx& tx) { return ListJobs(tx, tenant, kind, after, limit); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::get, "/v1/jobs/{id}", {Role::kAdmin, Role::kFinance}, "One expiry or re-grade run",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               auto id = http::IdParam(req, "id");
               const auto tenant = req.who().tenant_id;
               auto out = co_await db.Run([&](db::Tx& tx) { return GetJob(tx, tenant, id); });
               co_return http::JsonResponse(status::ok, out);
             });
}

}  // namespace unipoints::lots
