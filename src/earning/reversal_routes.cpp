#include "unipoints/earning/reversal_routes.hpp"

#include "unipoints/earning/reversal_service.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/http/idempotent.hpp"

namespace unipoints::earning {
namespace {

namespace asio = boost::asio;
using boost::beast::http::verb;
using tenancy::Role;

}  // namespace

void RegisterReversalRoutes(http::Router& router, db::Database& db, const core::Clock& clock) {
  router.Add(verb::post, "/v1/accruals/{event_id}/reversals", {Role::kPartner},
             "Reverse all or part of an accrual the partner posted (idempotent on reversal_id)",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto input = ParseReversal(body, req.Param("event_id"), f);
               f.Done();
               const auto who = req.who();
               db::IdempotencyKey key{who.tenant_id, who.IdScope(), "reversal", input.reversal_id,
                                      http::RequestHash(input.canonical)};
               co_return co_await http::RunIdempotent(db, key, [&who, &input, &clock](db::Tx& tx) {
                 return db::StoredAnswer{201, Reverse(tx, who, input, clock.Now())};
               });
             });
}

}  // namespace unipoints::earning
