#include "unipoints/earning/accrual_batch.hpp"

#include <map>
#include <set>
#include <tuple>

#include <spdlog/spdlog.h>

#include "accrual_batch_store.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/http/idempotent.hpp"
#include "unipoints/http/problem.hpp"
#include "unipoints/members/members_service.hpp"

namespace unipoints::earning {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;

using KeyId = std::tuple<std::int64_t, std::int64_t, std::string>;  // tenant, scope, event id
using MemberKey = std::pair<std::int64_t, std::int64_t>;            // tenant, member

KeyId IdOf(const db::IdempotencyKey& k) { return {k.tenant_id, k.scope, k.client_id}; }

json KeyRow(const db::IdempotencyKey& k) { return {{"t", k.tenant_id}, {"s", k.scope}, {"c", k.client_id}}; }

json OrNull(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json OrNull(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); }

// What one event needs between the steps.
struct Pending {
  std::size_t i = 0;
  members::MemberRef member;
  std::string tier;  // held at occurred_at
  std::optional<int> version;
  std::int64_t points = 0;
  std::string point_type;
  std::optional<std::string> multiplier;
  std::int64_t repaid = 0;
};

class Batch {
 public:
  Batch(db::Tx& tx, std::span<const AccrualItem* const> items, RuleCache& rules, core::Instant now)
      : tx_(tx), items_(items), rules_(rules), now_(now), out_(items.size()) {}

  std::vector<AccrualOutcome> Run() {
    for (const auto* item : items_) keys_.push_back(AccrualKey(item->who, item->input));
    auto pending = LockMembers(Check());
    FindVersions(pending);
    FindTiers(pending);
    Price(pending);
    Write(pending);
    Store();
    AnswerRepeats();
    return std::move(out_);
  }

 private:
  const AccrualInput& In(std::size_t i) const { return items_[i]->input; }
  const tenancy::Principal& Who(std::size_t i) const { return items_[i]->who; }

  // An event that cannot be applied: a 422 is its stored answer; anything else leaves its id free.
  void Refuse(std::size_t i, const DomainError& e) {
    const int status = core::Describe(e.code()).http_status;
    out_[i].answer = {status, http::ProblemBody(e)};
    if (status == 422) to_record_.push_back(i);
  }

  // Answers events whose id already has a stored answer (a replay, or a conflict when the body
  // differs); returns the others. A concurrent request that stores one of them first makes this
  // transaction's insert of the answers fail, and the transaction is run again (Database::RunSync).
  std::vector<std::size_t> Check() {
    std::map<KeyId, std::size_t> first;
    json rows = json::array();
    std::vector<std::size_t> unique;
    for (std::size_t i = 0; i < items_.size(); ++i) {
      auto [at, inserted] = first.emplace(IdOf(keys_[i]), i);
      if (!inserted) {
        repeats_.emplace_back(i, at->second);
        continue;
      }
      unique.push_back(i);
      rows.push_back(KeyRow(keys_[i]));
    }
    std::map<KeyId, std::tuple<std::string, int, std::string>> stored;
    for (const auto& r : tx_.Exec(store::kStoredKeys, rows.dump())) {
      stored.emplace(KeyId{r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<std::string>()},
                     std::make_tuple(r[3].as<std::string>(), r[4].as<int>(), r[5].as<std::string>()));
    }
    std::vector<std::size_t> fresh;
    for (auto i : unique) {
      auto it = stored.find(IdOf(keys_[i]));
      if (it == stored.end()) {
        fresh.push_back(i);
        continue;
      }
      const auto& [hash, status, body] = it->second;
      if (hash != keys_[i].request_hash) {
        out_[i] = AccrualOutcome{{409, http::ProblemBody(Conflict(i))}, false, nullptr};
      } else {
        out_[i] = AccrualOutcome{db::StoredAnswer{status, json::parse(body)}, true, nullptr};
      }
    }
    return fresh;
  }

  DomainError Conflict(std::size_t i) const {
    return DomainError(ErrorCode::kIdempotencyConflict,
                       "The id '" + In(i).event_id + "' was already used with a different request",
                       {{"event_id", "already used with another body"}});
  }

