#include "unipoints/settlement/settlement_routes.hpp"

#include "unipoints/core/error.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/settlement/agreement_service.hpp"
#include "unipoints/settlement/run_service.hpp"

namespace unipoints::settlement {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using tenancy::Role;

core::Period PeriodOf(const std::string& text, const char* field) {
  auto p = core::ParsePeriod(text);
  if (!p || p->year < 2000 || p->year > 2999) core::ThrowField(field, "must be a month such as \"2026-10\"");
  return *p;
}

}  // namespace

void RegisterSettlementRoutes(http::Router& router, db::Database& db, const core::Clock& clock) {
  router.Add(verb::put, "/v1/settlement-agreements", {Role::kAdmin},
             "Add an effective-dated settlement agreement for an ordered partner pair",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto in = ParseAgreement(body, f);
               f.Done();
               const auto who = req.who();
               const auto now = clock.Now();
               auto out = co_await db.Run([&](db::Tx& tx) { return PutAgreement(tx, who, in, now); });
               co_return http::JsonResponse(status::created, out);
             });

  router.Add(verb::get, "/v1/settlement-agreements", {Role::kAdmin, Role::kFinance, Role::kPartner},
             "Settlement agreements (a partner key sees those it is party to)",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               const auto who = req.who();
               auto out = co_await db.Run([&](db::Tx& tx) { return ListAgreements(tx, who); });
               co_return http::JsonResponse(status::ok, out);
             });

  const std::vector<Role> kFinance{Role::kFinance, Role::kAdmin};

  router.Add(verb::post, "/v1/settlements", kFinance,
             "Compute the draft settlement run of a period (a final period is returned unchanged)",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto text = f.Str("period", 7);
               f.Done();
               const auto period = PeriodOf(text, "period");
               const auto who = req.who();
               const auto now = clock.Now();
               auto [fresh, out] =
                   co_await db.Run([&](db::Tx& tx) { return RunPeriod(tx, who, period, now); });
               co_return http::JsonResponse(fresh ? status::created : status::ok, out);
             });

  router.Add(verb::get, "/v1/settlements/{period}", kFinance, "A period's settlement run",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               const auto period = PeriodOf(req.Param("period"), "period");
               const auto who = req.who();
               auto out = co_await db.Run([&](db::Tx& tx) { return GetRun(tx, who, period); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::post, "/v1/settlements/{period}/finalize", kFinance,
             "Make a period's run final: immutable, hashed and chained to the previous final run",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               http::ParseJsonObject(req);
               const auto period = PeriodOf(req.Param("period"), "period");
               const auto who = req.who();
               const auto now = clock.Now();
               auto out = co_await db.Run([&](db::Tx& tx) { return FinalizeRun(tx, who, period, now); });
               co_return http::JsonResponse(status::ok, out);
             });
}

}  // namespace unipoints::settlement
