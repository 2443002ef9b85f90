#include "unipoints/settlement/settlement_routes.hpp"

#include "unipoints/http/fields.hpp"
#include "unipoints/settlement/agreement_service.hpp"

namespace unipoints::settlement {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using tenancy::Role;

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
}

}  // namespace unipoints::settlement
