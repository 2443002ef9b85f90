// Earning rules over HTTP: versions, and how accruals are priced (points per unit rounded down once,
// tier multipliers, promotions in a time window, minimum amount, cap per event, effective dates).

#include <set>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class EarningRulesTest : public IntegrationTest {
 protected:
  // Posts an amount accrual and returns the points it earned (-1 if refused).
  std::int64_t Earn(const std::string& key, const std::string& card, const std::string& category,
                    std::int64_t amount, const std::string& at = "2026-06-01T10:00:00+08:00") {
    auto r = http().Post("/v1/accruals", AmountEvent(NewEventId(), card, category, amount, at), key);
    EXPECT_EQ(r.status, 201) << category << " " << amount << " at " << at << ": " << r;
    if (r.status != 201) return -1;
    return r.json["points"].get<std::int64_t>();
  }

  // Makes the member gold. Tier grading arrives with a later issue, so the test sets the tier in the
  // database directly: what is tested here is that pricing uses the member's tier.
  void MakeGold(std::int64_t member_id) {
    server().Sql("UPDATE members SET tier = 'gold' WHERE id = $1", {std::to_string(member_id)});
    auto p = http().Get("/v1/members/" + std::to_string(member_id), admin_);
    ASSERT_EQ(p.json["tier"], "gold") << p;
  }

  std::string admin_;
};

TEST_F(EarningRulesTest, PutCreatesVersionsAndGetListsThem) {
  auto t = CreateTenant();
  CreatePartner(t.admin_key, "R", "零售", "retail");
  auto v1 = http().Put("/v1/partners/R/earning-rules", DemoRetailRules(), t.admin_key);
  ASSERT_TRUE(v1.status == 200 || v1.status == 201) << v1;
  EXPECT_EQ(v1.json["version"], 1) << v1;
  json second = DemoRetailRules();
  second["effective_from"] = "2024-01-01T00:00:00+08:00";
  second["rules"][0]["points_per_unit"] = 3;
  auto v2 = http().Put("/v1/partners/R/earning-rules", second, t.admin_key);
  ASSERT_TRUE(v2.status == 200 || v2.status == 201) << v2;
  EXPECT_EQ(v2.json["version"], 2) << v2;

  auto list = http().Get("/v1/partners/R/earning-rules", t.admin_key);
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_TRUE(list.json.contains("items") && list.json["items"].is_array()) << list;
  std::set<int> versions;
  for (const auto& v : list.json["items"]) versions.insert(v["version"].get<int>());
  EXPECT_EQ(versions, (std::set<int>{1, 2})) << list;
  const std::string dump = list.body;
  EXPECT_NE(dump.find("\"retail\""), std::string::npos) << list;
}

TEST_F(EarningRulesTest, PartnerKeyReadsOnlyItsOwnRules) {
  auto a = CreateAlliance();
  EXPECT_EQ(http().Get("/v1/partners/T/earning-rules", a.t_key).status, 200);
  EXPECT_TRUE(IsProblem(http().Get("/v1/partners/R/earning-rules", a.t_key), 403));
}

TEST_F(EarningRulesTest, UnknownPartnerIs404) {
  auto t = CreateTenant();
  EXPECT_TRUE(IsProblem(http().Put("/v1/partners/NOPE/earning-rules", DemoRetailRules(), t.admin_key), 404));
  EXPECT_TRUE(IsProblem(http().Get("/v1/partners/NOPE/earning-rules", t.admin_key), 404));
}

TEST_F(EarningRulesTest, InvalidRulesAre400NamingTheFieldAndPublishNothing) {
  auto t = CreateTenant();
  CreatePartner(t.admin_key, "R", "r", "retail");
  struct Case {
    json rules;
    const char* field;
  };
  const std::vector<Case> cases = {
      {{{{"category", "retail"}, {"points_per_unit", -1}, {"unit_minor", 100}}}, "rules[0].points_per_unit"},
      {{{{"category", "retail"}, {"points_per_unit", 1}, {"unit_minor", 0}}}, "rules[0].unit_minor"},
      {{{{"category", "retail"}, {"points_per_unit", "1"}, {"unit_minor", 100}}}, "rules[0].points_per_unit"},
      {{{{"points_per_unit", 1}, {"unit_minor", 100}}}, "rules[0].category"},
      {{{{"category", "retail"}, {"points_per_unit", 1}, {"unit_minor", 100}, {"point_type", "gold"}}},
       "rules[0].point_type"},
      {{{{"category", "retail"},
         {"points_per_unit", 1},
         {"unit_minor", 100},
         {"tier_multipliers", {{"gold", "-2"}}}}},
       "rules[0].tier_multipliers.gold"},
  };
  for (const auto& c : cases) {
    json body = {
        {"effective_from", "2020-01-01T00:00:00+08:00"}, {"rules", c.rules}, {"promotions", json::array()}};
    EXPECT_TRUE(IsProblem(http().Put("/v1/partners/R/earning-rules", body, t.admin_key), 400, {}, c.field))
        << c.rules.dump();
  }
  json bad_time = DemoRetailRules();
  bad_time["effective_from"] = "next tuesday";
  EXPECT_TRUE(IsProblem(http().Put("/v1/partners/R/earning-rules", bad_time, t.admin_key), 400, {},
                        "effective_from"));
  auto list = http().Get("/v1/partners/R/earning-rules", t.admin_key);
  ASSERT_EQ(list.status, 200) << list;
  EXPECT_TRUE(list.json["items"].empty()) << "an invalid rule set was published: " << list;
}

