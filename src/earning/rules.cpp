#include "unipoints/earning/rules.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "unipoints/core/error.hpp"
#include "unipoints/earning/accrual_service.hpp"

namespace unipoints::earning {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 4> kPointTypes = {"consumption", "tenure", "credit", "bonus"};
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

// Counts Unicode code points of valid UTF-8 (nlohmann's parser rejects invalid UTF-8).
std::size_t CodePoints(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string Index(std::string_view path, std::size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

std::string Member(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

// Collects every field error so that one answer lists them all.
class Errors {
 public:
  void Add(std::string field, std::string message) {
    list_.push_back({std::move(field), std::move(message)});
  }
  bool empty() const { return list_.empty(); }

  [[noreturn]] void Throw() && {
    std::string detail = list_.front().field + ": " + list_.front().message;
    if (list_.size() > 1) {
      detail += " (and " + std::to_string(list_.size() - 1) + " more)";
    }
    throw core::DomainError(core::ErrorCode::kValidationFailed, std::move(detail), std::move(list_));
  }

 private:
  std::vector<core::FieldError> list_;
};

// Absent or null.
bool IsMissing(const json& object, std::string_view key) {
  const auto it = object.find(key);
  return it == object.end() || it->is_null();
}

std::string RangeMessage(std::int64_t min, std::int64_t max) {
  if (max == kInt64Max) {
    return "must be an integer >= " + std::to_string(min);
  }
  return "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

std::optional<std::int64_t> ReadInt(const json& value, const std::string& field, std::int64_t min,
                                    std::int64_t max, Errors& errors) {
  std::optional<std::int64_t> result;
  if (value.is_number_unsigned()) {
    const auto unsigned_value = value.get<std::uint64_t>();
    if (unsigned_value <= static_cast<std::uint64_t>(kInt64Max)) {
      result = static_cast<std::int64_t>(unsigned_value);
    }
  } else if (value.is_number_integer()) {
    result = value.get<std::int64_t>();
  }
  if (!result || *result < min || *result > max) {
    errors.Add(field, RangeMessage(min, max));
    return std::nullopt;
  }
  return result;
}

// A multiplier: a decimal string ("1.5") or a JSON integer, 0 < factor <= kMaxFactor.
std::optional<core::Decimal6> ReadFactor(const json& value, const std::string& field, Errors& errors) {
  std::optional<core::Decimal6> result;
  if (value.is_string()) {
    result = core::Decimal6::Parse(value.get_ref<const std::string&>());
  } else if (value.is_number_integer()) {
    // Range-check before scaling so that the multiplication cannot overflow.
    const std::int64_t max_units = kMaxFactor.micros / core::Decimal6::kScale;
    const bool in_range = value.is_number_unsigned()
                              ? value.get<std::uint64_t>() <= static_cast<std::uint64_t>(max_units)
                              : value.get<std::int64_t>() >= 0 && value.get<std::int64_t>() <= max_units;
    if (in_range) {
      result = core::Decimal6{value.get<std::int64_t>() * core::Decimal6::kScale};
    }
  }
  if (!result || result->micros <= 0 || *result > kMaxFactor) {
    errors.Add(field, "must be a decimal string greater than 0 and at most " + kMaxFactor.ToShortString() +
                          " with up to 6 decimals, e.g. \"1.5\"");
    return std::nullopt;
  }
  return result;
}

std::optional<core::Instant> ReadInstant(const json& value, const std::string& field, Errors& errors) {
  std::optional<core::Instant> result;
  if (value.is_string()) {
    result = core::ParseRfc3339(value.get_ref<const std::string&>());
  }
  if (!result) {
    errors.Add(field, "must be an RFC 3339 date-time with offset, e.g. \"2026-12-01T00:00:00+08:00\"");
  }
  return result;
}

CategoryRule ReadRule(const json& item, const std::string& path, Errors& errors) {
  CategoryRule rule;
  if (!item.is_object()) {
    errors.Add(path, "must be an object");
    return rule;
  }

  const std::string category_field = Member(path, "category");
  if (IsMissing(item, "category")) {
    errors.Add(category_field, "is required");
  } else if (const json& category = item.at("category"); !category.is_string()) {
    errors.Add(category_field, "must be a string");
  } else {
    rule.category = category.get<std::string>();
    const std::size_t length = CodePoints(rule.category);
    if (length == 0 || length > kMaxCategoryChars) {
      errors.Add(category_field, "must be 1 to " + std::to_string(kMaxCategoryChars) + " characters");
    }
  }

  const std::string ppu_field = Member(path, "points_per_unit");
  if (IsMissing(item, "points_per_unit")) {
    errors.Add(ppu_field, "is required");
  } else if (auto value = ReadInt(item.at("points_per_unit"), ppu_field, 0, kMaxPointsPerUnit, errors)) {
    rule.points_per_unit = *value;
  }

  const std::string unit_field = Member(path, "unit_minor");
  if (IsMissing(item, "unit_minor")) {
    errors.Add(unit_field, "is required");
  } else if (auto value = ReadInt(item.at("unit_minor"), unit_field, 1, kMaxUnitMinor, errors)) {
    rule.unit_minor = *value;
  }

  if (!IsMissing(item, "point_type")) {
    const json& point_type = item.at("point_type");
    if (point_type.is_string() && IsPointType(point_type.get_ref<const std::string&>())) {
      rule.point_type = point_type.get<std::string>();
    } else {
      errors.Add(Member(path, "point_type"), "must be one of consumption, tenure, credit, bonus");
    }
  }

  if (!IsMissing(item, "min_amount_minor")) {
    const std::string field = Member(path, "min_amount_minor");
    rule.min_amount_minor = ReadInt(item.at("min_amount_minor"), field, 0, kInt64Max, errors);
  }

  if (!IsMissing(item, "cap_points")) {
    const std::string field = Member(path, "cap_points");
    rule.cap_points = ReadInt(item.at("cap_points"), field, 1, kInt64Max, errors);
  }

  if (!IsMissing(item, "tier_multipliers")) {
    const std::string tiers_field = Member(path, "tier_multipliers");
    const json& tiers = item.at("tier_multipliers");
    if (!tiers.is_object()) {
      errors.Add(tiers_field, "must be an object of tier code to decimal string");
    } else if (tiers.size() > kMaxTierMultipliers) {
      errors.Add(tiers_field, "must have at most " + std::to_string(kMaxTierMultipliers) + " tiers");
    } else {
      for (const auto& [tier, factor] : tiers.items()) {
        const std::string field = Member(tiers_field, tier);
        const std::size_t length = CodePoints(tier);
        if (length == 0 || length > kMaxTierCodeChars) {
          errors.Add(field, "tier code must be 1 to " + std::to_string(kMaxTierCodeChars) + " characters");
        } else if (auto value = ReadFactor(factor, field, errors)) {
          rule.tier_multipliers.emplace(tier, *value);
        }
      }
    }
  }
  return rule;
}

Promotion ReadPromotion(const json& item, const std::string& path, const std::set<std::string>* categories,
                        Errors& errors) {
  Promotion promotion;
  if (!item.is_object()) {
    errors.Add(path, "must be an object");
    return promotion;
  }

  std::optional<core::Instant> from;
  std::optional<core::Instant> to;
  const std::string from_field = Member(path, "from");
  const std::string to_field = Member(path, "to");
  if (IsMissing(item, "from")) {
    errors.Add(from_field, "is required");
  } else {
    from = ReadInstant(item.at("from"), from_field, errors);
  }
  if (IsMissing(item, "to")) {
    errors.Add(to_field, "is required");
  } else {
    to = ReadInstant(item.at("to"), to_field, errors);
  }
  if (from && to) {
    if (*from < *to) {
      promotion.from = *from;
      promotion.to = *to;
    } else {
      errors.Add(to_field, "must be after from");
    }
  }

  const std::string factor_field = Member(path, "factor");
  if (IsMissing(item, "factor")) {
    errors.Add(factor_field, "is required");
  } else if (auto factor = ReadFactor(item.at("factor"), factor_field, errors)) {
    promotion.factor = *factor;
  }

  if (!IsMissing(item, "categories")) {
    const std::string categories_field = Member(path, "categories");
    const json& list = item.at("categories");
    if (!list.is_array() || list.empty()) {
      errors.Add(categories_field, "must be a non-empty array of categories (omit it for all categories)");
    } else if (list.size() > kMaxRules) {
      errors.Add(categories_field, "must have at most " + std::to_string(kMaxRules) + " categories");
    } else {
      std::set<std::string> seen;
      for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string field = Index(categories_field, i);
        if (!list[i].is_string()) {
          errors.Add(field, "must be a string");
          continue;
        }
        const std::string& category = list[i].get_ref<const std::string&>();
        if (!seen.insert(category).second) {
          errors.Add(field, "duplicate category");
        } else if (categories != nullptr && categories->count(category) == 0) {
          errors.Add(field, "no rule has this category");
        } else {
          promotion.categories.push_back(category);
        }
      }
    }
  }
  return promotion;
}

}  // namespace

bool IsPointType(std::string_view point_type) {
  return std::find(kPointTypes.begin(), kPointTypes.end(), point_type) != kPointTypes.end();
}

RuleSet ParseRuleSet(const json& body) {
  Errors errors;
  RuleSet set;
  if (!body.is_object()) {
    errors.Add("", "must be a JSON object");
    std::move(errors).Throw();
  }

  // The categories that rules define, for checking promotions; null when `rules` itself is unusable.
  std::set<std::string> categories;
  const std::set<std::string>* known_categories = nullptr;
  const std::string rules_message =
      "must be a non-empty array of at most " + std::to_string(kMaxRules) + " rules";
  if (IsMissing(body, "rules")) {
    errors.Add("rules", "is required");
  } else if (const json& rules = body.at("rules");
             !rules.is_array() || rules.empty() || rules.size() > kMaxRules) {
    errors.Add("rules", rules_message);
  } else {
    known_categories = &categories;
    std::map<std::string, std::size_t> first_index;
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const std::string path = Index("rules", i);
      CategoryRule rule = ReadRule(rules[i], path, errors);
      if (rule.category.empty()) {
        continue;  // already reported
      }
      categories.insert(rule.category);
      if (auto [it, inserted] = first_index.emplace(rule.category, i); !inserted) {
        errors.Add(Member(path, "category"),
                   "duplicate category (also in rules[" + std::to_string(it->second) + "])");
      }
      set.rules.push_back(std::move(rule));
    }
  }

  if (!IsMissing(body, "promotions")) {
    const json& promotions = body.at("promotions");
    if (!promotions.is_array() || promotions.size() > kMaxPromotions) {
      errors.Add("promotions",
                 "must be an array of at most " + std::to_string(kMaxPromotions) + " promotions");
    } else {
      for (std::size_t i = 0; i < promotions.size(); ++i) {
        set.promotions.push_back(
            ReadPromotion(promotions[i], Index("promotions", i), known_categories, errors));
      }
    }
  }

  if (!errors.empty()) {
    std::move(errors).Throw();
  }
  return set;
}

json ToJson(const RuleSet& set) {
  json rules = json::array();
  for (const CategoryRule& rule : set.rules) {
    json tiers = json::object();
    for (const auto& [tier, factor] : rule.tier_multipliers) {
      tiers[tier] = factor.ToShortString();
    }
    json item = {
        {"category", rule.category},
        {"points_per_unit", rule.points_per_unit},
        {"unit_minor", rule.unit_minor},
        {"point_type", rule.point_type},
        {"tier_multipliers", std::move(tiers)},
    };
    if (rule.min_amount_minor) {
      item["min_amount_minor"] = *rule.min_amount_minor;
    }
    if (rule.cap_points) {
      item["cap_points"] = *rule.cap_points;
    }
    rules.push_back(std::move(item));
  }

  json promotions = json::array();
  for (const Promotion& promotion : set.promotions) {
    json item = {
        {"from", core::FormatRfc3339(promotion.from)},
        {"to", core::FormatRfc3339(promotion.to)},
        {"factor", promotion.factor.ToShortString()},
    };
    if (!promotion.categories.empty()) {
      item["categories"] = promotion.categories;
    }
    promotions.push_back(std::move(item));
  }
  return json{{"rules", std::move(rules)}, {"promotions", std::move(promotions)}};
}

Priced PriceAmount(const RuleSet& set, std::string_view category, std::int64_t amount_minor,
                   std::string_view tier, core::Instant occurred_at) {
  assert(amount_minor >= 0);
  const auto rule_it = std::find_if(set.rules.begin(), set.rules.end(),
                                    [&](const CategoryRule& rule) { return rule.category == category; });
  if (rule_it == set.rules.end()) {
    throw core::DomainError(core::ErrorCode::kUnknownCategory,
                            "no earning rule for category '" + std::string(category) + "'",
                            {{"category", "no earning rule for this category"}});
  }
  const CategoryRule& rule = *rule_it;

  std::vector<core::Decimal6> factors;
  if (!tier.empty()) {
    if (const auto it = rule.tier_multipliers.find(std::string(tier)); it != rule.tier_multipliers.end()) {
      factors.push_back(it->second);
    }
  }
  for (const Promotion& promotion : set.promotions) {
    if (occurred_at < promotion.from || occurred_at >= promotion.to) {
      continue;
    }
    if (!promotion.categories.empty() && std::find(promotion.categories.begin(), promotion.categories.end(),
                                                   category) == promotion.categories.end()) {
      continue;
    }
    factors.push_back(promotion.factor);
  }

  Priced priced;
  priced.point_type = rule.point_type;
  priced.multiplier =
      core::Decimal6{core::MultiplyFloor(core::Decimal6::kScale, 1, factors, 1).value_or(kInt64Max)};

  if (rule.min_amount_minor && amount_minor < *rule.min_amount_minor) {
    priced.below_minimum = true;
    return priced;
  }

  const std::optional<std::int64_t> points =
      core::MultiplyFloor(amount_minor, rule.points_per_unit, factors, rule.unit_minor);
  if (!points) {
    throw core::DomainError(core::ErrorCode::kValidationFailed, "amount_minor: too large to price",
                            {{"amount_minor", "too large to price"}});
  }
  priced.points = *points;
  if (rule.cap_points && priced.points > *rule.cap_points) {
    priced.points = *rule.cap_points;
    priced.capped = true;
  }
  if (priced.points > kMaxDirectPoints) {
    // Not stored as a refusal: the id stays free for the event with a sane amount.
    throw core::DomainError(core::ErrorCode::kValidationFailed,
                            "amount_minor: earns " + std::to_string(priced.points) +
                                " points, more than one event may earn (" + std::to_string(kMaxDirectPoints) +
                                ")",
                            {{"amount_minor", "earns more points than one event may (1000000000)"}});
  }
  return priced;
}

}  // namespace unipoints::earning
