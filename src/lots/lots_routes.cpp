#include "unipoints/lots/lots_routes.hpp"

#include "unipoints/core/error.hpp"
#include "unipoints/lots/lots_service.hpp"
#include "unipoints/members/members_service.hpp"

namespace unipoints::lots {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using tenancy::Role;

}  // namespace

void RegisterLotRoutes(http::Router& router, db::Database& db, const core::Clock& clock, int max_list_limit,
                       BalanceReader* reader) {
  const std::vector<Role> kReaders{Role::kAgent, Role::kPartner, Role::kAdmin};

  router.Add(verb::get, "/v1/members/{id}/balance", kReaders,
             "Available points, split by source partner, lifetime, debt, tier and upcoming expiries",
             [&db, &clock, reader](http::Request& req) -> asio::awaitable<http::Response> {
               const BalanceQuery query{req.who().tenant_id, http::IdParam(req, "id"), clock.Now()};
               BalanceOutcome out;
               if (reader != nullptr) {
                 out = co_await reader->Read(query);
               } else {
                 // One statement: its own consistent snapshot, no transaction needed.
                 out = co_await db.Read([&](db::Tx& tx) { return Balances(tx, {&query}).front(); });
                 if (out.error) std::rethrow_exception(out.error);
               }
               co_return http::JsonResponse(status::ok, out.body);
             });

  router.Add(verb::get, "/v1/members/{id}/ledger", kReaders,
             "A member's ledger, newest first, cursor-paginated (a partner key sees its own entries)",
             [&db, max_list_limit](http::Request& req) -> asio::awaitable<http::Response> {
               auto id = http::IdParam(req, "id");
               const int limit = http::ListLimit(req, max_list_limit);
               auto after = http::ListCursor(req);
               const auto& who = req.who();
               std::optional<std::int64_t> source;
               if (who.role == Role::kPartner) source = who.partner_id;
               auto tenant = who.tenant_id;
               auto out = co_await db.Run([&](db::Tx& tx) {
                 members::MemberService::RequireExists(tx, tenant, id);
                 return Ledger(tx, tenant, id, after, limit, source);
               });
               co_return http::JsonResponse(status::ok, out);
             });
}

}  // namespace unipoints::lots