TEST_F(EarningRulesTest, DemoRulesPriceTelecomAndRetail) {
  auto a = CreateAlliance();
  admin_ = a.admin;
  auto m = Enrol(a.agent);
  EXPECT_EQ(Earn(a.t_key, m.card_no, "data", 1234), 24);   // 12.34 CNY x 2 = 24.68 -> 24
  EXPECT_EQ(Earn(a.t_key, m.card_no, "data", 50), 1);      // 0.50 CNY x 2 = 1
  EXPECT_EQ(Earn(a.t_key, m.card_no, "data", 49), 0);      // 0.49 CNY x 2 = 0.98 -> 0
  EXPECT_EQ(Earn(a.t_key, m.card_no, "voice", 1234), 12);  // 12.34 CNY x 1 -> 12
  EXPECT_EQ(Earn(a.r_key, m.card_no, "retail", 10000), 100);
  EXPECT_EQ(Earn(a.r_key, m.card_no, "retail", 99), 0);
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 24 + 1 + 12 + 100) << b;
  EXPECT_EQ(b["by_source"]["T"], 24 + 1 + 12) << b;
  EXPECT_EQ(b["by_source"]["R"], 100) << b;
  EXPECT_EQ(b["lifetime"], 24 + 1 + 12 + 100) << b;
}

TEST_F(EarningRulesTest, GoldTierMultiplierIsAppliedBeforeRoundingOnce) {
  auto a = CreateAlliance();
  admin_ = a.admin;
  json rules = DemoRetailRules();
  rules["rules"][0]["tier_multipliers"] = {{"gold", "1.5"}};
  PutRules(a.admin, "R", rules);
  auto normal = Enrol(a.agent);
  auto gold = Enrol(a.agent);
  MakeGold(gold.member_id);
  EXPECT_EQ(Earn(a.r_key, normal.card_no, "retail", 1099), 10);  // 10.99 -> 10
  // floor(1099 x 1 x 1.5 / 100) = floor(16.485) = 16; rounding twice would give floor(10 x 1.5) = 15.
  EXPECT_EQ(Earn(a.r_key, gold.card_no, "retail", 1099), 16);
  EXPECT_EQ(Earn(a.r_key, gold.card_no, "retail", 1000), 15);
}

TEST_F(EarningRulesTest, PromotionAppliesOnlyInsideItsWindowAndCategories) {
  auto a = CreateAlliance();
  admin_ = a.admin;
  json rules = DemoTelecomRules();
  rules["promotions"] = {{{"from", "2025-12-01T00:00:00+08:00"},
                          {"to", "2026-01-01T00:00:00+08:00"},
                          {"factor", "2"},
                          {"categories", {"data"}}}};
  PutRules(a.admin, "T", rules);
  auto m = Enrol(a.agent);
  EXPECT_EQ(Earn(a.t_key, m.card_no, "data", 1000, "2025-11-30T23:59:59+08:00"), 20);  // before
  EXPECT_EQ(Earn(a.t_key, m.card_no, "data", 1000, "2025-12-01T00:00:00+08:00"), 40);  // from is inclusive
  EXPECT_EQ(Earn(a.t_key, m.card_no, "data", 1000, "2025-12-15T12:00:00+08:00"), 40);
  EXPECT_EQ(Earn(a.t_key, m.card_no, "data", 1000, "2025-12-31T15:59:59Z"), 40);        // 23:59:59 local
  EXPECT_EQ(Earn(a.t_key, m.card_no, "data", 1000, "2026-01-01T00:00:00+08:00"), 20);   // to is exclusive
  EXPECT_EQ(Earn(a.t_key, m.card_no, "voice", 1000, "2025-12-15T12:00:00+08:00"), 10);  // other category
}

