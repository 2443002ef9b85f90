#include "unipoints/earning/earning_routes.hpp"

#include "unipoints/core/error.hpp"
#include "unipoints/earning/accrual_service.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/http/idempotent.hpp"
#include "unipoints/http/problem.hpp"
#include "unipoints/tenancy/tenancy_service.hpp"

namespace unipoints::earning {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using core::DomainError;
using core::ErrorCode;
using nlohmann::json;
using tenancy::Role;

// Events of a batch applied per database transaction.
constexpr std::size_t kBatchChunk = 500;

db::IdempotencyKey AccrualKey(const tenancy::Principal& who, const AccrualInput& in) {
  return {who.tenant_id, who.IdScope(), "accrual", in.event_id, http::RequestHash(in.canonical)};
}

json RejectedResult(const std::string& event_id, const json& problem) {
  json error = {{"code", problem.value("code", "rejected")}, {"detail", problem.value("detail", "")}};
  if (problem.contains("errors")) error["errors"] = problem["errors"];
  return {{"event_id", event_id}, {"status", "rejected"}, {"error", error}};
}

// Resolves the partner named in the path: an admin may name any, a partner key only itself.
tenancy::Partner PathPartner(db::Tx& tx, const tenancy::Principal& who, const std::string& code) {
  if (who.role == Role::kPartner && code != who.partner_code) {
    throw DomainError(ErrorCode::kForbidden, "A partner key sees its own earning rules only");
  }
  return tenancy::GetPartner(tx, who.tenant_id, code);
}

}  // namespace

