#include "unipoints/earning/accrual_batch.hpp"

#include <map>
#include <set>
#include <tuple>

#include <spdlog/spdlog.h>

#include "accrual_batch_store.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/db/json_records.hpp"
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

// An accepted accrual's answer: built when it is applied, rebuilt from its row on a repeat.
json AcceptedBody(std::int64_t accrual_id, const std::string& event_id, std::int64_t member_id,
                  std::int64_t points, const std::string& point_type, const std::string& partner,
                  std::optional<int> version, std::optional<std::int64_t> expires, std::int64_t balance) {
  return {{"accrual_id", accrual_id},
          {"event_id", event_id},
          {"member_id", member_id},
          {"points", points},
          {"point_type", point_type},
          {"partner", partner},
          {"rule_version", version ? json(*version) : json(nullptr)},
          {"expires_at", expires ? json(core::FormatRfc3339(core::FromUnixMicros(*expires))) : json(nullptr)},
          {"balance", balance}};
}

// What one event needs between the steps.
struct Pending {
  std::size_t i = 0;
  members::MemberRef member;
  std::string tier;  // held at occurred_at
  std::optional<int> version;
  std::shared_ptr<const RuleSet> rules;
  std::int64_t points = 0;
  std::string point_type;
  std::optional<std::string> multiplier;
  std::optional<std::int64_t> expires;  // µs since the epoch; nullopt: never
  std::int64_t repaid = 0;
  std::int64_t accrual_id = 0;
  std::int64_t lot_id = 0;
};

// A stored answer read by kReadAndLock ('k' row; the accrual's columns when it was accepted).
struct StoredRow {
  explicit StoredRow(const pqxx::row& r)
      : status(r[2].as<int>()),
        hash(r[9].as<std::string>()),
        response(r[10].is_null() ? std::nullopt : std::optional(r[10].as<std::string>())) {
    if (r[3].is_null()) return;
    accrual_id = r[3].as<std::int64_t>();
    member_id = r[4].as<std::int64_t>();
    points = r[5].as<std::int64_t>();
    if (!r[6].is_null()) rule_version = r[6].as<int>();
    if (!r[7].is_null()) expires = r[7].as<std::int64_t>();
    balance = r[8].as<std::int64_t>();
    point_type = r[11].as<std::string>();
  }
  int status;
  std::string hash;
  std::optional<std::string> response;
  std::optional<std::int64_t> accrual_id;
  std::int64_t member_id = 0;
  std::int64_t points = 0;
  std::optional<int> rule_version;
  std::optional<std::int64_t> expires;
  std::int64_t balance = 0;
  std::string point_type;
};

class Batch {
 public:
  Batch(db::Tx& tx, std::span<const AccrualItem* const> items, RuleCache& rules, core::Instant now,
        bool skip_held)
      : tx_(tx), items_(items), rules_(rules), now_(now), skip_held_(skip_held), out_(items.size()) {}

  std::vector<AccrualOutcome> Run() {
    for (const auto* item : items_) keys_.push_back(AccrualKey(item->who, item->input));
    auto pending = ReadAndLock(Unique());
    PointTypes(pending);
    ReadState(pending);
    Price(pending);
    Write(pending);
    AnswerRepeats();
    return std::move(out_);
  }

 private:
  const AccrualInput& In(std::size_t i) const { return items_[i]->input; }
  const tenancy::Principal& Who(std::size_t i) const { return items_[i]->who; }
  static MemberKey KeyOf(const tenancy::Principal& who, const Pending& p) {
    return {who.tenant_id, p.member.member_id};
  }

  // An event that cannot be applied: a 422 is its stored answer; anything else leaves its id free.
  void Refuse(std::size_t i, const DomainError& e) {
    const int status = core::Describe(e.code()).http_status;
    out_[i].answer = {status, http::ProblemBody(e)};
    if (status == 422) to_record_.push_back(i);
  }

  // Events with ids not seen before in this batch; the others are answered like repeats.
  std::vector<std::size_t> Unique() {
    std::map<KeyId, std::size_t> first;
    std::vector<std::size_t> unique;
    for (std::size_t i = 0; i < items_.size(); ++i) {
      auto [at, inserted] = first.emplace(IdOf(keys_[i]), i);
      if (inserted) {
        unique.push_back(i);
      } else {
        repeats_.emplace_back(i, at->second);
      }
    }
    return unique;
  }

