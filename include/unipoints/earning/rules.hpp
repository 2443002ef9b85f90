#pragma once
// The earning-rules engine: a partner's rule set (validated from its JSON form) and the pure function
// that prices an amount in points. No I/O: the store keeps the canonical JSON (ToJson) per effective-
// dated version and the accrual service calls PriceAmount with the version in force at occurred_at.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "unipoints/core/decimal.hpp"
#include "unipoints/core/time.hpp"

namespace unipoints::earning {

inline constexpr std::size_t kMaxRules = 1000;
inline constexpr std::size_t kMaxPromotions = 1000;
inline constexpr std::size_t kMaxTierMultipliers = 64;
inline constexpr std::size_t kMaxCategoryChars = 64;  // Unicode code points
inline constexpr std::size_t kMaxTierCodeChars = 64;  // Unicode code points
inline constexpr std::int64_t kMaxPointsPerUnit = 1'000'000;
inline constexpr std::int64_t kMaxUnitMinor = 1'000'000'000;
inline constexpr core::Decimal6 kMaxFactor{1000 * core::Decimal6::kScale};  // tier multipliers, promotions
inline constexpr std::string_view kDefaultPointType = "consumption";

// consumption, tenure, credit or bonus.
bool IsPointType(std::string_view point_type);

struct CategoryRule {
  std::string category;
  std::int64_t points_per_unit = 0;  // points per unit_minor of spend, before multipliers
  std::int64_t unit_minor = 1;       // e.g. 100 = one CNY
  std::string point_type{kDefaultPointType};
  std::optional<std::int64_t> min_amount_minor;            // amounts below it earn nothing
  std::optional<std::int64_t> cap_points;                  // per event, after multipliers
  std::map<std::string, core::Decimal6> tier_multipliers;  // tier code -> factor; absent tier = 1

  bool operator==(const CategoryRule&) const = default;
};

// In force when from <= t < to; applies to `categories`, or to every category when it is empty.
struct Promotion {
  core::Instant from;
  core::Instant to;
  core::Decimal6 factor;
  std::vector<std::string> categories;

  bool operator==(const Promotion&) const = default;
};

struct RuleSet {
  std::vector<CategoryRule> rules;
  std::vector<Promotion> promotions;

  bool operator==(const RuleSet&) const = default;
};

// Validates `body` = {"rules":[...], "promotions":[...]} (other keys, e.g. effective_from, are
// ignored) and throws core::DomainError(kValidationFailed) listing every bad field, with paths like
// "rules[2].unit_minor", "rules[0].tier_multipliers.gold", "promotions[1].categories[0]" ("" if body
// itself is not an object). Optional fields may be absent or null. Factors are decimal strings
// ("1.5") or JSON integers; a promotion's `categories`, when given, is a non-empty array of distinct
// categories that have a rule. Order of rules and promotions is kept.
RuleSet ParseRuleSet(const nlohmann::json& body);

// The canonical JSON form: every rule with category, points_per_unit, unit_minor, point_type and
// tier_multipliers (factors as short decimal strings, "1.5"), min_amount_minor / cap_points only when
// set; promotions always present, instants in UTC, categories only when restricted.
// ParseRuleSet(ToJson(set)) == set.
nlohmann::json ToJson(const RuleSet& set);

struct Priced {
  std::int64_t points = 0;
  std::string point_type;
  // Tier multiplier × promotion factors in force, for display and audit only: floored to 6 places
  // (saturating at the largest Decimal6). Points are computed from the exact factors.
  core::Decimal6 multiplier = core::Decimal6::One();
  bool capped = false;         // points were reduced to cap_points
  bool below_minimum = false;  // amount_minor < min_amount_minor, so points == 0
};

// points = floor(amount_minor × points_per_unit × multiplier / unit_minor), computed exactly and
// rounded once, where multiplier = the rule's multiplier for `tier` (1 if none, or tier is empty) ×
// the factor of every promotion in force at occurred_at for this category; then the cap. Amounts
// below min_amount_minor earn 0.
// Requires amount_minor >= 0 (the caller validates). Throws core::DomainError(kUnknownCategory) for a
// category without a rule, and core::DomainError(kValidationFailed) on "amount_minor" when the exact
// product is too large to compute (far beyond int64 points; never for realistic amounts).
Priced PriceAmount(const RuleSet& set, std::string_view category, std::int64_t amount_minor,
                   std::string_view tier, core::Instant occurred_at);

}  // namespace unipoints::earning
