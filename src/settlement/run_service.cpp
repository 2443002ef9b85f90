#include "unipoints/settlement/run_service.hpp"

#include "run_store.hpp"

#include <spdlog/spdlog.h>

#include "unipoints/core/crypto.hpp"
#include "unipoints/core/decimal.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/lots/jobs.hpp"
#include "unipoints/settlement/netting.hpp"

namespace unipoints::settlement {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;

struct Bounds {
  core::Instant start, end;
  std::string currency, tenant_code, tenant_name;
  int minor_units = 2;
};

Bounds PeriodBounds(db::Tx& tx, std::int64_t tenant_id, core::Period p) {
  auto r = tx.Exec(store::kPeriodBounds, tenant_id, p.year, static_cast<int>(p.month))[0];
  return Bounds{core::FromUnixMicros(r[0].as<std::int64_t>()),
                core::FromUnixMicros(r[1].as<std::int64_t>()),
                r[2].as<std::string>(),
                r[4].as<std::string>(),
                r[5].as<std::string>(),
                r[3].as<int>()};
}

// The canonical content of a run: everything the hash covers, in a fixed key order (nlohmann
// objects are sorted by key) and without the status.
json Compute(db::Tx& tx, std::int64_t tenant_id, core::Period period, const std::string& previous_hash) {
  const auto b = PeriodBounds(tx, tenant_id, period);
  const auto start = core::ToUnixMicros(b.start);
  std::vector<PairInput> lines;
  for (const auto& r : tx.Exec(store::kPeriodPairs, tenant_id, period.ToString())) {
    const auto price_text = r[3].as<std::string>();
    const auto payer = r[0].as<std::string>(), payee = r[1].as<std::string>();
    auto price = core::Decimal6::Parse(price_text);
    if (!price) {
      throw DomainError(
          ErrorCode::kNoSettlementAgreement,
          "Lines " + payer + " -> " + payee + " in " + period.ToString() + " have no agreement in force",
          {{"period", "unpriced lines " + payer + " -> " + payee}}, {{"payer", payer}, {"payee", payee}});
    }
    lines.push_back({payer, payee, r[2].as<std::int64_t>(), *price});
  }
  std::vector<std::string> partners;
  for (const auto& r : tx.Exec(store::kPartnerCodes, tenant_id)) partners.push_back(r[0].as<std::string>());
  const auto netting = Net(lines, b.minor_units, partners);

  json pairs = json::array(), bilateral = json::array(), nets = json::array(), positions = json::array(),
       instructions = json::array(), cancellations = json::array();
  for (const auto& p : netting.pairs) {
    pairs.push_back({{"payer", p.payer},
                     {"payee", p.payee},
                     {"points", p.points},
                     {"price_per_point", p.price_per_point.ToString()},
                     {"amount_minor", p.amount_minor}});
  }
  for (const auto& n : netting.nets) {
    bilateral.push_back({{"a", n.a},
                         {"b", n.b},
                         {"a_pays_b_minor", n.a_pays_b_minor},
                         {"b_pays_a_minor", n.b_pays_a_minor},
                         {"net_minor", n.net_minor},
                         {"payer", n.net_payer.empty() ? json(nullptr) : json(n.net_payer)},
                         {"payee", n.net_payee.empty() ? json(nullptr) : json(n.net_payee)}});
  }
  std::int64_t check = 0;
  for (const auto& p : netting.positions) {
    nets.push_back({{"partner", p.partner}, {"net_minor", p.net_minor}});
    positions.push_back({{"partner", p.partner},
                         {"receivable_minor", p.receivable_minor},
                         {"payable_minor", p.payable_minor},
                         {"net_minor", p.net_minor}});
    check += p.net_minor;
  }
  if (check != 0) throw std::logic_error("settlement positions do not sum to zero");
  for (const auto& i : netting.instructions) {
    instructions.push_back({{"from", i.from}, {"to", i.to}, {"amount_minor", i.amount_minor}});
  }
  for (const auto& r : tx.Exec(store::kPeriodCancellations, tenant_id, period.ToString())) {
    cancellations.push_back({{"payer", r[0].as<std::string>()},
                             {"payee", r[1].as<std::string>()},
                             {"points", r[2].as<std::int64_t>()}});
  }
  json prior = json::array();
  for (const auto& r : tx.Exec(store::kPriorPeriodAdjustments, tenant_id, period.ToString(), start)) {
    prior.push_back({{"redemption_id", r[0].as<std::int64_t>()},
                     {"original_period", r[1].as<std::string>()},
                     {"payer", r[2].as<std::string>()},
                     {"payee", r[3].as<std::string>()},
                     {"points", r[4].as<std::int64_t>()}});
  }
  return {{"tenant", b.tenant_code},
          {"prior_period_adjustments", prior},
          // Points each partner issued that expired (or were carried over) in the period.
          {"breakage", lots::Breakage(tx, tenant_id, b.start, b.end)},
          {"period", period.ToString()},
          {"currency", b.currency},
          {"minor_units", b.minor_units},
          {"starts_at", core::FormatRfc3339(b.start)},
          {"ends_at", core::FormatRfc3339(b.end)},
          {"pairs", pairs},
          {"bilateral_nets", bilateral},
          {"nets", nets},
          {"positions", positions},
          {"instructions", instructions},
          {"cancellations", cancellations},
          {"previous_hash", previous_hash.empty() ? json(nullptr) : json(previous_hash)}};
}

json Body(const std::string& status, const json& content, const std::string& hash) {
  json out = content;
  out["status"] = status;
  out["content_hash"] = hash;
  return out;
}

std::string Canonical(const json& content) {
  return content.dump(-1, ' ', false, json::error_handler_t::strict);
}

std::string PreviousFinalHash(db::Tx& tx, std::int64_t tenant_id, core::Period period) {
  auto r = tx.ExecOne(store::kPreviousFinalHash, tenant_id, period.ToString());
  return r ? (*r)[0].as<std::string>() : std::string();
}

void LockPeriod(db::Tx& tx, std::int64_t tenant_id, core::Period period) {
  tx.Exec(store::kLockPeriod, static_cast<int>(tenant_id % 2147483647), period.ToString());
}

}  // namespace

