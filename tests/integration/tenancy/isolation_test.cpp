// Nothing of one tenant is visible to another, and a partner key acts only as its own partner.

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class IsolationTest : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    a_ = CreateAlliance();
    b_ = CreateAlliance();
    member_ = Enrol(a_.agent, "甲方会员");
    auto r =
        http().Post("/v1/accruals", AmountEvent(NewEventId(), member_.card_no, "retail", 10000), a_.r_key);
    ASSERT_EQ(r.status, 201) << r;
  }

  std::string MemberPath(const std::string& suffix = {}) const {
    return "/v1/members/" + std::to_string(member_.member_id) + suffix;
  }

  Alliance a_;
  Alliance b_;
  Enrolled member_;
};

TEST_F(IsolationTest, OtherTenantsAgentGets404ForTheMember) {
  EXPECT_TRUE(IsProblem(http().Get(MemberPath(), b_.agent), 404));
  EXPECT_TRUE(IsProblem(http().Get(MemberPath("/balance"), b_.agent), 404));
  EXPECT_TRUE(IsProblem(http().Get(MemberPath("/ledger"), b_.agent), 404));
  EXPECT_TRUE(IsProblem(http().Get(MemberPath(), b_.admin), 404));
  // ... while its own tenant sees it.
  EXPECT_EQ(http().Get(MemberPath(), a_.agent).status, 200);
}

TEST_F(IsolationTest, OtherTenantsPartnerGets404ForBalanceAndLedger) {
  EXPECT_TRUE(IsProblem(http().Get(MemberPath("/balance"), b_.r_key), 404));
  EXPECT_TRUE(IsProblem(http().Get(MemberPath("/ledger"), b_.r_key), 404));
}

TEST_F(IsolationTest, OtherTenantsSearchFindsNothing) {
  auto r = http().Get("/v1/members?card_no=" + member_.card_no, b_.agent);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_TRUE(r.json["items"].empty()) << r;
}

TEST_F(IsolationTest, OtherTenantsPartnerCannotAccrueOnTheCard) {
  auto r = http().Post("/v1/accruals", AmountEvent(NewEventId(), member_.card_no, "retail", 5000), b_.r_key);
  EXPECT_TRUE(IsProblem(r, 422, "unknown_card"));
  json by_id = {{"event_id", NewEventId()},
                {"member_id", member_.member_id},
                {"category", "retail"},
                {"amount_minor", 5000},
                {"occurred_at", "2026-06-01T10:00:00+08:00"}};
  auto r2 = http().Post("/v1/accruals", by_id, b_.r_key);
  EXPECT_TRUE(r2.status == 404 || r2.status == 422) << r2;
  auto batch =
      http().Post("/v1/accruals/batch",
                  {{"events", {AmountEvent(NewEventId(), member_.card_no, "retail", 5000)}}}, b_.r_key);
  ASSERT_EQ(batch.status, 200) << batch;
  EXPECT_EQ(batch.json["results"][0]["status"], "rejected") << batch;
  auto bal = Balance(a_.agent, member_.member_id);
  EXPECT_EQ(bal["available"], 100) << bal;
  EXPECT_EQ(bal["by_source"], (json{{"R", 100}})) << bal;
}

TEST_F(IsolationTest, OtherTenantsAgentCannotTouchTheCards) {
  auto lost = http().Call("POST", "/v1/cards/" + member_.card_no + "/report-lost", std::nullopt, b_.agent);
  EXPECT_TRUE(IsProblem(lost, 404));
  auto replace = http().Call("POST", MemberPath("/cards"), std::nullopt, b_.agent);
  EXPECT_TRUE(IsProblem(replace, 404));
  auto profile = http().Get(MemberPath(), a_.agent);
  ASSERT_EQ(profile.status, 200) << profile;
  ASSERT_EQ(profile.json["cards"].size(), 1u) << profile;
  EXPECT_EQ(profile.json["cards"][0]["status"], "active") << profile;
  EXPECT_EQ(
      http().Post("/v1/accruals", AmountEvent(NewEventId(), member_.card_no, "retail", 100), a_.r_key).status,
      201);
}

TEST_F(IsolationTest, OtherTenantsRulesAndPartnersAreInvisible) {
  auto t = CreateTenant();
  CreatePartner(t.admin_key, "ZZ", "only here", "other");
  EXPECT_TRUE(IsProblem(http().Get("/v1/partners/ZZ/earning-rules", a_.admin), 404));
  EXPECT_TRUE(IsProblem(http().Put("/v1/partners/ZZ/earning-rules", DemoRetailRules(), a_.admin), 404));
}

TEST_F(IsolationTest, PartnerKeyCannotActAsAnotherPartner) {
  // Whatever the body says, an accrual is booked for the key's own partner.
  json event = AmountEvent(NewEventId(), member_.card_no, "data", 1000);
  event["partner"] = "R";
  auto r = http().Post("/v1/accruals", event, a_.t_key);
  if (r.status == 201) {
    auto ledger = Ledger(a_.agent, member_.member_id);
    ASSERT_FALSE(ledger.empty());
    EXPECT_EQ(ledger[0]["source"], "T") << "a partner key accrued as another partner";
  } else {
    EXPECT_TRUE(r.status == 400 || r.status == 403) << r;
  }
  // Another partner's admin routes and rules are closed to it.
  EXPECT_TRUE(IsProblem(http().Put("/v1/partners/R/earning-rules", DemoRetailRules(), a_.t_key), 403));
  EXPECT_TRUE(IsProblem(
      http().Post("/v1/keys", {{"role", "partner"}, {"partner", "R"}, {"label", "x"}}, a_.t_key), 403));
  // And it cannot enrol in another partner's name.
  auto enrol = http().Post("/v1/members",
                           {{"name", "x"},
                            {"gender", "male"},
                            {"id_type", "resident_id"},
                            {"id_number", NewIdNumber()},
                            {"issuing_partner", "R"}},
                           a_.t_key);
  EXPECT_TRUE(enrol.status == 400 || enrol.status == 403) << enrol;
}

TEST_F(IsolationTest, KeyOfOneTenantIsUnknownWithAnotherTenantsIdPrefix) {
  // A key names its tenant; swapping the tenant part must not authenticate elsewhere.
  const auto key = a_.agent;
  const auto b_id = std::to_string(b_.tenant.id());
  const auto a_id = std::to_string(a_.tenant.id());
  auto pos = key.find(a_id);
  if (pos == std::string::npos) GTEST_SKIP() << "keys do not embed the tenant id";
  std::string forged = key;
  forged.replace(pos, a_id.size(), b_id);
  EXPECT_TRUE(IsProblem(http().Get("/v1/tenant", forged), 401));
}

}  // namespace
}  // namespace unipoints::testing
