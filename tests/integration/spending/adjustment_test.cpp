// Manual adjustments: credits need a source partner, debits take earliest expiry first and never
// overdraw, and above the tenant's threshold a second key must approve (never the requester's own).

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class AdjustmentTest : public IntegrationTest {
 protected:
  static json Body(const std::string& request_id, std::int64_t member, std::int64_t points,
                   const std::string& source = {}) {
    json b = {{"request_id", request_id}, {"member_id", member}, {"points", points}, {"reason", "客服补偿"}};
    if (!source.empty()) b["source"] = source;
    return b;
  }

  void SetThreshold(const Alliance& a, std::int64_t threshold) {
    auto r =
        http().Put("/v1/policy",
                   {{"expiry", {{"kind", "never"}}}, {"adjustment_approval_threshold", threshold}}, a.admin);
    ASSERT_EQ(r.status, 200) << r;
  }

  Response Approve(std::int64_t id, const std::string& key) {
    return http().Call("POST", "/v1/adjustments/" + std::to_string(id) + "/approve", std::nullopt, key);
  }
};

TEST_F(AdjustmentTest, CreditBelowThresholdIsAppliedAtOnce) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  auto r = http().Post("/v1/adjustments", Body(Unique("adj-"), m.member_id, 50, "R"), a.agent);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["status"], "applied") << r;
  EXPECT_EQ(r.json["points"], 50) << r;
  EXPECT_EQ(r.json["balance"], 50) << r;
  EXPECT_EQ(r.json["source"], "R") << r;
  EXPECT_EQ(r.json["points_by_source"], (json{{"R", 50}})) << r;
  EXPECT_TRUE(r.json["adjustment_id"].is_number_integer()) << r;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["by_source"], (json{{"R", 50}})) << b;
  EXPECT_EQ(b["lifetime"], 50) << b;
  auto ledger = Ledger(a.agent, m.member_id);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0]["kind"], "adjustment");
  EXPECT_EQ(ledger[0]["points"], 50);
  EXPECT_EQ(ledger[0]["source"], "R");
}

TEST_F(AdjustmentTest, CreditDefaultsToTheIssuingPartnerElseNeedsASource) {
  auto a = CreateAlliance();
  auto issued_by_t = Enrol(a.t_key);
  auto r = http().Post("/v1/adjustments", Body(Unique("adj-"), issued_by_t.member_id, 20), a.agent);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["source"], "T") << r;
  EXPECT_EQ(Balance(a.agent, issued_by_t.member_id)["by_source"], (json{{"T", 20}}));

  auto no_issuer = Enrol(a.agent);
  EXPECT_TRUE(
      IsProblem(http().Post("/v1/adjustments", Body(Unique("adj-"), no_issuer.member_id, 20), a.agent), 422,
                "source_required", "source"));
  EXPECT_TRUE(IsProblem(
      http().Post("/v1/adjustments", Body(Unique("adj-"), no_issuer.member_id, 20, "NOPE"), a.agent), 422,
      "unknown_partner", "source"));
  EXPECT_EQ(Balance(a.agent, no_issuer.member_id)["available"], 0);
  // Once the member has earned, a credit without source comes from the partner it last earned from.
  ASSERT_EQ(http()
                .Post("/v1/accruals", AmountEvent(NewEventId(), no_issuer.card_no, "retail", 1000), a.r_key)
                .status,
            201);
  ASSERT_EQ(http()
                .Post("/v1/accruals", AmountEvent(NewEventId(), no_issuer.card_no, "voice", 1000), a.t_key)
                .status,
            201);
  auto after = http().Post("/v1/adjustments", Body(Unique("adj-"), no_issuer.member_id, 20), a.agent);
  ASSERT_EQ(after.status, 201) << after;
  EXPECT_EQ(after.json["source"], "T") << after;
}

TEST_F(AdjustmentTest, CreditInATenantOfOnePartnerComesFromIt) {
  auto t = CreateTenant("单一伙伴联盟");
  CreatePartner(t.admin_key, "S", "独家", "retail");
  const auto agent = CreateKey(t.admin_key, "agent");
  auto m = Enrol(agent);
  auto r = http().Post("/v1/adjustments", Body(Unique("adj-"), m.member_id, 20), agent);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["source"], "S") << r;
}

