#include "unipoints/spending/adjustment_routes.hpp"

#include "unipoints/core/error.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/http/idempotent.hpp"
#include "unipoints/spending/adjustment_service.hpp"

namespace unipoints::spending {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using nlohmann::json;
using tenancy::Role;

}  // namespace

void RegisterAdjustmentRoutes(http::Router& router, db::Database& db, const core::Clock& clock,
                              int max_list_limit) {
  const std::vector<Role> kDesk{Role::kAgent, Role::kAdmin};

  router.Add(verb::post, "/v1/adjustments", kDesk,
             "Credit or debit a member's points with a reason (idempotent on request_id); above the "
             "approval threshold it waits for a second key's approval",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto input = ParseAdjustment(body, f);
               f.Done();
               const auto who = req.who();
               db::IdempotencyKey key{who.tenant_id, who.IdScope(), "adjustment", input.request_id,
                                      http::RequestHash(input.canonical)};
               co_return co_await http::RunIdempotent(db, key, [&who, &input, &clock](db::Tx& tx) {
                 auto out = RequestAdjustment(tx, who, input, clock.Now());
                 const int code = out["status"] == "pending_approval" ? 202 : 201;
                 return db::StoredAnswer{code, std::move(out)};
               });
             });

  router.Add(verb::post, "/v1/adjustments/{id}/approve", kDesk,
             "Approve and apply a pending adjustment (not by the key that requested it)",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               f.Done();
               auto id = http::IdParam(req, "id");
               const auto who = req.who();
               auto now = clock.Now();
               auto out = co_await db.Run([&](db::Tx& tx) { return ApproveAdjustment(tx, who, id, now); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::get, "/v1/adjustments", kDesk,
             "Adjustments, newest first, by status (e.g. pending_approval) and member",
             [&db, max_list_limit](http::Request& req) -> asio::awaitable<http::Response> {
               auto st = req.Query("status");
               if (st && *st != "pending_approval" && *st != "applied" && *st != "refused") {
                 core::ThrowField("status", "must be one of: pending_approval, applied, refused");
               }
               auto member = http::IdQuery(req, "member_id", "must be a member id");
               auto after = http::IdQuery(req, "after", "must be a cursor from a previous page's 'next'");
               const int limit = http::ListLimit(req, max_list_limit);
               auto tenant = req.who().tenant_id;
               auto out = co_await db.Run(
                   [&](db::Tx& tx) { return ListAdjustments(tx, tenant, st, member, after, limit); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::get, "/v1/adjustments/{id}", kDesk, "One adjustment",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               auto id = http::IdParam(req, "id");
               auto tenant = req.who().tenant_id;
               auto out = co_await db.Run([&](db::Tx& tx) { return GetAdjustment(tx, tenant, id); });
               co_return http::JsonResponse(status::ok, out);
             });
}

}  // namespace unipoints::spending
