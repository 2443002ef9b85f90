#include "unipoints/settlement/settlement_routes.hpp"

#include <filesystem>

#include "unipoints/core/error.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/settlement/agreement_service.hpp"
#include "unipoints/settlement/run_service.hpp"
#include "unipoints/settlement/statement_pdf.hpp"
#include "unipoints/settlement/statement_service.hpp"

namespace unipoints::settlement {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using tenancy::Role;

core::Period PeriodOf(const std::string& text, const char* field) {
  auto p = core::ParsePeriod(text);
  if (!p) core::ThrowField(field, "must be a month such as \"2026-10\"");
  if (p->year < 2000 || p->year > 2999) core::ThrowField(field, "must be a month of the years 2000 to 2999");
  return *p;
}

// The media type of a Content-Type header, lower case and without parameters.
std::string MediaType(std::string_view ct) {
  std::string type(ct.substr(0, ct.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

// `answer` by value: the coroutine outlives the caller's temporaries.
asio::awaitable<http::Response> Answer(db::Database& db, const core::Clock& clock, http::Request& req,
                                       std::string answer) {
  auto body = http::ParseJsonObject(req);
  http::Fields f(body);
  auto reason = f.OptStr("reason", 2000);
  if (answer == "disputed" && (!reason || reason->find_first_not_of(" \t\r\n") == std::string::npos)) {
    f.Error("reason", "a dispute needs a reason");
  }
  f.Done();
  const auto period = PeriodOf(req.Param("period"), "period");
  const auto partner = req.Param("partner");
  const auto who = req.who();
  const auto now = clock.Now();
  auto out = co_await db.Run(
      [&](db::Tx& tx) { return AnswerStatement(tx, who, period, partner, answer, reason, now); });
  co_return http::JsonResponse(status::ok, out);
}

}  // namespace

void RegisterSettlementRoutes(http::Router& router, db::Database& db, const config::Config& config,
                              const core::Clock& clock) {
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

  router.Add(
      verb::get, "/v1/settlement-agreements", {Role::kAdmin, Role::kFinance, Role::kPartner},
      "Settlement agreements (a partner key sees those it is party to)",
      [&db, &config](http::Request& req) -> asio::awaitable<http::Response> {
        const auto who = req.who();
        const core::PageRequest page{http::ListCursor(req), http::ListLimit(req, config.max_list_limit)};
        auto out = co_await db.Run([&](db::Tx& tx) { return ListAgreements(tx, who, page); });
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

  router.Add(verb::get, "/v1/settlements/{period}/statements/{partner}",
             {Role::kFinance, Role::kAdmin, Role::kPartner},
             "A partner's statement of a period's run as JSON, CSV or PDF (a partner key sees only its own)",
             [&db, &config](http::Request& req) -> asio::awaitable<http::Response> {
               const auto period = PeriodOf(req.Param("period"), "period");
               const auto partner = req.Param("partner");
               const auto who = req.who();
               CheckStatementAccess(who, partner);
               const auto format = NegotiateStatementFormat(req.Header("Accept"));
               if (format == StatementFormat::kPdf && !std::filesystem::exists(config.statement_font_path)) {
                 throw core::DomainError(core::ErrorCode::kServiceUnavailable,
                                         "PDF statements need the font " + config.statement_font_path);
               }
               // Rendering (a PDF takes ~0.1 s) runs on the database pool's thread, not the reactor.
               const auto& font = config.statement_font_path;
               http::Response r;
               r.body = co_await db.Run([&](db::Tx& tx) {
                 const auto statement = GetStatement(tx, who, period, partner);
                 switch (format) {
                   case StatementFormat::kPdf:
                     return StatementPdf(statement, font);
                   case StatementFormat::kCsv:
                     return StatementCsv(statement);
                   case StatementFormat::kJson:
                     break;
                 }
                 return statement.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
               });
               r.headers.emplace_back("Vary", "Accept");
               if (format == StatementFormat::kJson) co_return r;
               const bool pdf = format == StatementFormat::kPdf;
               r.content_type = pdf ? "application/pdf" : "text/csv; charset=utf-8";
               r.headers.emplace_back("Content-Disposition", "attachment; filename=\"statement-" +
                                                                 period.ToString() + "-" + partner +
                                                                 (pdf ? ".pdf\"" : ".csv\""));
               co_return r;
             });

  router.Add(verb::post, "/v1/settlements/{period}/statements/{partner}/acknowledge", {Role::kPartner},
             "Acknowledge the partner's own statement of a final run",
             [&db, &clock](http::Request& req) { return Answer(db, clock, req, "acknowledged"); });

  router.Add(verb::post, "/v1/settlements/{period}/statements/{partner}/dispute", {Role::kPartner},
             "Dispute the partner's own statement of a final run, with a reason",
             [&db, &clock](http::Request& req) { return Answer(db, clock, req, "disputed"); });

  router.Add(verb::post, "/v1/settlements/{period}/reconcile", {Role::kPartner},
             "Reconcile the partner's own redemption_id,points CSV with the server's lines of a period",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               const auto period = PeriodOf(req.Param("period"), "period");
               const auto ct = req.Header("Content-Type");
               if (MediaType(ct) != "text/csv") {
                 throw core::DomainError(core::ErrorCode::kUnsupportedMediaType,
                                         "Send the lines as text/csv, not '" + std::string(ct) + "'",
                                         {{"Content-Type", "must be text/csv"}});
               }
               auto lines = ParseReconcileCsv(req.raw.body());
               const auto who = req.who();
               auto out = co_await db.Run([&](db::Tx& tx) { return Reconcile(tx, who, period, lines); });
               co_return http::JsonResponse(status::ok, out);
             });
}

}  // namespace unipoints::settlement