  std::vector<Pending> LockMembers(const std::vector<std::size_t>& claimed) {
    if (claimed.empty()) return {};
    // Members in id order (kLockMembers); the answers' ids are inserted last, in key order.
    json rows = json::array();
    for (auto i : claimed) {
      rows.push_back({{"i", i},
                      {"t", Who(i).tenant_id},
                      {"card", OrNull(In(i).card_no)},
                      {"mid", OrNull(In(i).member_id)}});
    }
    std::map<std::size_t, members::MemberRef> found;
    for (const auto& r : tx_.Exec(store::kLockMembers, rows.dump())) {
      const auto i = r[0].as<std::size_t>();
      members::MemberRef ref{r[1].as<std::int64_t>(), r[2].as<std::string>(), r[3].as<std::string>(),
                             In(i).card_no,           std::nullopt,           std::nullopt};
      if (!r[4].is_null()) ref.card_status = r[4].as<std::string>();
      if (!r[5].is_null()) ref.tier_since = core::FromUnixMicros(r[5].as<std::int64_t>());
      found.emplace(i, std::move(ref));
    }
    std::vector<Pending> pending;
    for (auto i : claimed) {
      try {
        auto it = found.find(i);
        if (it == found.end()) {
          if (In(i).card_no) {
            throw DomainError(ErrorCode::kUnknownCard, "No card " + *In(i).card_no,
                              {{"card_no", "unknown card"}});
          }
          throw DomainError(ErrorCode::kUnknownMember, "No member " + std::to_string(*In(i).member_id),
                            {{"member_id", "unknown member"}});
        }
        members::MemberService::RequireUsable(it->second);
        Pending p;
        p.i = i;
        p.member = it->second;
        p.tier = p.member.tier;
        pending.push_back(std::move(p));
      } catch (const DomainError& e) {
        Refuse(i, e);
      }
    }
    return pending;
  }

  void FindVersions(std::vector<Pending>& pending) {
    json rows = json::array();
    for (const auto& p : pending) {
      if (In(p.i).points) continue;
      rows.push_back({{"i", p.i},
                      {"t", Who(p.i).tenant_id},
                      {"p", *Who(p.i).partner_id},
                      {"occ", core::FormatRfc3339(In(p.i).occurred_at)}});
    }
    if (rows.empty()) return;
    std::map<std::size_t, int> versions;
    for (const auto& r : tx_.Exec(store::kVersionsAt, rows.dump())) {
      if (!r[1].is_null()) versions.emplace(r[0].as<std::size_t>(), r[1].as<int>());
    }
    for (auto& p : pending) {
      if (In(p.i).points) continue;
      if (auto it = versions.find(p.i); it != versions.end()) p.version = it->second;
    }
  }

  // The tier at occurred_at of events older than the member's last tier change.
  void FindTiers(std::vector<Pending>& pending) {
    json rows = json::array();
    for (const auto& p : pending) {
      if (!p.version || !p.member.tier_since || *p.member.tier_since <= In(p.i).occurred_at) continue;
      rows.push_back({{"i", p.i},
                      {"t", Who(p.i).tenant_id},
                      {"m", p.member.member_id},
                      {"occ", core::FormatRfc3339(In(p.i).occurred_at)},
                      {"cur", p.member.tier}});
    }
    if (rows.empty()) return;
    std::map<std::size_t, std::string> tiers;
    for (const auto& r : tx_.Exec(store::kTiersAt, rows.dump())) {
      tiers.emplace(r[0].as<std::size_t>(), r[1].as<std::string>());
    }
    for (auto& p : pending) {
      if (auto it = tiers.find(p.i); it != tiers.end()) p.tier = it->second;
    }
  }

  std::shared_ptr<const RuleSet> Rules(std::int64_t tenant, std::int64_t partner, int version) {
    if (auto cached = rules_.Find(tenant, partner, version)) return cached;
    auto row = tx_.ExecOne(store::kVersionBody, tenant, partner, version);
    if (!row) throw std::runtime_error("earning rule version vanished");
    return rules_.Get(tenant, partner, version, (*row)[0].as<std::string>());
  }