  DomainError Conflict(std::size_t i) const {
    return DomainError(ErrorCode::kIdempotencyConflict,
                       "The id '" + In(i).event_id + "' was already used with a different request",
                       {{"event_id", "already used with another body"}});
  }

  // Statement 1: stored answers (replays and conflicts), members locked, rule versions, ids.
  std::vector<Pending> ReadAndLock(const std::vector<std::size_t>& unique) {
    db::JsonRecords rows;
    for (auto i : unique) {
      const auto& in = In(i);
      rows.Row()
          .Int("i", static_cast<std::int64_t>(i))
          .Int("t", Who(i).tenant_id)
          .Int("s", keys_[i].scope)
          .Str("c", keys_[i].client_id)
          .Int("p", *Who(i).partner_id)
          .OptStr("card", in.card_no)
          .OptInt("mid", in.member_id)
          .Str("occ", core::FormatRfc3339(in.occurred_at))
          .Bool("priced", !in.points.has_value());
    }
    std::map<std::size_t, StoredRow> stored;
    std::map<std::size_t, members::MemberRef> found;
    std::map<std::size_t, int> versions;
    std::set<std::size_t> held;
    const auto& statement = skip_held_ ? store::kReadAndLockSkipping : store::kReadAndLock;
    for (const auto& r : tx_.Exec(statement, rows.Take(), static_cast<int>(unique.size()))) {
      const auto kind = r[0].c_str()[0];
      const auto i = r[1].as<std::size_t>();
      if (kind == 'o') {
        held.insert(i);
      } else if (kind == 'v') {
        versions.emplace(i, r[2].as<int>());
      } else if (kind == 'i') {
        ids_.emplace_back(r[2].as<std::int64_t>(), r[3].as<std::int64_t>());
      } else if (kind == 'k') {
        stored.emplace(i, StoredRow(r));
      } else {
        members::MemberRef ref{r[2].as<std::int64_t>(), r[9].as<std::string>(), r[10].as<std::string>(),
                               In(i).card_no,           std::nullopt,           std::nullopt};
        if (!r[11].is_null()) ref.card_status = r[11].as<std::string>();
        if (!r[3].is_null()) ref.tier_since = core::FromUnixMicros(r[3].as<std::int64_t>());
        found.emplace(i, std::move(ref));
      }
    }
    std::vector<Pending> pending;
    for (auto i : unique) {
      if (auto it = stored.find(i); it != stored.end()) {
        const auto& v = it->second;
        if (v.hash != keys_[i].request_hash) {
          out_[i] = AccrualOutcome{{409, http::ProblemBody(Conflict(i))}, false, nullptr};
        } else if (v.response) {
          out_[i] = AccrualOutcome{db::StoredAnswer{v.status, json::parse(*v.response)}, true, nullptr};
        } else {
          if (!v.accrual_id) throw std::runtime_error("an accepted accrual's key without its accrual");
          const auto body = AcceptedBody(*v.accrual_id, In(i).event_id, v.member_id, v.points, v.point_type,
                                         Who(i).partner_code, v.rule_version, v.expires, v.balance);
          out_[i] = AccrualOutcome{db::StoredAnswer{v.status, body}, true, nullptr};
        }
        continue;
      }
      if (held.contains(i)) {
        out_[i].held = true;
        continue;
      }
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
        if (auto v = versions.find(i); v != versions.end()) p.version = v->second;
        pending.push_back(std::move(p));
      } catch (const DomainError& e) {
        Refuse(i, e);
      }
    }
    return pending;
  }

  std::shared_ptr<const RuleSet> Rules(std::int64_t tenant, std::int64_t partner, int version) {
    if (auto cached = rules_.Find(tenant, partner, version)) return cached;
    auto row = tx_.ExecOne(store::kVersionBody, tenant, partner, version);
    if (!row) throw std::runtime_error("earning rule version vanished");
    return rules_.Get(tenant, partner, version, (*row)[0].as<std::string>());
  }

  // The point type of each event (the tier changes points, never the type), which its lot's
  // expiry depends on; refuses events without rules in force or with an unknown category.
  void PointTypes(std::vector<Pending>& pending) {
    std::vector<Pending> typed;
    for (auto& p : pending) {
      const auto& in = In(p.i);
      const auto& who = Who(p.i);
      try {
        if (in.points) {
          p.point_type = in.point_type.value_or("bonus");
        } else {
          if (!p.version) {
            throw DomainError(ErrorCode::kNoEarningRules,
                              "Partner " + who.partner_code + " has no earning rules in force at " +
                                  core::FormatRfc3339(in.occurred_at),
                              {{"occurred_at", "no earning rules in force"}});
          }
          p.rules = Rules(who.tenant_id, *who.partner_id, *p.version);
          p.point_type =
              in.point_type.value_or(PriceAmount(*p.rules, *in.category, 0, "", in.occurred_at).point_type);
        }
        typed.push_back(std::move(p));
      } catch (const DomainError& e) {
        Refuse(p.i, e);
      }
    }
    pending = std::move(typed);
  }

  // Statement 2, after the locks: members' debt and available points, tiers of late events, expiries.
  void ReadState(std::vector<Pending>& pending) {
    if (pending.empty()) return;
    db::JsonRecords members, tiers, expiries;
    for (const auto& p : pending) {
      const auto key = KeyOf(Who(p.i), p);
      if (state_.emplace(key, std::make_pair(0, 0)).second)
        members.Row().Int("t", key.first).Int("m", key.second);
      const auto occ = core::FormatRfc3339(In(p.i).occurred_at);
      const auto i = static_cast<std::int64_t>(p.i);
      if (p.rules && p.member.tier_since && *p.member.tier_since > In(p.i).occurred_at) {
        tiers.Row()
            .Int("i", i)
            .Int("t", key.first)
            .Int("m", key.second)
            .Str("occ", occ)
            .Str("cur", p.member.tier);
      }
      expiries.Row().Int("i", i).Int("t", key.first).Str("pt", p.point_type).Str("occ", occ);
    }
    std::map<std::size_t, std::string> tier_at;
    std::map<std::size_t, std::optional<std::int64_t>> expiry;
    std::size_t states = 0;
    for (const auto& r :
         tx_.Exec(store::kState, members.Take(), core::FormatRfc3339(now_), tiers.Take(), expiries.Take())) {
      const auto kind = r[0].c_str()[0];
      const auto i = r[1].as<std::size_t>();
      if (kind == 's') {
        state_[{r[2].as<std::int64_t>(), r[3].as<std::int64_t>()}] = {r[4].as<std::int64_t>(),
                                                                      r[5].as<std::int64_t>()};
        ++states;
      } else if (kind == 't') {
        tier_at[i] = r[6].as<std::string>();
      } else {
        expiry[i] = r[2].is_null() ? std::nullopt : std::optional(r[2].as<std::int64_t>());
      }
    }
    if (states != state_.size()) throw std::runtime_error("a member has no balance row");
    for (auto& p : pending) {
      if (auto it = tier_at.find(p.i); it != tier_at.end()) p.tier = it->second;
      p.expires = expiry.at(p.i);
    }
  }

  void Price(std::vector<Pending>& pending) {
    std::vector<Pending> priced;
    for (auto& p : pending) {
      const auto& in = In(p.i);
      try {
        if (in.points) {
          p.points = *in.points;
        } else {
          auto result = PriceAmount(*p.rules, *in.category, *in.amount_minor, p.tier, in.occurred_at);
          p.points = result.points;
          p.multiplier = result.multiplier.ToString();
        }
        priced.push_back(std::move(p));
      } catch (const DomainError& e) {
        Refuse(p.i, e);
      }
    }
    pending = std::move(priced);
  }

  // Statement 3: points repay debt first, in the events' order; the answers carry each event's
  // balance right after it; everything is written at once with the stored answers.
  void Write(std::vector<Pending>& pending) {
    std::map<MemberKey, std::pair<std::int64_t, std::int64_t>> moves;  // points, repaid
    db::JsonRecords rows;
    const auto now_micros = core::ToUnixMicros(now_);
    for (std::size_t k = 0; k < pending.size(); ++k) {
      auto& p = pending[k];
      const auto& in = In(p.i);
      const auto& who = Who(p.i);
      const auto key = KeyOf(who, p);
      auto& [debt, available] = state_.at(key);
      // A lot already past its expiry (a late event) is never available, so it repays no debt either.
      const bool expired = p.expires && *p.expires <= now_micros;
      p.repaid = expired ? 0 : std::min(debt, p.points);
      debt -= p.repaid;
      if (!expired) available += p.points;
      std::tie(p.accrual_id, p.lot_id) = ids_.at(k);
      auto& move = moves[key];
      move.first += p.points;
      move.second += p.repaid;
      rows.Row()
          .Int("i", static_cast<std::int64_t>(p.i))
          .Int("t", key.first)
          .Int("p", *who.partner_id)
          .Str("ev", in.event_id)
          .Int("m", key.second)
          .OptStr("card", in.card_no)
          .OptStr("cat", in.category)
          .OptInt("amt", in.amount_minor)
          .Int("pts", p.points)
          .Str("pt", p.point_type)
          .OptInt("rv", p.version ? std::optional<std::int64_t>(*p.version) : std::nullopt)
          .OptStr("mul", p.multiplier)
          .Str("occ", core::FormatRfc3339(in.occurred_at))
          .Int("rem", p.points - p.repaid)
          .Int("aid", p.accrual_id)
          .Int("lid", p.lot_id)
          .OptInt("exp", p.expires)
          .Int("bal", available);
      out_[p.i].answer = {
          201, AcceptedBody(p.accrual_id, in.event_id, key.second, p.points, p.point_type, who.partner_code,
                            p.version, p.points > 0 ? p.expires : std::nullopt, available)};
      to_record_.push_back(p.i);
    }
    if (to_record_.empty()) return;
    db::JsonRecords totals;
    for (const auto& [key, move] : moves) {
      if (move.first == 0) continue;
      totals.Row().Int("t", key.first).Int("m", key.second).Int("p", move.first).Int("r", move.second);
    }
    db::JsonRecords answers;
    for (auto i : to_record_) {
      const auto& k = keys_[i];
      answers.Row().Int("t", k.tenant_id).Int("s", k.scope).Str("c", k.client_id).Str("h", k.request_hash);
      answers.Int("st", out_[i].answer.status);
      if (out_[i].answer.status == 201) {
        answers.Null("r");  // an accepted accrual's answer is rebuilt from its row (kReadAndLock)
      } else {
        answers.Raw("r", out_[i].answer.body.dump(-1, ' ', false, json::error_handler_t::replace));
      }
    }
    tx_.Exec(store::kWrite, rows.Take(), totals.Take(), answers.Take(), core::FormatRfc3339(now_));
  }

  void AnswerRepeats() {
    for (const auto& [i, first] : repeats_) {
      if (out_[first].held) {
        out_[i].held = true;  // answered with its first occurrence, later
        continue;
      }
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
  bool skip_held_;
  std::vector<AccrualOutcome> out_;
  std::vector<db::IdempotencyKey> keys_;
  std::vector<std::pair<std::size_t, std::size_t>> repeats_;          // (event, its first occurrence)
  std::vector<std::pair<std::int64_t, std::int64_t>> ids_;            // accrual and lot ids taken ahead
  std::map<MemberKey, std::pair<std::int64_t, std::int64_t>> state_;  // debt, available
  std::vector<std::size_t> to_record_;
};

}  // namespace