std::pair<bool, json> RunPeriod(db::Tx& tx, const tenancy::Principal& who, core::Period period,
                                core::Instant now) {
  (void)now;
  LockPeriod(tx, who.tenant_id, period);
  if (auto existing = tx.ExecOne(store::kGetRun, who.tenant_id, period.ToString());
      existing && (*existing)[0].as<std::string>() == "final") {
    return {false,
            Body("final", json::parse((*existing)[1].as<std::string>()), (*existing)[2].as<std::string>())};
  }
  const auto previous = PreviousFinalHash(tx, who.tenant_id, period);
  auto content = Compute(tx, who.tenant_id, period, previous);
  const auto text = Canonical(content);
  const auto hash = core::Sha256Hex(text);
  std::optional<std::string> prev = previous.empty() ? std::nullopt : std::optional(previous);
  tx.Exec(store::kUpsertDraft, who.tenant_id, period.ToString(), text, hash, db::Nullable(prev));
  return {true, Body("draft", content, hash)};
}

json GetRun(db::Tx& tx, const tenancy::Principal& who, core::Period period) {
  auto row = tx.ExecOne(store::kGetRun, who.tenant_id, period.ToString());
  if (!row) throw DomainError(ErrorCode::kNotFound, "No settlement run for " + period.ToString());
  return Body((*row)[0].as<std::string>(), json::parse((*row)[1].as<std::string>()),
              (*row)[2].as<std::string>());
}

json FinalizeRun(db::Tx& tx, const tenancy::Principal& who, core::Period period, core::Instant now) {
  LockPeriod(tx, who.tenant_id, period);
  tx.Exec(store::kLockAgreementsShared, static_cast<int>(who.tenant_id % 2147483647));
  auto row = tx.ExecOne(store::kLockRun, who.tenant_id, period.ToString());
  if (row && (*row)[0].as<std::string>() == "final") {
    return Body("final", json::parse((*row)[1].as<std::string>()), (*row)[2].as<std::string>());
  }
  const auto bounds = PeriodBounds(tx, who.tenant_id, period);
  if (now < bounds.end) {
    throw DomainError(ErrorCode::kPeriodNotEnded, period.ToString() + " ends at " +
                                                      core::FormatRfc3339(bounds.end) +
                                                      "; its draft is a preview until then");
  }
  // The chain runs in period order: an earlier draft must be finalized first.
  const auto prev_period = period.Prev();
  if (auto earlier = tx.ExecOne(store::kGetRun, who.tenant_id, prev_period.ToString());
      earlier && (*earlier)[0].as<std::string>() == "draft") {
    throw DomainError(ErrorCode::kEarlierPeriodOpen,
                      prev_period.ToString() + " is still a draft: finalize it first");
  }
  const auto previous = PreviousFinalHash(tx, who.tenant_id, period);
  auto content = Compute(tx, who.tenant_id, period, previous);
  const auto text = Canonical(content);
  const auto hash = core::Sha256Hex(text);
  std::optional<std::string> prev = previous.empty() ? std::nullopt : std::optional(previous);
  if (!row) tx.Exec(store::kUpsertDraft, who.tenant_id, period.ToString(), text, hash, db::Nullable(prev));
  tx.Exec(store::kFinalize, who.tenant_id, period.ToString(), text, hash, db::Nullable(prev));
  return Body("final", content, hash);
}

int RunDueDrafts(db::Database& db, core::Instant now) {
  auto due = db.RunSync([now](db::Tx& tx) {
    std::vector<std::pair<std::int64_t, std::string>> out;
    for (const auto& r : tx.Exec(store::kDueDrafts, core::FormatRfc3339(now))) {
      out.emplace_back(r[0].as<std::int64_t>(), r[1].as<std::string>());
    }
    return out;
  });
  int made = 0;
  for (const auto& [tenant_id, period_text] : due) {
    const auto period = core::ParsePeriod(period_text);
    if (!period) continue;
    tenancy::Principal who;
    who.role = tenancy::Role::kAdmin;
    who.tenant_id = tenant_id;
    try {
      db.RunSync([&](db::Tx& tx) { return RunPeriod(tx, who, *period, now); });
      ++made;
    } catch (const DomainError& e) {
      // e.g. unpriced lines: the draft waits for an agreement; finance sees the reason on demand.
      spdlog::warn("settlement draft {} of tenant {} not made: {}", period_text, tenant_id, e.detail());
    }
  }
  return made;
}

}  // namespace unipoints::settlement
