#include "unipoints/servicedesk/ticket_routes.hpp"

#include "unipoints/core/error.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/http/idempotent.hpp"
#include "unipoints/servicedesk/ticket_service.hpp"

namespace unipoints::servicedesk {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using nlohmann::json;
using tenancy::Role;

}  // namespace

void RegisterTicketRoutes(http::Router& router, db::Database& db, const core::Clock& clock,
                          int max_list_limit) {
  const std::vector<Role> kDesk{Role::kAgent, Role::kAdmin};

  router.Add(verb::post, "/v1/tickets", kDesk,
             "Open an inquiry, suggestion or complaint (due in 4 h if major, 12 h if normal); idempotent "
             "with request_id",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto ticket = ParseTicket(f);
               std::optional<std::string> request_id;
               if (f.Has("request_id")) request_id = f.Id("request_id");
               f.Done();
               const auto who = req.who();
               // Captures by reference only, named before any co_await (GCC 12, see members_routes).
               auto work = [&who, &ticket, &clock](db::Tx& tx) {
                 return db::StoredAnswer{201, OpenTicket(tx, who, ticket, clock.Now())};
               };
               if (request_id) {
                 const db::IdempotencyKey key{who.tenant_id, who.IdScope(), "ticket", *request_id,
                                              http::RequestHash(body)};
                 const http::IdempotentWork idempotent_work = work;
                 auto response = co_await http::RunIdempotent(db, key, idempotent_work);
                 co_return response;
               }
               auto answer = co_await db.Run(work);
               co_return http::ToResponse(answer, false);
             });

  router.Add(verb::patch, "/v1/tickets/{id}", kDesk,
             "Move a ticket on (status), add a note, or count a repeat contact about the same problem",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               auto id = http::IdParam(req, "id");
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto change = ParseTicketChange(body, f);
               f.Done();
               const auto who = req.who();
               auto out = co_await db.Run(
                   [&](db::Tx& tx) { return ChangeTicket(tx, who, id, change, clock.Now()); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::get, "/v1/tickets", kDesk,
             "Tickets, newest first, by status, member and overdue=true (the response deadline was missed)",
             [&db, &clock, max_list_limit](http::Request& req) -> asio::awaitable<http::Response> {
               auto st = req.Query("status");
               if (st && *st != "open" && *st != "in_progress" && *st != "resolved" && *st != "closed") {
                 core::ThrowField("status", "must be one of: open, in_progress, resolved, closed");
               }
               auto overdue = req.Query("overdue");
               if (overdue && *overdue != "true" && *overdue != "false") {
                 core::ThrowField("overdue", "must be true or false");
               }
               const auto member = http::IdQuery(req, "member_id", "must be a member id");
               const auto after = http::ListCursor(req);
               const int limit = http::ListLimit(req, max_list_limit);
               const std::optional<bool> overdue_filter =
                   overdue ? std::optional(*overdue == "true") : std::nullopt;
               auto tenant = req.who().tenant_id;
               auto out = co_await db.Read([&](db::Tx& tx) {
                 return ListTickets(tx, tenant, st, overdue_filter, member, after, limit, clock.Now());
               });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::get, "/v1/tickets/{id}", kDesk, "One ticket with its full history",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               auto id = http::IdParam(req, "id");
               auto tenant = req.who().tenant_id;
               auto out =
                   co_await db.Read([&](db::Tx& tx) { return GetTicket(tx, tenant, id, clock.Now()); });
               co_return http::JsonResponse(status::ok, out);
             });
}

}  // namespace unipoints::servicedesk