  void Price(std::vector<Pending>& pending) {
    std::vector<Pending> priced;
    for (auto& p : pending) {
      const auto& in = In(p.i);
      const auto& who = Who(p.i);
      try {
        if (in.points) {
          p.points = *in.points;
          p.point_type = in.point_type.value_or("bonus");
        } else {
          if (!p.version) {
            throw DomainError(ErrorCode::kNoEarningRules,
                              "Partner " + who.partner_code + " has no earning rules in force at " +
                                  core::FormatRfc3339(in.occurred_at),
                              {{"occurred_at", "no earning rules in force"}});
          }
          auto rules = Rules(who.tenant_id, *who.partner_id, *p.version);
          auto result = PriceAmount(*rules, *in.category, *in.amount_minor, p.tier, in.occurred_at);
          p.points = result.points;
          p.point_type = in.point_type.value_or(result.point_type);
          p.multiplier = result.multiplier.ToString();
        }
        priced.push_back(std::move(p));
      } catch (const DomainError& e) {
        Refuse(p.i, e);
      }
    }
    pending = std::move(priced);
  }

  void Write(std::vector<Pending>& pending) {
    if (pending.empty()) return;
    // Debt and available points of each member, read after the members were locked.
    json members = json::array();
    std::map<MemberKey, std::pair<std::int64_t, std::int64_t>> state;  // debt, available
    for (const auto& p : pending) {
      MemberKey key{Who(p.i).tenant_id, p.member.member_id};
      if (state.emplace(key, std::make_pair(0, 0)).second)
        members.push_back({{"t", key.first}, {"m", key.second}});
    }
    std::size_t seen = 0;
    for (const auto& r : tx_.Exec(store::kMemberStates, members.dump(), core::FormatRfc3339(now_))) {
      state[{r[0].as<std::int64_t>(), r[1].as<std::int64_t>()}] = {r[2].as<std::int64_t>(),
                                                                   r[3].as<std::int64_t>()};
      ++seen;
    }
    if (seen != state.size()) throw std::runtime_error("a member has no balance row");
    // Points repay debt first, in the events' order.
    std::map<MemberKey, std::pair<std::int64_t, std::int64_t>> moves;  // points, repaid
    std::vector<std::int64_t> accrual_ids;
    std::vector<std::int64_t> lot_ids;
    for (const auto& r : tx_.Exec(store::kTakeIds, static_cast<int>(pending.size()))) {
      accrual_ids.push_back(r[0].as<std::int64_t>());
      lot_ids.push_back(r[1].as<std::int64_t>());
    }
    json rows = json::array();
    for (std::size_t k = 0; k < pending.size(); ++k) {
      auto& p = pending[k];
      const auto& in = In(p.i);
      MemberKey key{Who(p.i).tenant_id, p.member.member_id};
      auto& debt = state[key].first;
      p.repaid = std::min(debt, p.points);
      debt -= p.repaid;
      auto& move = moves[key];
      move.first += p.points;
      move.second += p.repaid;
      rows.push_back({{"i", p.i},
                      {"t", key.first},
                      {"p", *Who(p.i).partner_id},
                      {"ev", in.event_id},
                      {"m", key.second},
                      {"card", OrNull(in.card_no)},
                      {"cat", OrNull(in.category)},
                      {"amt", OrNull(in.amount_minor)},
                      {"pts", p.points},
                      {"pt", p.point_type},
                      {"rv", p.version ? json(*p.version) : json(nullptr)},
                      {"mul", OrNull(p.multiplier)},
                      {"occ", core::FormatRfc3339(in.occurred_at)},
                      {"rem", p.points - p.repaid},
                      {"aid", accrual_ids.at(k)},
                      {"lid", lot_ids.at(k)}});
    }
    json totals = json::array();
    for (const auto& [key, move] : moves) {
      if (move.first == 0) continue;
      totals.push_back({{"t", key.first}, {"m", key.second}, {"p", move.first}, {"r", move.second}});
    }
    std::map<std::size_t, std::optional<std::int64_t>> expiry;
    for (const auto& r : tx_.Exec(store::kWriteAccruals, rows.dump(), totals.dump())) {
      expiry[r[0].as<std::size_t>()] = r[1].is_null() ? std::nullopt : std::optional(r[1].as<std::int64_t>());
    }
    if (expiry.size() != pending.size()) throw std::runtime_error("accruals written do not match the batch");
    const auto now_micros = core::ToUnixMicros(now_);
    for (std::size_t k = 0; k < pending.size(); ++k) {
      const auto& p = pending[k];
      const auto accrual_id = accrual_ids[k];
      const auto& expires = expiry.at(p.i);
      auto& available = state[{Who(p.i).tenant_id, p.member.member_id}].second;
      // A lot already past its expiry (a late event) adds only the debt it repaid.
      available += expires && *expires <= now_micros ? p.repaid : p.points;
      json body = {{"accrual_id", accrual_id},        {"event_id", In(p.i).event_id},
                   {"member_id", p.member.member_id}, {"points", p.points},
                   {"point_type", p.point_type},      {"partner", Who(p.i).partner_code}};
      body["rule_version"] = p.version ? json(*p.version) : json(nullptr);
      body["expires_at"] =
          expires ? json(core::FormatRfc3339(core::FromUnixMicros(*expires))) : json(nullptr);
      body["balance"] = available;
      out_[p.i].answer = {201, std::move(body)};
      to_record_.push_back(p.i);
    }
  }

