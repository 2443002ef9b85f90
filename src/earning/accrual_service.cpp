#include "unipoints/earning/accrual_service.hpp"

#include <limits>

#include "earning_store.hpp"
#include "unipoints/core/card_number.hpp"
#include "unipoints/core/error.hpp"

namespace unipoints::earning {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;

// Events dated further ahead than this are refused: a clock that far off is a bug upstream.
constexpr auto kMaxFutureSkew = std::chrono::hours(24);

}  // namespace

AccrualInput ParseAccrual(const json& event, http::Fields& f, core::Instant now) {
  AccrualInput in;
  in.event_id = f.Id("event_id");
  in.card_no = f.OptStr("card_no", 32);
  if (in.card_no && !core::IsValidCardNumber(*in.card_no)) {
    f.Error("card_no", "is not a card number (digits with a valid check digit)");
  }
  in.member_id = f.OptInt("member_id", 1, INT64_MAX);
  if (f.Has("card_no") == f.Has("member_id")) f.Error("card_no", "give exactly one of card_no or member_id");
  in.category = f.OptStr("category", 64);
  in.amount_minor = f.OptInt("amount_minor", 0, kMaxAmountMinor);
  in.points = f.OptInt("points", 1, kMaxDirectPoints);
  in.point_type = f.OptEnum("point_type", {"consumption", "tenure", "credit", "bonus"});
  if (f.Has("amount_minor") == f.Has("points"))
    f.Error("amount_minor", "give exactly one of amount_minor or points");
  if (f.Has("amount_minor") && !f.Has("category")) f.Error("category", "is required with amount_minor");
  in.occurred_at = f.Time("occurred_at");
  if (f.Has("occurred_at") && in.occurred_at > now + kMaxFutureSkew) {
    f.Error("occurred_at", "must not be more than 24 hours in the future");
  }
  in.canonical = event;
  return in;
}

std::shared_ptr<const RuleSet> RuleCache::Get(std::int64_t tenant_id, std::int64_t partner_id, int version,
                                              const std::string& body_json) {
  const auto key = std::make_tuple(tenant_id, partner_id, version);
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
  }
  auto parsed = std::make_shared<const RuleSet>(ParseRuleSet(json::parse(body_json)));
  std::lock_guard lock(mu_);
  if (entries_.size() >= max_entries_) entries_.clear();
  entries_.emplace(key, parsed);
  return parsed;
}

std::shared_ptr<const RuleSet> RuleCache::Find(std::int64_t tenant_id, std::int64_t partner_id, int version) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::make_tuple(tenant_id, partner_id, version));
  return it == entries_.end() ? nullptr : it->second;
}

json PutRules(db::Tx& tx, std::int64_t tenant_id, std::int64_t partner_id, const std::string& partner_code,
              std::optional<core::Instant> effective_from, const RuleSet& rules, core::Instant now) {
  tx.Exec(store::kLockPartner, tenant_id, partner_id);
  const auto from = effective_from.value_or(now);
  auto body = ToJson(rules);
  auto r = tx.Exec(store::kInsertVersion, tenant_id, partner_id, core::FormatRfc3339(from), body.dump());
  json out = body;
  out["partner"] = partner_code;
  out["version"] = r[0][0].as<int>();
  out["effective_from"] = core::FormatRfc3339(from);
  return out;
}

json ListRules(db::Tx& tx, std::int64_t tenant_id, std::int64_t partner_id, const std::string& partner_code,
               const core::PageRequest& page) {
  json items = json::array();
  // Versions are ints: a cursor beyond them starts at the newest.
  std::optional<std::int64_t> before = page.after;
  if (before && *before > std::numeric_limits<int>::max()) before.reset();
  for (const auto& r : tx.Exec(store::kListVersions, tenant_id, partner_id,
                               db::Nullable(db::OptNumber(before)), page.limit + 1)) {
    json v = json::parse(r[2].as<std::string>());
    v["version"] = r[0].as<int>();
    v["effective_from"] = core::FormatRfc3339(core::FromUnixMicros(r[1].as<std::int64_t>()));
    v["created_at"] = core::FormatRfc3339(core::FromUnixMicros(r[3].as<std::int64_t>()));
    v["partner"] = partner_code;
    items.push_back(std::move(v));
  }
  return core::PageOf(std::move(items), page.limit, "version");
}

}  // namespace unipoints::earning
