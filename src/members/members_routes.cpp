#include "unipoints/members/members_routes.hpp"

#include "unipoints/core/error.hpp"
#include "unipoints/core/page.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/http/idempotent.hpp"
#include "unipoints/tenancy/tenancy_service.hpp"

namespace unipoints::members {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using core::DomainError;
using core::ErrorCode;
using nlohmann::json;
using tenancy::Role;

bool ValidPhone(const std::string& p) {
  if (p.size() < 3 || p.size() > 32) return false;
  int digits = 0;
  for (char c : p) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      ++digits;
    } else if (c != '+' && c != '-' && c != ' ') {
      return false;
    }
  }
  return digits >= 3;
}

bool ValidIdNumber(const std::string& n) {
  if (n.size() < 4 || n.size() > 32) return false;
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

void RegisterMemberRoutes(http::Router& router, db::Database& db, const core::Clock& clock,
                          const MemberService& service, int max_list_limit) {
  const std::vector<Role> kDesk{Role::kAgent, Role::kAdmin};

  router.Add(
      verb::post, "/v1/members", {Role::kAgent, Role::kAdmin, Role::kPartner},
      "Enrol a member and issue a card",
      [&db, &clock, &service](http::Request& req) -> asio::awaitable<http::Response> {
        auto body = http::ParseJsonObject(req);
        http::Fields f(body);
        NewMember m;
        m.name = f.Str("name", 100);
        m.gender = f.OptEnum("gender", {"male", "female", "other", "unknown"}).value_or("unknown");
        m.id_type = f.OptEnum("id_type", {"resident_id", "passport", "other"}).value_or("resident_id");
        m.id_number = NormaliseIdNumber(f.Str("id_number", 64));
        if (f.Has("id_number") && !ValidIdNumber(m.id_number)) {
          f.Error("id_number", "must be 4-32 letters and digits");
        }
        m.phone = f.OptStr("phone", 32).value_or("");
        if (!m.phone.empty() && !ValidPhone(m.phone))
          f.Error("phone", "must be 3-32 characters: at least 3 digits, and '+', '-' or spaces");
        m.email = f.OptStr("email", 200);
        m.address = f.OptStr("address", 400);
        auto issuing = f.OptStr("issuing_partner", 32);
        std::optional<std::string> request_id;
        if (f.Has("request_id")) request_id = f.Id("request_id");
        const auto& who = req.who();
        if (who.role == Role::kPartner) {
          if (issuing && *issuing != who.partner_code) {
            f.Error("issuing_partner", "a partner key enrols for its own partner only");
          }
          m.issuing_partner_id = who.partner_id;
        }
        f.Done();
        auto tenant = who.tenant_id;
        // Captures by reference only, named before any co_await (see POST /v1/members/{id}/cards).
        auto work = [&service, &clock, &m, &issuing, tenant](db::Tx& tx) {
          NewMember member = m;
          if (issuing && !member.issuing_partner_id) {
            member.issuing_partner_id = tenancy::GetPartner(tx, tenant, *issuing, "issuing_partner").id;
          }
          auto enrolled = service.Enrol(tx, tenant, member, clock.Now());
          return db::StoredAnswer{201, {{"member_id", enrolled.member_id}, {"card_no", enrolled.card_no}}};
        };
        if (request_id) {
          // A retried enrolment with the same request_id gets the first answer (its card number).
          const db::IdempotencyKey key{tenant, who.IdScope(), "enrolment", *request_id,
                                       http::RequestHash(body)};
          const http::IdempotentWork idempotent_work = work;
          auto response = co_await http::RunIdempotent(db, key, idempotent_work);
          co_return response;
        }
        auto answer = co_await db.Run(work);
        co_return http::ToResponse(answer, false);
      });

  router.Add(
      verb::get, "/v1/members", kDesk, "Find members by card_no, phone or id_number",
      [&db, &service, max_list_limit](http::Request& req) -> asio::awaitable<http::Response> {
        auto card = req.Query("card_no");
        auto phone = req.Query("phone");
        auto id_number = req.Query("id_number");
        int given = (card ? 1 : 0) + (phone ? 1 : 0) + (id_number ? 1 : 0);
        if (given != 1) {
          throw DomainError(ErrorCode::kValidationFailed, "Give exactly one of card_no, phone, id_number",
                            {{"card_no", "give exactly one of card_no, phone, id_number"}});
        }
        for (const auto* v : {&card, &phone, &id_number}) {
          if (*v && ((*v)->empty() || (*v)->size() > 64))
            core::ThrowField("query", "must be 1-64 characters");
        }
        const int limit = http::ListLimit(req, max_list_limit);
        // Only a phone matches several members (by member id); a card or an identity number one.
        const auto after = http::ListCursor(req);
        auto tenant = req.who().tenant_id;
        auto items = co_await db.Run(
            [&](db::Tx& tx) { return service.Search(tx, tenant, card, phone, id_number, limit + 1, after); });
        co_return http::JsonResponse(status::ok, core::PageOf(json(std::move(items)), limit, "member_id"));
      });

  router.Add(verb::get, "/v1/members/{id}", kDesk, "A member's profile, status, tier and cards",
             [&db, &service](http::Request& req) -> asio::awaitable<http::Response> {
               auto id = http::IdParam(req, "id");
               auto tenant = req.who().tenant_id;
               auto out = co_await db.Run([&](db::Tx& tx) { return service.Profile(tx, tenant, id); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::patch, "/v1/members/{id}", kDesk,
             "Set a member's status: active, suspended or terminated (final; cancels its active cards)",
             [&db, &clock, &service](http::Request& req) -> asio::awaitable<http::Response> {
               auto id = http::IdParam(req, "id");
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto wanted = f.Enum("status", {"active", "suspended", "terminated"});
               // An update that would silently drop fields must say so: only the status changes here.
               for (const auto& [name, value] : body.items()) {
                 if (name != "status") f.Error(name, "cannot be changed here (only status)");
               }
               f.Done();
               auto tenant = req.who().tenant_id;
               auto out = co_await db.Run(
                   [&](db::Tx& tx) { return service.SetStatus(tx, tenant, id, wanted, clock.Now()); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::post, "/v1/cards/{card_no}/report-lost", kDesk,
             "Report a card lost: refused at once for accrual and redemption",
             [&db, &clock, &service](http::Request& req) -> asio::awaitable<http::Response> {
               http::ParseJsonObject(req);  // an optional body, e.g. {"reason": ...}, must still be JSON
               auto card = req.Param("card_no");
               if (card.size() > 32) throw DomainError(ErrorCode::kNotFound, "No such card");
               auto tenant = req.who().tenant_id;
               auto out = co_await db.Run(
                   [&](db::Tx& tx) { return service.ReportLost(tx, tenant, card, clock.Now()); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::post, "/v1/members/{id}/cards", kDesk,
             "A replacement card: active cards become 'replaced', a lost one stays 'lost'; balance kept",
             [&db, &clock, &service](http::Request& req) -> asio::awaitable<http::Response> {
               auto id = http::IdParam(req, "id");
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto issuing = f.OptStr("issuing_partner", 32);
               std::optional<std::string> request_id;
               if (f.Has("request_id")) request_id = f.Id("request_id");
               f.Done();
               const auto& who = req.who();
               auto tenant = who.tenant_id;
               // Captures by reference only, and the key and the work are named: GCC 12 destroys a
               // temporary with a destructor inside a co_await expression twice (a crash here).
               auto work = [&service, &clock, &issuing, tenant, id](db::Tx& tx) {
                 std::optional<std::int64_t> partner_id;
                 if (issuing) partner_id = tenancy::GetPartner(tx, tenant, *issuing, "issuing_partner").id;
                 auto card = service.ReplaceCard(tx, tenant, id, partner_id, clock.Now());
                 return db::StoredAnswer{201, {{"member_id", id}, {"card_no", card}}};
               };
               if (request_id) {
                 json hashed = body;
                 hashed["member_id"] = id;
                 const db::IdempotencyKey key{tenant, who.IdScope(), "card_replacement", *request_id,
                                              http::RequestHash(hashed)};
                 const http::IdempotentWork idempotent_work = work;
                 auto response = co_await http::RunIdempotent(db, key, idempotent_work);
                 co_return response;
               }
               auto answer = co_await db.Run(work);
               co_return http::ToResponse(answer, false);
             });
}

}  // namespace unipoints::members
