#include "unipoints/spending/redemption_routes.hpp"

#include "unipoints/core/error.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/http/idempotent.hpp"
#include "unipoints/spending/redemption_service.hpp"

namespace unipoints::spending {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using nlohmann::json;
using tenancy::Role;

}  // namespace

void RegisterRedemptionRoutes(http::Router& router, db::Database& db, const config::Config& config,
                              const core::Clock& clock, RedemptionCommitter* committer) {
  const std::vector<Role> kManagers{Role::kAdmin, Role::kPartner};
  const std::vector<Role> kAnyRole{Role::kAdmin, Role::kPartner, Role::kAgent, Role::kFinance};
  const std::vector<Role> kRedeemers{Role::kPartner, Role::kAgent, Role::kAdmin};

  router.Add(verb::post, "/v1/rewards", kManagers, "Add a reward to the catalogue (a partner adds its own)",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto reward = ParseReward(body, f);
               f.Done();
               const auto who = req.who();
               auto out = co_await db.Run([&](db::Tx& tx) { return CreateReward(tx, who, reward); });
               co_return http::JsonResponse(status::created, out);
             });

  router.Add(verb::get, "/v1/rewards", kAnyRole, "The reward catalogue, optionally one partner's",
             [&db, &config](http::Request& req) -> asio::awaitable<http::Response> {
               const int limit = http::ListLimit(req, config.max_list_limit);
               auto after = http::ListCursor(req);
               auto partner = req.Query("partner");
               if (partner && (partner->empty() || partner->size() > 32))
                 core::ThrowField("partner", "unknown partner");
               const auto who = req.who();
               auto out =
                   co_await db.Run([&](db::Tx& tx) { return ListRewards(tx, who, after, limit, partner); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::get, "/v1/rewards/{code}", kAnyRole, "One reward",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               const auto who = req.who();
               auto code = req.Param("code");
               auto out = co_await db.Run([&](db::Tx& tx) { return GetReward(tx, who, code); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::patch, "/v1/rewards/{code}", kManagers,
             "Change a reward's name, stock, sale window or status",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               const auto who = req.who();
               auto code = req.Param("code");
               auto out = co_await db.Run([&](db::Tx& tx) { return UpdateReward(tx, who, code, body); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::post, "/v1/redemptions", kRedeemers,
             "Redeem a reward (idempotent on request_id); consumes points earliest expiry first",
             [&db, &clock, committer](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto request = ParseRedemption(body, f);
               f.Done();
               const auto who = req.who();
               db::IdempotencyKey key{who.tenant_id, who.IdScope(), "redemption", request.request_id,
                                      http::RequestHash(body)};
               if (committer != nullptr) {
                 // A named job, not a temporary inside co_await (GCC 12 destroys such temporaries twice).
                 RedemptionJob job{std::move(key), who, std::move(request)};
                 auto out = co_await committer->Submit(std::move(job));
                 co_return http::ToResponse(out.result.first, out.result.second);
               }
               co_return co_await http::RunIdempotentFolded(
                   db, key, [&key, &who, &request, &clock](db::Tx& tx) {
                     return Redeem(tx, key, who, request, clock.Now());
                   });
             });

  router.Add(verb::get, "/v1/redemptions/{id}", kRedeemers, "A redemption with its settlement lines",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               auto id = http::IdParam(req, "id");
               const auto who = req.who();
               auto out = co_await db.Run([&](db::Tx& tx) { return GetRedemption(tx, who, id); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::post, "/v1/redemptions/{id}/cancel", kRedeemers,
             "Cancel a redemption within the window: points return to their lots, negative lines are booked",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               auto id = http::IdParam(req, "id");
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto reason = f.OptStr("reason", 500).value_or("");
               f.Done();
               const auto who = req.who();
               auto now = clock.Now();
               auto out = co_await db.Run([&](db::Tx& tx) { return Cancel(tx, who, id, reason, now); });
               co_return http::JsonResponse(status::ok, out);
             });
}

}  // namespace unipoints::spending
