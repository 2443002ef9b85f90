#include "unipoints/spending/transfer_routes.hpp"

#include "unipoints/http/fields.hpp"
#include "unipoints/http/idempotent.hpp"
#include "unipoints/spending/transfer_service.hpp"

namespace unipoints::spending {
namespace {

namespace asio = boost::asio;
using boost::beast::http::verb;
using tenancy::Role;

}  // namespace

void RegisterTransferRoutes(http::Router& router, db::Database& db, const core::Clock& clock) {
  router.Add(verb::post, "/v1/transfers", {Role::kAgent, Role::kAdmin},
             "Transfer points between two members of the tenant (idempotent on request_id)",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto input = ParseTransfer(body, f);
               f.Done();
               const auto who = req.who();
               db::IdempotencyKey key{who.tenant_id, who.IdScope(), "transfer", input.request_id,
                                      http::RequestHash(input.canonical)};
               co_return co_await http::RunIdempotent(db, key, [&who, &input, &clock](db::Tx& tx) {
                 return db::StoredAnswer{201, Transfer(tx, who, input, clock.Now())};
               });
             });
}

}  // namespace unipoints::spending
