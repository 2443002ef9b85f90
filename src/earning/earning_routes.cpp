#include "unipoints/earning/earning_routes.hpp"

#include "unipoints/core/error.hpp"
#include "unipoints/earning/accrual_batch.hpp"
#include "unipoints/earning/accrual_service.hpp"
#include "unipoints/earning/group_commit.hpp"
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
constexpr std::size_t kBatchChunk = 1000;

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
                           const core::Clock& clock, http::Metrics& metrics, RuleCache& rule_cache,
                           AccrualCommitter* committer) {
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

  router.Add(
      verb::get, "/v1/partners/{code}/earning-rules", {Role::kAdmin, Role::kPartner},
      "A partner's earning-rule versions, newest first (paged; the cursor is a version)",
      [&db, &config](http::Request& req) -> asio::awaitable<http::Response> {
        const auto& who = req.who();
        auto code = req.Param("code");
        const core::PageRequest page{http::ListCursor(req), http::ListLimit(req, config.max_list_limit)};
        auto out = co_await db.Run([&](db::Tx& tx) {
          auto partner = PathPartner(tx, who, code);
          return ListRules(tx, who.tenant_id, partner.id, partner.code, page);
        });
        co_return http::JsonResponse(status::ok, out);
      });

  router.Add(
      verb::post, "/v1/accruals", {Role::kPartner},
      "Post one accrual (idempotent on event_id); concurrent ones share a transaction (group commit)",
      [&db, &clock, &metrics, &rule_cache, committer](http::Request& req) -> asio::awaitable<http::Response> {
        auto body = http::ParseJsonObject(req);
        http::Fields f(body);
        auto input = ParseAccrual(body, f, clock.Now());
        f.Done();
        AccrualItem item{req.who(), std::move(input)};
        AccrualOutcome outcome;
        if (committer != nullptr) {
          outcome = co_await committer->Submit(std::move(item));
        } else {
          auto outcomes = co_await db.Offload([&] {
            const AccrualItem* one = &item;
            return ApplyAccrualsIsolated(db, std::span(&one, 1), rule_cache, clock);
          });
          outcome = std::move(outcomes.front());
          if (outcome.error) std::rethrow_exception(outcome.error);
        }
        const auto status = outcome.answer.status;
        metrics.Add("unipoints_accruals_total",
                    outcome.replay ? "result=\"duplicate\""
                                   : (status == 201 ? "result=\"created\"" : "result=\"rejected\""),
                    1);
        co_return http::ToResponse(outcome.answer, outcome.replay);
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
        std::vector<AccrualItem> valid;
        std::vector<std::size_t> positions;
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
          valid.push_back(AccrualItem{who, std::move(input)});
          positions.push_back(i);
        }
        std::vector<const AccrualItem*> items;
        for (const auto& item : valid) items.push_back(&item);
        std::int64_t created = 0, duplicate = 0, rejected = 0;
        for (std::size_t start = 0; start < items.size(); start += kBatchChunk) {
          const auto chunk = std::span(items).subspan(start, std::min(kBatchChunk, items.size() - start));
          auto outcomes =
              co_await db.Offload([&] { return ApplyAccrualsIsolated(db, chunk, rule_cache, clock); });
          for (std::size_t k = 0; k < outcomes.size(); ++k) {
            const auto& outcome = outcomes[k];
            const auto& input = valid[start + k].input;
            auto& out = results[positions[start + k]];
            if (outcome.error) {
              // Its own transaction failed (the others of the batch are applied and answered):
              // nothing was written for it and its id stays free.
              out = RejectedResult(
                  input.event_id,
                  http::ProblemBody(ErrorCode::kInternal,
                                    "This event could not be applied and nothing was written for "
                                    "it; it may be posted again"));
              ++rejected;
              continue;
            }
            if (outcome.answer.status == 201) {
              out = {{"event_id", input.event_id},
                     {"status", outcome.replay ? "duplicate" : "created"},
                     {"points", outcome.answer.body["points"]},
                     {"accrual_id", outcome.answer.body["accrual_id"]}};
              (outcome.replay ? duplicate : created) += 1;
            } else {
              out = RejectedResult(input.event_id, outcome.answer.body);
              if (outcome.replay) out["replay"] = true;
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