TEST_F(AdjustmentTest, DebitTakesEarliestExpiryFirstAndKeepsLifetime) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 6000), a.r_key).status,
            201);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "voice", 4000), a.t_key).status,
            201);
  auto r = http().Post("/v1/adjustments", Body(Unique("adj-"), m.member_id, -70), a.agent);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["status"], "applied") << r;
  EXPECT_EQ(r.json["points_by_source"], (json{{"R", -60}, {"T", -10}})) << r;
  EXPECT_EQ(r.json["balance"], 30) << r;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["by_source"], (json{{"T", 30}})) << b;
  EXPECT_EQ(b["lifetime"], 100) << b;
  // A debit limited to one source.
  auto only_t = http().Post("/v1/adjustments", Body(Unique("adj-"), m.member_id, -40, "T"), a.agent);
  EXPECT_TRUE(IsProblem(only_t, 422, "insufficient_points", "points"));
  EXPECT_EQ(only_t.json["shortfall"], 10) << only_t;
  EXPECT_EQ(only_t.json["available"], 30) << only_t;
  auto too_much = http().Post("/v1/adjustments", Body(Unique("adj-"), m.member_id, -31), a.agent);
  EXPECT_TRUE(IsProblem(too_much, 422, "insufficient_points"));
  EXPECT_EQ(too_much.json["shortfall"], 1) << too_much;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 30);
}

TEST_F(AdjustmentTest, AboveThresholdWaitsForASecondKey) {
  auto a = CreateAlliance();
  SetThreshold(a, 100);
  auto m = Enrol(a.agent);
  const auto second_agent = CreateKey(a.admin, "agent");
  const json body = Body(Unique("adj-"), m.member_id, 500, "T");
  auto r = http().Post("/v1/adjustments", body, a.agent);
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.json["status"], "pending_approval") << r;
  const auto id = r.json["adjustment_id"].get<std::int64_t>();
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 0);
  auto replay = http().Post("/v1/adjustments", body, a.agent);
  EXPECT_EQ(replay.status, 200) << replay;
  EXPECT_EQ(replay.Header("Idempotent-Replay"), "true");
  EXPECT_EQ(replay.json["adjustment_id"], id) << replay;

  // The approval queue.
  auto queue = http().Get("/v1/adjustments?status=pending_approval", second_agent);
  ASSERT_EQ(queue.status, 200) << queue;
  ASSERT_EQ(queue.json["items"].size(), 1u) << queue;
  EXPECT_EQ(queue.json["items"][0]["adjustment_id"], id) << queue;

  EXPECT_TRUE(IsProblem(Approve(id, a.agent), 403, "self_approval"));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 0);
  auto approved = Approve(id, second_agent);
  ASSERT_EQ(approved.status, 200) << approved;
  EXPECT_EQ(approved.json["status"], "applied") << approved;
  EXPECT_EQ(approved.json["balance"], 500) << approved;
  EXPECT_TRUE(approved.json["approved_by_key"].is_number_integer()) << approved;
  EXPECT_NE(approved.json["approved_by_key"], approved.json["requested_by_key"]) << approved;
  EXPECT_TRUE(IsProblem(Approve(id, second_agent), 409, "not_pending"));
  EXPECT_TRUE(IsProblem(Approve(id, a.admin), 409, "not_pending"));
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["by_source"], (json{{"T", 500}})) << b;
  EXPECT_EQ(b["lifetime"], 500) << b;
  EXPECT_EQ(Ledger(a.agent, m.member_id).size(), 1u);
  EXPECT_TRUE(http().Get("/v1/adjustments?status=pending_approval", a.agent).json["items"].empty());
  auto one = http().Get("/v1/adjustments/" + std::to_string(id), a.agent);
  ASSERT_EQ(one.status, 200) << one;
  EXPECT_EQ(one.json["status"], "applied") << one;
  EXPECT_TRUE(one.json["applied_at"].is_string()) << one;
}

TEST_F(AdjustmentTest, AtTheThresholdIsAppliedAtOnce) {
  auto a = CreateAlliance();
  SetThreshold(a, 100);
  auto m = Enrol(a.agent);
  auto r = http().Post("/v1/adjustments", Body(Unique("adj-"), m.member_id, 100, "R"), a.agent);
  EXPECT_EQ(r.status, 201) << r;
  auto debit = http().Post("/v1/adjustments", Body(Unique("adj-"), m.member_id, -101), a.agent);
  EXPECT_EQ(debit.status, 202) << debit;  // large debits wait too (and are checked when approved)
}

