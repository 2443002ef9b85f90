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

void RegisterLotRoutes(http::Router& router, db::Database& db, const core::Clock& clock, int max_list_limit) {
  const std::vector<Role> kReaders{Role::kAgent, Role::kPartner, Role::kAdmin};

  router.Add(verb::get, "/v1/members/{id}/balance", kReaders,
             "Available points, split by source partner, lifetime, debt, tier and upcoming expiries",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               auto id = http::IdParam(req, "id");
               auto tenant = req.who().tenant_id;
               auto now = clock.Now();
               // One statement: its own consistent snapshot, no transaction needed.
               auto out = co_await db.Read([&](db::Tx& tx) { return Balance(tx, tenant, id, now); });
               co_return http::JsonResponse(status::ok, out);
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