  void Store() {
    if (to_record_.empty()) return;
    json rows = json::array();
    for (auto i : to_record_) {
      auto row = KeyRow(keys_[i]);
      row["h"] = keys_[i].request_hash;
      row["st"] = out_[i].answer.status;
      row["r"] = out_[i].answer.body;
      rows.push_back(std::move(row));
    }
    tx_.Exec(store::kInsertAnswers, rows.dump(-1, ' ', false, json::error_handler_t::replace));
  }

  void AnswerRepeats() {
    for (const auto& [i, first] : repeats_) {
      if (keys_[i].request_hash != keys_[first].request_hash) {
        out_[i] = AccrualOutcome{{409, http::ProblemBody(Conflict(i))}, false, nullptr};
        continue;
      }
      const auto status = out_[first].answer.status;
      const bool stored = (status >= 200 && status < 300) || status == 422;
      out_[i] = AccrualOutcome{out_[first].answer, stored || out_[first].replay, nullptr};
    }
  }

  db::Tx& tx_;
  std::span<const AccrualItem* const> items_;
  RuleCache& rules_;
  core::Instant now_;
  std::vector<AccrualOutcome> out_;
  std::vector<db::IdempotencyKey> keys_;
  std::vector<std::pair<std::size_t, std::size_t>> repeats_;  // (event, its first occurrence)
  std::vector<std::size_t> to_record_;
};

}  // namespace

db::IdempotencyKey AccrualKey(const tenancy::Principal& who, const AccrualInput& in) {
  return {who.tenant_id, who.IdScope(), "accrual", in.event_id, http::RequestHash(in.canonical)};
}

std::vector<AccrualOutcome> ApplyAccruals(db::Tx& tx, std::span<const AccrualItem* const> items,
                                          RuleCache& rules, core::Instant now) {
  if (items.empty()) return {};
  return Batch(tx, items, rules, now).Run();
}

std::vector<AccrualOutcome> ApplyAccrualsIsolated(db::Database& db, std::span<const AccrualItem* const> items,
                                                  RuleCache& rules, const core::Clock& clock) {
  try {
    return db.RunSync([&](db::Tx& tx) { return ApplyAccruals(tx, items, rules, clock.Now()); });
  } catch (const DomainError&) {
    throw;  // the database is unavailable: every event alike
  } catch (const pqxx::in_doubt_error&) {
    throw;
  } catch (const std::exception& e) {
    if (items.size() <= 1) throw;
    spdlog::warn("a batch of {} accruals failed ({}); applying them one by one", items.size(), e.what());
  }
  std::vector<AccrualOutcome> out;
  out.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    try {
      out.push_back(db.RunSync([&](db::Tx& tx) {
                        return ApplyAccruals(tx, items.subspan(i, 1), rules, clock.Now());
                      }).front());
    } catch (const DomainError&) {
      throw;
    } catch (const std::exception& e) {
      spdlog::error("accrual {} failed: {}", items[i]->input.event_id, e.what());
      AccrualOutcome failed;
      failed.error = std::current_exception();
      out.push_back(std::move(failed));
    }
  }
  return out;
}

}  // namespace unipoints::earning