TEST_F(AdjustmentTest, PendingDebitIsCheckedWhenApproved) {
  auto a = CreateAlliance();
  SetThreshold(a, 10);
  auto m = Enrol(a.agent);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 5000), a.r_key).status,
            201);
  auto r = http().Post("/v1/adjustments", Body(Unique("adj-"), m.member_id, -80), a.agent);
  ASSERT_EQ(r.status, 202) << r;
  const auto id = r.json["adjustment_id"].get<std::int64_t>();
  auto refused = Approve(id, a.admin);
  EXPECT_TRUE(IsProblem(refused, 422, "insufficient_points"));
  EXPECT_EQ(refused.json["shortfall"], 30) << refused;
  EXPECT_EQ(http().Get("/v1/adjustments/" + std::to_string(id), a.agent).json["status"], "pending_approval");
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 3000), a.r_key).status,
            201);
  auto approved = Approve(id, a.admin);
  ASSERT_EQ(approved.status, 200) << approved;
  EXPECT_EQ(approved.json["balance"], 0) << approved;
  EXPECT_EQ(Balance(a.agent, m.member_id)["lifetime"], 80);
}

TEST_F(AdjustmentTest, IdempotencyBadInputRolesAndTenants) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const json body = Body(Unique("adj-"), m.member_id, 5, "R");
  auto first = http().Post("/v1/adjustments", body, a.agent);
  ASSERT_EQ(first.status, 201) << first;
  auto replay = http().Post("/v1/adjustments", body, a.agent);
  EXPECT_EQ(replay.status, 200) << replay;
  EXPECT_EQ(replay.json, first.json);
  auto changed = body;
  changed["points"] = 6;
  EXPECT_TRUE(IsProblem(http().Post("/v1/adjustments", changed, a.agent), 409, "idempotency_conflict"));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 5);

  EXPECT_TRUE(IsProblem(http().Post("/v1/adjustments", Body("z1", m.member_id, 0, "R"), a.agent), 400,
                        "validation_failed", "points"));
  EXPECT_TRUE(
      IsProblem(http().Post("/v1/adjustments",
                            {{"request_id", "z2"}, {"member_id", m.member_id}, {"points", 5}}, a.agent),
                400, "validation_failed", "reason"));
  EXPECT_TRUE(IsProblem(http().Post("/v1/adjustments", Body("z3", 987654321, 5, "R"), a.agent), 422,
                        "unknown_member", "member_id"));
  for (const auto& key : {a.t_key, a.finance}) {
    EXPECT_TRUE(IsProblem(http().Post("/v1/adjustments", Body("z4", m.member_id, 5, "R"), key), 403));
    EXPECT_TRUE(IsProblem(http().Get("/v1/adjustments", key), 403));
  }
  EXPECT_TRUE(
      IsProblem(http().Get("/v1/adjustments?status=bogus", a.agent), 400, "validation_failed", "status"));
  // Another tenant sees neither the member nor the adjustment.
  auto b = CreateAlliance();
  EXPECT_TRUE(IsProblem(http().Post("/v1/adjustments", Body("z5", m.member_id, 5, "R"), b.agent), 422,
                        "unknown_member"));
  const auto id = first.json["adjustment_id"].get<std::int64_t>();
  EXPECT_TRUE(IsProblem(http().Get("/v1/adjustments/" + std::to_string(id), b.agent), 404));
  EXPECT_TRUE(IsProblem(Approve(id, b.agent), 404));
  EXPECT_TRUE(IsProblem(Approve(987654321, a.agent), 404));
  EXPECT_TRUE(http().Get("/v1/adjustments", b.agent).json["items"].empty());
}

TEST_F(AdjustmentTest, ListsByMemberNewestFirstInPages) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  auto other = Enrol(a.agent);
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(http().Post("/v1/adjustments", Body(Unique("adj-"), m.member_id, i, "R"), a.agent).status, 201);
  }
  ASSERT_EQ(http().Post("/v1/adjustments", Body(Unique("adj-"), other.member_id, 9, "R"), a.agent).status,
            201);
  std::vector<std::int64_t> points;
  std::string target = "/v1/adjustments?member_id=" + std::to_string(m.member_id) + "&limit=2";
  for (int page = 0; page < 10; ++page) {
    auto r = http().Get(target, a.agent);
    ASSERT_EQ(r.status, 200) << r;
    for (const auto& item : r.json["items"]) points.push_back(item["points"].get<std::int64_t>());
    if (r.json["next"].is_null()) break;
    target = "/v1/adjustments?member_id=" + std::to_string(m.member_id) +
             "&limit=2&after=" + r.json["next"].get<std::string>();
  }
  EXPECT_EQ(points, (std::vector<std::int64_t>{5, 4, 3, 2, 1}));
}

}  // namespace
}  // namespace unipoints::testing