db::IdempotencyKey AccrualKey(const tenancy::Principal& who, const AccrualInput& in) {
  return {who.tenant_id, who.IdScope(), "accrual", in.event_id, http::RequestHash(in.canonical)};
}

std::vector<AccrualOutcome> ApplyAccruals(db::Tx& tx, std::span<const AccrualItem* const> items,
                                          RuleCache& rules, core::Instant now, bool skip_held) {
  if (items.empty()) return {};
  return Batch(tx, items, rules, now, skip_held).Run();
}

namespace {

// One transaction for `items` (skipping held members when asked), else one per event.
std::vector<AccrualOutcome> ApplyInOwnTransaction(db::Database& db, std::span<const AccrualItem* const> items,
                                                  RuleCache& rules, const core::Clock& clock,
                                                  bool skip_held) {
  try {
    return db.RunSync([&](db::Tx& tx) { return ApplyAccruals(tx, items, rules, clock.Now(), skip_held); });
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

}  // namespace

std::vector<AccrualOutcome> ApplyAccrualsIsolated(db::Database& db, std::span<const AccrualItem* const> items,
                                                  RuleCache& rules, const core::Clock& clock) {
  auto out = ApplyInOwnTransaction(db, items, rules, clock, true);
  std::vector<std::size_t> later;
  std::vector<const AccrualItem*> rest;
  for (std::size_t k = 0; k < out.size(); ++k) {
    if (!out[k].held) continue;
    later.push_back(k);
    rest.push_back(items[k]);
  }
  if (rest.empty()) return out;
  auto applied = ApplyInOwnTransaction(db, rest, rules, clock, false);
  for (std::size_t k = 0; k < later.size(); ++k) out[later[k]] = std::move(applied[k]);
  return out;
}

}  // namespace unipoints::earning
