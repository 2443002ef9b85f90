#include "unipoints/earning/rules.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "unipoints/core/error.hpp"

namespace unipoints::earning {
namespace {

using nlohmann::json;

core::Instant At(std::string_view text) { return core::ParseRfc3339(text).value(); }

core::Decimal6 D(std::string_view text) { return core::Decimal6::Parse(text).value(); }

const core::Instant kOctober = At("2026-10-05T10:00:00+08:00");

// A telecom partner: data service 1 CNY = 2 points, retail-like shop 1 CNY = 1 point with gold ×1.5.
RuleSet Alliance() {
  return ParseRuleSet(json::parse(R"({
    "effective_from": "2026-01-01T00:00:00+08:00",
    "rules": [
      {"category": "data", "points_per_unit": 2, "unit_minor": 100},
      {"category": "retail", "points_per_unit": 1, "unit_minor": 100, "point_type": "consumption",
       "tier_multipliers": {"gold": "1.5", "diamond": 2}},
      {"category": "bill", "points_per_unit": 1, "unit_minor": 100, "min_amount_minor": 5000,
       "cap_points": 300, "tier_multipliers": {"gold": "1.5"}}
    ],
    "promotions": [
      {"from": "2026-12-01T00:00:00+08:00", "to": "2027-01-01T00:00:00+08:00", "factor": "2"}
    ]
  })"));
}

// Runs ParseRuleSet and returns the field errors it throws (empty if it did not throw).
std::vector<core::FieldError> ErrorsOf(const json& body) {
  try {
    ParseRuleSet(body);
  } catch (const core::DomainError& error) {
    EXPECT_EQ(error.code(), core::ErrorCode::kValidationFailed);
    EXPECT_FALSE(error.errors().empty());
    return error.errors();
  }
  return {};
}

bool HasError(const std::vector<core::FieldError>& errors, std::string_view field) {
  return std::any_of(errors.begin(), errors.end(),
                     [&](const core::FieldError& e) { return e.field == field; });
}

std::string Fields(const std::vector<core::FieldError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += e.field + " (" + e.message + "); ";
  }
  return out;
}

json OneRule(json rule) { return json{{"rules", json::array({std::move(rule)})}}; }

json DataRule() { return json{{"category", "data"}, {"points_per_unit", 2}, {"unit_minor", 100}}; }

TEST(RulesTest, TelecomDataEarnsTwoPointsPerYuan) {
  const Priced priced = PriceAmount(Alliance(), "data", 1234, "", kOctober);  // 12.34 CNY
  EXPECT_EQ(priced.points, 24);
  EXPECT_EQ(priced.point_type, "consumption");
  EXPECT_EQ(priced.multiplier, core::Decimal6::One());
  EXPECT_FALSE(priced.capped);
  EXPECT_FALSE(priced.below_minimum);
}

TEST(RulesTest, RetailEarnsOnePointPerYuan) {
  EXPECT_EQ(PriceAmount(Alliance(), "retail", 10'000, "normal", kOctober).points, 100);
  EXPECT_EQ(PriceAmount(Alliance(), "retail", 199, "", kOctober).points, 1);
  EXPECT_EQ(PriceAmount(Alliance(), "retail", 99, "", kOctober).points, 0);
  EXPECT_EQ(PriceAmount(Alliance(), "retail", 0, "", kOctober).points, 0);
}

TEST(RulesTest, RoundsDownOnce) {
  // gold ×1.5 on 3.33 CNY: 333 × 1 × 1.5 / 100 = 4.995 -> 4, not floor(3.33) × 1.5 = 4.5 or round(4.995) = 5.
  const Priced gold = PriceAmount(Alliance(), "retail", 333, "gold", kOctober);
  EXPECT_EQ(gold.points, 4);
  EXPECT_EQ(gold.multiplier, D("1.5"));
  // 0.99 CNY × 1.5 = 1.485 -> 1, although flooring first (0 points) would give 0.
  EXPECT_EQ(PriceAmount(Alliance(), "retail", 99, "gold", kOctober).points, 1);
  // 1.99 CNY × 2 (data) = 3.98 -> 3.
  EXPECT_EQ(PriceAmount(Alliance(), "data", 199, "", kOctober).points, 3);
}

TEST(RulesTest, UnknownTierHasNoMultiplier) {
  EXPECT_EQ(PriceAmount(Alliance(), "retail", 333, "silver", kOctober).points, 3);
  EXPECT_EQ(PriceAmount(Alliance(), "retail", 333, "silver", kOctober).multiplier, core::Decimal6::One());
  EXPECT_EQ(PriceAmount(Alliance(), "data", 333, "gold", kOctober).points,
            6);  // data has no tier multipliers
}

TEST(RulesTest, IntegerTierMultiplierIsAccepted) {
  EXPECT_EQ(PriceAmount(Alliance(), "retail", 333, "diamond", kOctober).points, 6);
}

TEST(RulesTest, DecemberDoublesPoints) {
  const core::Instant december = At("2026-12-15T12:00:00+08:00");
  const Priced priced = PriceAmount(Alliance(), "data", 1234, "", december);
  EXPECT_EQ(priced.points, 49);  // 12.34 × 2 × 2 = 49.36
  EXPECT_EQ(priced.multiplier, D("2"));
}

TEST(RulesTest, TierAndPromotionMultiply) {
  const core::Instant december = At("2026-12-15T12:00:00+08:00");
  // 333 × 1 × 1.5 × 2 / 100 = 9.99 -> 9 (rounding 4.995 first and doubling would give 8).
  const Priced priced = PriceAmount(Alliance(), "retail", 333, "gold", december);
  EXPECT_EQ(priced.points, 9);
  EXPECT_EQ(priced.multiplier, D("3"));
}

TEST(RulesTest, PromotionWindowIsHalfOpen) {
  const RuleSet set = Alliance();
  // The promotion is [2026-12-01T00:00+08:00, 2027-01-01T00:00+08:00).
  EXPECT_EQ(PriceAmount(set, "data", 100, "", At("2026-11-30T23:59:59.999999+08:00")).points, 2);
  EXPECT_EQ(PriceAmount(set, "data", 100, "", At("2026-12-01T00:00:00+08:00")).points, 4);
  EXPECT_EQ(PriceAmount(set, "data", 100, "", At("2026-11-30T16:00:00Z")).points, 4);
  EXPECT_EQ(PriceAmount(set, "data", 100, "", At("2026-12-31T23:59:59.999999+08:00")).points, 4);
  EXPECT_EQ(PriceAmount(set, "data", 100, "", At("2027-01-01T00:00:00+08:00")).points, 2);
}

TEST(RulesTest, PromotionAppliesOnlyToItsCategories) {
  json body = ToJson(Alliance());
  body["promotions"] = json::array({json{{"from", "2026-10-01T00:00:00Z"},
                                         {"to", "2026-11-01T00:00:00Z"},
                                         {"factor", "3"},
                                         {"categories", {"retail"}}}});
  const RuleSet set = ParseRuleSet(body);
  EXPECT_EQ(PriceAmount(set, "retail", 100, "", kOctober).points, 3);
  EXPECT_EQ(PriceAmount(set, "data", 100, "", kOctober).points, 2);
}

TEST(RulesTest, OverlappingPromotionsAllMultiply) {
  json body = OneRule(DataRule());
  body["promotions"] = {
      {{"from", "2026-10-01T00:00:00Z"}, {"to", "2026-11-01T00:00:00Z"}, {"factor", "1.5"}},
      {{"from", "2026-10-05T00:00:00Z"}, {"to", "2026-10-06T00:00:00Z"}, {"factor", "1.25"}},
  };
  const RuleSet set = ParseRuleSet(body);
  // 1.00 CNY × 2 × 1.5 × 1.25 = 3.75 -> 3.
  const Priced priced = PriceAmount(set, "data", 100, "", kOctober);
  EXPECT_EQ(priced.points, 3);
  EXPECT_EQ(priced.multiplier, D("1.875"));
}

TEST(RulesTest, AnEventEarnsAtMostOneBillionPoints) {
  json body = OneRule({{"category", "big"}, {"points_per_unit", 1'000'000}, {"unit_minor", 1}});
  const RuleSet set = ParseRuleSet(body);
  EXPECT_EQ(PriceAmount(set, "big", 1'000, "", kOctober).points, 1'000'000'000);
  try {
    (void)PriceAmount(set, "big", 1'001, "", kOctober);
    FAIL() << "priced above the per-event maximum";
  } catch (const core::DomainError& e) {
    EXPECT_EQ(e.code(), core::ErrorCode::kValidationFailed);
  }
  // A cap below the maximum keeps such a rule usable.
  body["rules"][0]["cap_points"] = 5'000;
  EXPECT_EQ(PriceAmount(ParseRuleSet(body), "big", 1'000'000'000'000, "", kOctober).points, 5'000);
}

TEST(RulesTest, CapAppliesAfterMultiplier) {
  const RuleSet set = Alliance();
  // 250 CNY = 250 points, under the 300 cap.
  EXPECT_EQ(PriceAmount(set, "bill", 25'000, "", kOctober).points, 250);
  // gold: 250 × 1.5 = 375 -> capped at 300.
  const Priced gold = PriceAmount(set, "bill", 25'000, "gold", kOctober);
  EXPECT_EQ(gold.points, 300);
  EXPECT_TRUE(gold.capped);
  // Exactly at the cap is not "capped".
  const Priced exact = PriceAmount(set, "bill", 20'000, "gold", kOctober);
  EXPECT_EQ(exact.points, 300);
  EXPECT_FALSE(exact.capped);
}

TEST(RulesTest, AmountsBelowMinimumEarnNothing) {
  const RuleSet set = Alliance();
  const Priced below = PriceAmount(set, "bill", 4'999, "gold", kOctober);
  EXPECT_EQ(below.points, 0);
  EXPECT_TRUE(below.below_minimum);
  EXPECT_FALSE(below.capped);
  const Priced at = PriceAmount(set, "bill", 5'000, "", kOctober);
  EXPECT_EQ(at.points, 50);
  EXPECT_FALSE(at.below_minimum);
}

TEST(RulesTest, PointTypeComesFromTheRule) {
  const RuleSet set = ParseRuleSet(OneRule(
      {{"category", "loyalty"}, {"points_per_unit", 1}, {"unit_minor", 1}, {"point_type", "tenure"}}));
  EXPECT_EQ(PriceAmount(set, "loyalty", 7, "", kOctober).point_type, "tenure");
}

TEST(RulesTest, UnknownCategoryIsRefused) {
  try {
    PriceAmount(Alliance(), "fuel", 100, "", kOctober);
    FAIL() << "expected DomainError";
  } catch (const core::DomainError& error) {
    EXPECT_EQ(error.code(), core::ErrorCode::kUnknownCategory);
    ASSERT_EQ(error.errors().size(), 1u);
    EXPECT_EQ(error.errors()[0].field, "category");
  }
}

TEST(RulesTest, HugeAmountsStayExact) {
  json rule = DataRule();
  rule["points_per_unit"] = 1'000'000;
  rule["unit_minor"] = 1;
  rule["cap_points"] = 1'000'000'000;
  const RuleSet set = ParseRuleSet(OneRule(rule));
  // 9.2e18 points before the cap, computed exactly and capped.
  EXPECT_EQ(PriceAmount(set, "data", 9'223'372'036'853, "", kOctober).points, 1'000'000'000);
  // 9.2e12 × 1e6 points would not fit int64: refused, never wrapped.
  try {
    PriceAmount(set, "data", 9'223'372'036'855, "", kOctober);
    FAIL() << "expected DomainError";
  } catch (const core::DomainError& error) {
    EXPECT_EQ(error.code(), core::ErrorCode::kValidationFailed);
    ASSERT_EQ(error.errors().size(), 1u);
    EXPECT_EQ(error.errors()[0].field, "amount_minor");
  }
}

TEST(RulesTest, ZeroPointsPerUnitEarnsNothing) {
  json rule = DataRule();
  rule["points_per_unit"] = 0;
  EXPECT_EQ(PriceAmount(ParseRuleSet(OneRule(rule)), "data", 1'000'000, "", kOctober).points, 0);
}

TEST(RulesTest, CanonicalJsonRoundTrips) {
  const RuleSet set = Alliance();
  const json canonical = ToJson(set);
  EXPECT_EQ(ParseRuleSet(canonical), set);
  EXPECT_EQ(ToJson(ParseRuleSet(canonical)), canonical);
  EXPECT_EQ(canonical["rules"][1]["tier_multipliers"]["gold"], "1.5");
  EXPECT_EQ(canonical["rules"][1]["tier_multipliers"]["diamond"], "2");
  EXPECT_EQ(canonical["rules"][0]["point_type"], "consumption");
  EXPECT_FALSE(canonical["rules"][0].contains("cap_points"));
  EXPECT_EQ(canonical["rules"][2]["cap_points"], 300);
  EXPECT_EQ(canonical["promotions"][0]["from"], "2026-11-30T16:00:00Z");
  EXPECT_EQ(canonical["promotions"][0]["factor"], "2");
  EXPECT_FALSE(canonical["promotions"][0].contains("categories"));
  EXPECT_FALSE(canonical.contains("effective_from"));
}

TEST(RulesTest, NullOptionalFieldsAreAbsent) {
  json rule = DataRule();
  rule["min_amount_minor"] = nullptr;
  rule["cap_points"] = nullptr;
  rule["tier_multipliers"] = nullptr;
  rule["point_type"] = nullptr;
  json body = OneRule(rule);
  body["promotions"] = nullptr;
  const RuleSet set = ParseRuleSet(body);
  ASSERT_EQ(set.rules.size(), 1u);
  EXPECT_FALSE(set.rules[0].min_amount_minor);
  EXPECT_FALSE(set.rules[0].cap_points);
  EXPECT_EQ(set.rules[0].point_type, "consumption");
  EXPECT_TRUE(set.promotions.empty());
}

TEST(RulesTest, ListsEveryBadFieldWithItsPath) {
  const json body = json::parse(R"({
    "rules": [
      {"category": "data", "points_per_unit": 2, "unit_minor": 100},
      {"category": "", "points_per_unit": -1, "unit_minor": 0, "point_type": "gift"},
      {"category": "x", "points_per_unit": 2.5, "unit_minor": "100", "min_amount_minor": -1, "cap_points": 0,
       "tier_multipliers": {"gold": "0", "silver": "1.1234567", "diamond": 1.5, "vip": "1001", "": "1"}},
      {"category": "data", "points_per_unit": 1000001, "unit_minor": 1000000001},
      "not an object",
      {"points_per_unit": 1}
    ],
    "promotions": [
      {"from": "2026-12-01", "to": "2026-12-31T00:00:00Z", "factor": 2.5, "categories": ["data", "fuel", 3]},
      {"from": "2026-12-31T00:00:00Z", "to": "2026-12-01T00:00:00Z", "factor": "0", "categories": []},
      {"categories": "data"},
      7
    ]
  })");
  const auto errors = ErrorsOf(body);
  for (const char* field : {"rules[1].category",
                            "rules[1].points_per_unit",
                            "rules[1].unit_minor",
                            "rules[1].point_type",
                            "rules[2].points_per_unit",
                            "rules[2].unit_minor",
                            "rules[2].min_amount_minor",
                            "rules[2].cap_points",
                            "rules[2].tier_multipliers.gold",
                            "rules[2].tier_multipliers.silver",
                            "rules[2].tier_multipliers.diamond",
                            "rules[2].tier_multipliers.vip",
                            "rules[2].tier_multipliers.",
                            "rules[3].category",
                            "rules[3].points_per_unit",
                            "rules[3].unit_minor",
                            "rules[4]",
                            "rules[5].category",
                            "rules[5].unit_minor",
                            "promotions[0].from",
                            "promotions[0].factor",
                            "promotions[0].categories[1]",
                            "promotions[0].categories[2]",
                            "promotions[1].to",
                            "promotions[1].factor",
                            "promotions[1].categories",
                            "promotions[2].from",
                            "promotions[2].to",
                            "promotions[2].factor",
                            "promotions[2].categories",
                            "promotions[3]"}) {
    EXPECT_TRUE(HasError(errors, field)) << field << " missing from " << Fields(errors);
  }
  EXPECT_FALSE(HasError(errors, "rules[0].category")) << Fields(errors);
  EXPECT_FALSE(HasError(errors, "promotions[0].categories[0]")) << Fields(errors);
  EXPECT_FALSE(HasError(errors, "promotions[0].to")) << Fields(errors);
  EXPECT_EQ(errors.size(), 31u) << Fields(errors);
}

TEST(RulesTest, RejectsMissingEmptyOrOversizedRules) {
  EXPECT_TRUE(HasError(ErrorsOf(json::object()), "rules"));
  EXPECT_TRUE(HasError(ErrorsOf(json{{"rules", json::array()}}), "rules"));
  EXPECT_TRUE(HasError(ErrorsOf(json{{"rules", json::object()}}), "rules"));
  EXPECT_TRUE(HasError(ErrorsOf(json{{"rules", "data"}}), "rules"));
  json many = json::array();
  for (int i = 0; i <= 1000; ++i) {
    std::string category = "c";
    category += std::to_string(i);  // not "c" + ...: GCC 12 warns falsely (-Wrestrict, PR 105329)
    many.push_back({{"category", category}, {"points_per_unit", 1}, {"unit_minor", 1}});
  }
  EXPECT_TRUE(HasError(ErrorsOf(json{{"rules", many}}), "rules"));
  many.erase(many.end() - 1);
  EXPECT_EQ(ParseRuleSet(json{{"rules", many}}).rules.size(), 1000u);
}

TEST(RulesTest, RejectsBodyThatIsNotAnObject) {
  EXPECT_TRUE(HasError(ErrorsOf(json::array()), ""));
  EXPECT_TRUE(HasError(ErrorsOf(json("rules")), ""));
  EXPECT_TRUE(HasError(ErrorsOf(json()), ""));
}

TEST(RulesTest, RejectsPromotionsThatAreNotAnArray) {
  json body = OneRule(DataRule());
  body["promotions"] = json::object();
  EXPECT_TRUE(HasError(ErrorsOf(body), "promotions"));
}

TEST(RulesTest, RejectsDuplicatePromotionCategories) {
  json body = OneRule(DataRule());
  body["promotions"] = {{{"from", "2026-10-01T00:00:00Z"},
                         {"to", "2026-11-01T00:00:00Z"},
                         {"factor", "2"},
                         {"categories", {"data", "data"}}}};
  EXPECT_TRUE(HasError(ErrorsOf(body), "promotions[0].categories[1]"));
}

TEST(RulesTest, RejectsEqualPromotionBounds) {
  json body = OneRule(DataRule());
  body["promotions"] = {
      {{"from", "2026-10-01T08:00:00+08:00"}, {"to", "2026-10-01T00:00:00Z"}, {"factor", "2"}}};
  EXPECT_TRUE(HasError(ErrorsOf(body), "promotions[0].to"));
}

TEST(RulesTest, IntegersOutsideInt64AreFieldErrors) {
  json rule = DataRule();
  rule["cap_points"] = json::parse("18446744073709551615");
  rule["min_amount_minor"] = json::parse("-9223372036854775808");
  rule["tier_multipliers"] = {{"gold", json::parse("18446744073709551615")},
                              {"silver", json::parse("-9223372036854775808")}};
  const auto errors = ErrorsOf(OneRule(rule));
  EXPECT_TRUE(HasError(errors, "rules[0].cap_points")) << Fields(errors);
  EXPECT_TRUE(HasError(errors, "rules[0].min_amount_minor")) << Fields(errors);
  EXPECT_TRUE(HasError(errors, "rules[0].tier_multipliers.gold")) << Fields(errors);
  EXPECT_TRUE(HasError(errors, "rules[0].tier_multipliers.silver")) << Fields(errors);
  EXPECT_EQ(errors.size(), 4u) << Fields(errors);
}

TEST(RulesTest, AcceptsLimitsAtTheirBounds) {
  json rule = {{"category", std::string(64, 'c')},
               {"points_per_unit", 1'000'000},
               {"unit_minor", 1'000'000'000},
               {"min_amount_minor", 0},
               {"cap_points", 1},
               {"tier_multipliers", {{"gold", "1000"}, {"silver", "0.000001"}}}};
  json body = OneRule(rule);
  body["promotions"] = {
      {{"from", "2026-10-01T00:00:00Z"}, {"to", "2026-10-01T00:00:00.000001Z"}, {"factor", 1000}}};
  EXPECT_EQ(ParseRuleSet(body).rules.size(), 1u);
  rule["category"] = std::string(65, 'c');
  EXPECT_TRUE(HasError(ErrorsOf(OneRule(rule)), "rules[0].category"));
}

TEST(RulesTest, CategoryLengthCountsCharactersNotBytes) {
  std::string chinese;
  for (int i = 0; i < 64; ++i) {
    chinese += "话";  // 3 bytes each in UTF-8
  }
  json rule = DataRule();
  rule["category"] = chinese;
  EXPECT_EQ(ParseRuleSet(OneRule(rule)).rules[0].category, chinese);
  rule["category"] = chinese + "费";
  EXPECT_TRUE(HasError(ErrorsOf(OneRule(rule)), "rules[0].category"));
}

}  // namespace
}  // namespace unipoints::earning