void RegisterEarningRoutes(http::Router& router, db::Database& db, const config::Config& config,
                           const core::Clock& clock, http::Metrics& metrics, RuleCache& rule_cache) {
  router.Add(verb::put, "/v1/partners/{code}/earning-rules", {Role::kAdmin},
             "Publish a new effective-dated version of a partner's earning rules",
             [&db, &clock](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto effective_from = f.OptTime("effective_from");
               f.Done();
               json rule_body = {
                   {"rules", body.contains("rules") ? body["rules"] : json(nullptr)},
                   {"promotions", body.contains("promotions") ? body["promotions"] : json::array()}};
               auto rules = ParseRuleSet(rule_body);
               const auto& who = req.who();
               auto code = req.Param("code");
               auto now = clock.Now();
               auto out = co_await db.Run([&](db::Tx& tx) {
                 auto partner = PathPartner(tx, who, code);
                 return PutRules(tx, who.tenant_id, partner.id, partner.code, effective_from, rules, now);
               });
               co_return http::JsonResponse(status::created, out);
             });

  router.Add(verb::get, "/v1/partners/{code}/earning-rules", {Role::kAdmin, Role::kPartner},
             "A partner's earning-rule versions, newest first",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               const auto& who = req.who();
               auto code = req.Param("code");
               auto out = co_await db.Run([&](db::Tx& tx) {
                 auto partner = PathPartner(tx, who, code);
                 return ListRules(tx, who.tenant_id, partner.id, partner.code);
               });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(
      verb::post, "/v1/accruals", {Role::kPartner}, "Post one accrual (idempotent on event_id)",
      [&db, &clock, &metrics, &rule_cache](http::Request& req) -> asio::awaitable<http::Response> {
        auto body = http::ParseJsonObject(req);
        http::Fields f(body);
        auto input = ParseAccrual(body, f, clock.Now());
        f.Done();
        const auto who = req.who();
        auto key = AccrualKey(who, input);
        auto res = co_await http::RunIdempotent(db, key, [&who, &input, &clock, &rule_cache](db::Tx& tx) {
          auto prepared = PrepareAccrual(tx, who, input, rule_cache);
          return db::StoredAnswer{201, ApplyAccrual(tx, who, prepared, clock.Now())};
        });
        const bool replay = !res.headers.empty() && res.headers.back().first == "Idempotent-Replay";
        metrics.Add("unipoints_accruals_total",
                    replay ? "result=\"duplicate\""
                           : (res.status == status::created ? "result=\"created\"" : "result=\"rejected\""),
                    1);
        co_return res;
      });

  router.Add(
      verb::post, "/v1/accruals/batch", {Role::kPartner},
      "Post up to max_batch_events accruals; one result per event, in order",
      [&db, &config, &clock, &metrics, &rule_cache](http::Request& req) -> asio::awaitable<http::Response> {
        auto body = http::ParseJsonObject(req);
        const auto* events = body.contains("events") ? &body["events"] : nullptr;
        if (events == nullptr || !events->is_array())
          core::ThrowField("events", "must be an array of accrual events");
        if (events->empty()) core::ThrowField("events", "must not be empty");
        if (events->size() > static_cast<std::size_t>(config.max_batch_events)) {
          core::ThrowField("events",
                           "must hold at most " + std::to_string(config.max_batch_events) + " events");
        }
        const auto who = req.who();
        const auto now = clock.Now();
        std::vector<json> results(events->size());
        std::vector<std::pair<std::size_t, AccrualInput>> valid;
        for (std::size_t i = 0; i < events->size(); ++i) {
          const auto& ev = (*events)[i];
          http::Fields f(ev, "events[" + std::to_string(i) + "]");
          AccrualInput input;
          if (ev.is_object()) input = ParseAccrual(ev, f, now);
          if (!f.ok()) {
            std::string id = ev.is_object() && ev.contains("event_id") && ev["event_id"].is_string()
                                 ? ev["event_id"].get<std::string>()
                                 : std::string();
            auto errors = f.TakeErrors();
            results[i] = RejectedResult(
                id, http::ProblemBody(ErrorCode::kValidationFailed,
                                      errors.front().field + ": " + errors.front().message, errors));
            continue;
          }
          valid.emplace_back(i, std::move(input));
        }
        std::int64_t created = 0, duplicate = 0, rejected = 0;
        for (std::size_t start = 0; start < valid.size(); start += kBatchChunk) {
          const auto end = std::min(valid.size(), start + kBatchChunk);
          auto chunk = co_await db.Run([&, start, end](db::Tx& tx) {
            std::vector<std::pair<db::StoredAnswer, bool>> answers;
            for (std::size_t k = start; k < end; ++k) {
              const auto& input = valid[k].second;
              try {
                // PrepareAccrual writes nothing before it may refuse, so a refusal is recorded
                // as this event's answer and the transaction goes on with the next event.
                answers.push_back(http::RunIdempotentSync(tx, AccrualKey(who, input), [&](db::Tx& t) {
                  auto prepared = PrepareAccrual(t, who, input, rule_cache);
                  return db::StoredAnswer{201, ApplyAccrual(t, who, prepared, clock.Now())};
                }));
              } catch (const DomainError& e) {  // not processed: the id used with another body, ...
                answers.push_back(
                    {db::StoredAnswer{core::Describe(e.code()).http_status, http::ProblemBody(e)}, false});
              }
            }
            return answers;
          });
          for (std::size_t k = start; k < end; ++k) {
            const auto& [answer, replay] = chunk[k - start];
            const auto& input = valid[k].second;
            auto& out = results[valid[k].first];
            if (answer.status == 201) {
              out = {{"event_id", input.event_id},
                     {"status", replay ? "duplicate" : "created"},
                     {"points", answer.body["points"]},
                     {"accrual_id", answer.body["accrual_id"]}};
              (replay ? duplicate : created) += 1;
            } else {
              out = RejectedResult(input.event_id, answer.body);
              if (replay) out["replay"] = true;
              ++rejected;
            }
          }
        }
        rejected += static_cast<std::int64_t>(events->size() - valid.size());
        metrics.Add("unipoints_accruals_total", "result=\"created\"", created);
        metrics.Add("unipoints_accruals_total", "result=\"duplicate\"", duplicate);
        metrics.Add("unipoints_accruals_total", "result=\"rejected\"", rejected);
        co_return http::JsonResponse(
            status::ok,
            {{"results", results}, {"created", created}, {"duplicate", duplicate}, {"rejected", rejected}});
      });
}

}  // namespace unipoints::earning
