// Settlement agreements: effective-dated prices per ordered partner pair, and the refusal of a
// cross-redemption that no agreement prices.

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class AgreementTest : public IntegrationTest {
 protected:
  static json Agreement(const std::string& payer, const std::string& payee, const json& price,
                        const std::string& from = "2026-01-01T00:00:00+08:00") {
    return {{"payer", payer},
            {"payee", payee},
            {"price_per_point", price},
            {"cycle", "monthly"},
            {"effective_from", from}};
  }
};

TEST_F(AgreementTest, VersionsAreListedAndNeverEdited) {
  auto a = CreateAlliance(false);
  auto r = http().Put("/v1/settlement-agreements", Agreement("T", "R", "0.012345"), a.admin);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["price_per_point"], "0.012345") << r;
  EXPECT_EQ(r.json["effective_from"], "2025-12-31T16:00:00Z") << r;
  // The same pair and instant again is a conflict, not an edit.
  auto again = http().Put("/v1/settlement-agreements", Agreement("T", "R", "0.020000"), a.admin);
  EXPECT_TRUE(IsProblem(again, 409, "already_exists", "effective_from")) << again;
  ASSERT_EQ(
      http()
          .Put("/v1/settlement-agreements", Agreement("T", "R", "0.02", "2026-07-01T00:00:00+08:00"), a.admin)
          .status,
      201);
  auto list = http().Get("/v1/settlement-agreements", a.finance);
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_EQ(list.json["items"].size(), 2u) << list;
  EXPECT_EQ(list.json["items"][0]["price_per_point"], "0.012345") << list;
  EXPECT_EQ(list.json["items"][1]["price_per_point"], "0.020000") << list;
  // A partner sees the agreements it is party to; an agent sees none of this.
  EXPECT_EQ(http().Get("/v1/settlement-agreements", a.r_key).json["items"].size(), 2u);
  EXPECT_EQ(http().Get("/v1/settlement-agreements", a.agent).status, 403);
}

TEST_F(AgreementTest, BiMonthlyIsReadAsBimonthly) {
  auto a = CreateAlliance(false);
  auto r = http().Put("/v1/settlement-agreements",
                      {{"payer", "T"}, {"payee", "R"}, {"price_per_point", "0.01"}, {"cycle", "bi-monthly"}},
                      a.admin);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["cycle"], "bimonthly") << r;
}

TEST_F(AgreementTest, BadAgreementsAreRefusedNamingTheField) {
  auto a = CreateAlliance(false);
  EXPECT_TRUE(IsProblem(http().Put("/v1/settlement-agreements", Agreement("T", "R", 0.01), a.admin), 400, "",
                        "price_per_point"));
  EXPECT_TRUE(IsProblem(http().Put("/v1/settlement-agreements", Agreement("T", "R", "0.0000001"), a.admin),
                        400, "", "price_per_point"));
  EXPECT_TRUE(IsProblem(http().Put("/v1/settlement-agreements", Agreement("T", "R", "-1"), a.admin), 400, "",
                        "price_per_point"));
  EXPECT_TRUE(IsProblem(http().Put("/v1/settlement-agreements", Agreement("T", "T", "0.01"), a.admin), 400,
                        "", "payee"));
  EXPECT_TRUE(IsProblem(http().Put("/v1/settlement-agreements", Agreement("T", "X", "0.01"), a.admin), 422,
                        "unknown_partner", "payee"));
  auto cycle = Agreement("T", "R", "0.01");
  cycle["cycle"] = "weekly";
  EXPECT_TRUE(IsProblem(http().Put("/v1/settlement-agreements", cycle, a.admin), 400, "", "cycle"));
  EXPECT_EQ(http().Put("/v1/settlement-agreements", Agreement("T", "R", "0.01"), a.t_key).status, 403);
  EXPECT_EQ(http().Get("/v1/settlement-agreements", a.admin).json["items"].size(), 0u);
}