TEST_F(EarningRulesTest, TierMultiplierAndPromotionCompose) {
  auto a = CreateAlliance();
  admin_ = a.admin;
  json rules = DemoRetailRules();
  rules["rules"][0]["tier_multipliers"] = {{"gold", "1.5"}};
  rules["promotions"] = {
      {{"from", "2025-12-01T00:00:00+08:00"}, {"to", "2026-01-01T00:00:00+08:00"}, {"factor", "2"}}};
  PutRules(a.admin, "R", rules);
  auto gold = Enrol(a.agent);
  MakeGold(gold.member_id);
  EXPECT_EQ(Earn(a.r_key, gold.card_no, "retail", 1001, "2025-12-10T10:00:00+08:00"), 30);  // floor(30.03)
  EXPECT_EQ(Earn(a.r_key, gold.card_no, "retail", 1001, "2026-02-10T10:00:00+08:00"), 15);  // floor(15.015)
}

TEST_F(EarningRulesTest, MinimumAmountEarnsNothingBelowIt) {
  auto a = CreateAlliance();
  admin_ = a.admin;
  json rules = DemoRetailRules();
  rules["rules"][0]["min_amount_minor"] = 500;
  PutRules(a.admin, "R", rules);
  auto m = Enrol(a.agent);
  EXPECT_EQ(Earn(a.r_key, m.card_no, "retail", 499), 0);
  EXPECT_EQ(Earn(a.r_key, m.card_no, "retail", 500), 5);
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 5);
}

TEST_F(EarningRulesTest, CapLimitsPointsPerEventAfterMultipliers) {
  auto a = CreateAlliance();
  admin_ = a.admin;
  json rules = DemoRetailRules();
  rules["rules"][0]["cap_points"] = 50;
  rules["rules"][0]["tier_multipliers"] = {{"gold", "1.5"}};
  PutRules(a.admin, "R", rules);
  auto m = Enrol(a.agent);
  auto gold = Enrol(a.agent);
  MakeGold(gold.member_id);
  EXPECT_EQ(Earn(a.r_key, m.card_no, "retail", 4900), 49);
  EXPECT_EQ(Earn(a.r_key, m.card_no, "retail", 100000), 50);
  EXPECT_EQ(Earn(a.r_key, gold.card_no, "retail", 4000), 50);  // 60 after the multiplier, then capped
  EXPECT_EQ(Earn(a.r_key, gold.card_no, "retail", 3000), 45);
}

TEST_F(EarningRulesTest, EachAccrualIsPricedByTheVersionInForceAtOccurredAt) {
  auto a = CreateAlliance();
  admin_ = a.admin;
  json v2 = DemoRetailRules();
  v2["effective_from"] = "2025-06-01T00:00:00+08:00";
  v2["rules"][0]["points_per_unit"] = 3;
  auto put = PutRules(a.admin, "R", v2);
  ASSERT_EQ(put["version"], 2) << put;
  auto m = Enrol(a.agent);

  auto before =
      http().Post("/v1/accruals",
                  AmountEvent(NewEventId(), m.card_no, "retail", 1000, "2025-05-31T23:59:59+08:00"), a.r_key);
  ASSERT_EQ(before.status, 201) << before;
  EXPECT_EQ(before.json["points"], 10);
  EXPECT_EQ(before.json["rule_version"], 1);
  auto after =
      http().Post("/v1/accruals",
                  AmountEvent(NewEventId(), m.card_no, "retail", 1000, "2025-06-01T00:00:00+08:00"), a.r_key);
  ASSERT_EQ(after.status, 201) << after;
  EXPECT_EQ(after.json["points"], 30);
  EXPECT_EQ(after.json["rule_version"], 2);

  // A later rule change never rewrites history.
  json v3 = DemoRetailRules();
  v3["effective_from"] = "2020-01-01T00:00:00+08:00";
  v3["rules"][0]["points_per_unit"] = 100;
  PutRules(a.admin, "R", v3);
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 40) << b;
  EXPECT_EQ(b["lifetime"], 40) << b;
}

TEST_F(EarningRulesTest, AccrualBeforeTheFirstVersionIsRefused) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  auto r =
      http().Post("/v1/accruals",
                  AmountEvent(NewEventId(), m.card_no, "retail", 1000, "2019-12-31T23:00:00+08:00"), a.r_key);
  EXPECT_TRUE(IsProblem(r, 422));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 0);
}

}  // namespace
}  // namespace unipoints::testing