TEST_F(AgreementTest, PointsOfASourceWithoutAgreementAreSkippedWhenOthersCanPay) {
  auto a = CreateAlliance(false);
  ASSERT_EQ(http().Put("/v1/policy", {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}}}, a.admin).status,
            200);
  auto member = Enrol(a.agent);
  auto earn = [&](const std::string& key, std::int64_t points, const std::string& at) {
    auto r = http().Post("/v1/accruals",
                         {{"event_id", NewEventId()},
                          {"member_id", member.member_id},
                          {"points", points},
                          {"point_type", "bonus"},
                          {"occurred_at", at}},
                         key);
    ASSERT_EQ(r.status, 201) << r;
  };
  earn(a.t_key, 70, "2025-06-01T10:00:00+08:00");   // expires first, but T has no agreement with R
  earn(a.r_key, 100, "2026-06-01T10:00:00+08:00");  // R's own points
  ASSERT_EQ(
      http()
          .Post("/v1/rewards",
                {{"code", "BAG"}, {"partner", "R"}, {"name", "bag"}, {"price", {{"points", 80}}}}, a.admin)
          .status,
      201);
  auto paid =
      http().Post("/v1/redemptions",
                  {{"request_id", "own-1"}, {"member_id", member.member_id}, {"reward", "BAG"}}, a.r_key);
  ASSERT_EQ(paid.status, 201) << paid;
  EXPECT_EQ(paid.json["points_by_source"], (json{{"R", 80}})) << paid;
  // Now only 20 of R's own are left: T's 70 would make up the rest, but nothing prices them.
  auto refused =
      http().Post("/v1/redemptions",
                  {{"request_id", "own-2"}, {"member_id", member.member_id}, {"reward", "BAG"}}, a.r_key);
  EXPECT_TRUE(IsProblem(refused, 422, "no_settlement_agreement", "reward")) << refused;
  EXPECT_EQ(refused.json["payer"], "T") << refused;
  EXPECT_EQ(Balance(a.agent, member.member_id)["by_source"], (json{{"R", 20}, {"T", 70}}));
  // More than the member holds at all is a plain shortfall.
  ASSERT_EQ(
      http()
          .Post("/v1/rewards",
                {{"code", "TV"}, {"partner", "R"}, {"name", "tv"}, {"price", {{"points", 1000}}}}, a.admin)
          .status,
      201);
  EXPECT_TRUE(IsProblem(
      http().Post("/v1/redemptions",
                  {{"request_id", "own-3"}, {"member_id", member.member_id}, {"reward", "TV"}}, a.r_key),
      422, "insufficient_points"));
}

TEST_F(AgreementTest, CrossRedemptionWithoutAgreementIsRefusedAndChangesNothing) {
  auto a = CreateAlliance(false);
  auto member = Enrol(a.agent);
  auto accrual = http().Post("/v1/accruals",
                             {{"event_id", NewEventId()},
                              {"card_no", member.card_no},
                              {"points", 500},
                              {"point_type", "bonus"},
                              {"occurred_at", "2026-06-01T10:00:00+08:00"}},
                             a.t_key);
  ASSERT_EQ(accrual.status, 201) << accrual;
  ASSERT_EQ(
      http()
          .Post("/v1/rewards",
                {{"code", "BAG"}, {"partner", "R"}, {"name", "bag"}, {"price", {{"points", 100}}}}, a.admin)
          .status,
      201);
  ASSERT_EQ(
      http()
          .Post("/v1/rewards",
                {{"code", "DATA"}, {"partner", "T"}, {"name", "data"}, {"price", {{"points", 100}}}}, a.admin)
          .status,
      201);
  auto balance_now = [&] {
    auto b = Balance(a.agent, member.member_id);
    b.erase("as_of");
    return b;
  };
  const auto before = balance_now();
  auto refused =
      http().Post("/v1/redemptions",
                  {{"request_id", "cross-1"}, {"member_id", member.member_id}, {"reward", "BAG"}}, a.r_key);
  EXPECT_TRUE(IsProblem(refused, 422, "no_settlement_agreement", "reward")) << refused;
  EXPECT_EQ(refused.json["payer"], "T") << refused;
  EXPECT_EQ(refused.json["payee"], "R") << refused;
  EXPECT_EQ(balance_now(), before);
  // Internal redemptions need no agreement.
  EXPECT_EQ(
      http()
          .Post("/v1/redemptions",
                {{"request_id", "internal-1"}, {"member_id", member.member_id}, {"reward", "DATA"}}, a.t_key)
          .status,
      201);
  // An agreement effective later does not price a redemption now; one in force does.
  ASSERT_EQ(
      http()
          .Put("/v1/settlement-agreements", Agreement("T", "R", "0.01", "2099-01-01T00:00:00+08:00"), a.admin)
          .status,
      201);
  EXPECT_TRUE(IsProblem(
      http().Post("/v1/redemptions",
                  {{"request_id", "cross-2"}, {"member_id", member.member_id}, {"reward", "BAG"}}, a.r_key),
      422, "no_settlement_agreement"));
  ASSERT_EQ(http().Put("/v1/settlement-agreements", Agreement("T", "R", "0.01"), a.admin).status, 201);
  auto ok =
      http().Post("/v1/redemptions",
                  {{"request_id", "cross-3"}, {"member_id", member.member_id}, {"reward", "BAG"}}, a.r_key);
  ASSERT_EQ(ok.status, 201) << ok;
  EXPECT_EQ(ok.json["points_by_source"], (json{{"T", 100}})) << ok;
}

}  // namespace
}  // namespace unipoints::testing
