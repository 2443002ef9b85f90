// Single accruals over HTTP: the answer, idempotency on event_id per partner, and business refusals.

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class AccrualTest : public IntegrationTest {};

TEST_F(AccrualTest, AccrualByCardReturnsPointsBalanceAndRuleVersion) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto id = NewEventId();
  auto r = http().Post("/v1/accruals", AmountEvent(id, m.card_no, "data", 1234), a.t_key);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_FALSE(r.HasHeader("Idempotent-Replay")) << r;
  EXPECT_TRUE(r.json["accrual_id"].is_number_integer()) << r;
  EXPECT_EQ(r.json["member_id"], m.member_id);
  EXPECT_EQ(r.json["points"], 24) << "12.34 CNY of data at 2 points per CNY";
  EXPECT_EQ(r.json["balance"], 24);
  EXPECT_EQ(r.json["point_type"], "consumption");
  EXPECT_EQ(r.json["rule_version"], 1);
}

TEST_F(AccrualTest, AccrualByMemberIdWorks) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  json event = {{"event_id", NewEventId()},
                {"member_id", m.member_id},
                {"category", "voice"},
                {"amount_minor", 1999},
                {"occurred_at", "2026-03-01T09:00:00+08:00"}};
  auto r = http().Post("/v1/accruals", event, a.t_key);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["member_id"], m.member_id);
  EXPECT_EQ(r.json["points"], 19) << "19.99 CNY of voice at 1 point per CNY, rounded down";
}

TEST_F(AccrualTest, DirectPointsWithAPointType) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  json event = {{"event_id", NewEventId()},
                {"card_no", m.card_no},
                {"points", 500},
                {"point_type", "tenure"},
                {"occurred_at", "2026-03-01T09:00:00+08:00"}};
  auto r = http().Post("/v1/accruals", event, a.t_key);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["points"], 500);
  EXPECT_EQ(r.json["point_type"], "tenure");
  EXPECT_EQ(r.json["balance"], 500);
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["by_source"]["T"], 500) << b;
}

TEST_F(AccrualTest, ReplayReturnsSameBodyWithReplayHeader) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto event = AmountEvent(NewEventId(), m.card_no, "retail", 4321);
  auto first = http().Post("/v1/accruals", event, a.r_key);
  ASSERT_EQ(first.status, 201) << first;
  // Change the balance in between: the replay must still be the first answer.
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 1000), a.r_key).status,
            201);

  auto replay = http().Post("/v1/accruals", event, a.r_key);
  EXPECT_EQ(replay.status, 200) << replay;
  EXPECT_EQ(replay.Header("Idempotent-Replay"), "true") << replay;
  EXPECT_EQ(replay.json, first.json) << "first: " << first << "\nreplay: " << replay;

  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 43 + 10) << "a replay credited again: " << b;
  EXPECT_EQ(b["lifetime"], 43 + 10) << b;
  EXPECT_EQ(Ledger(a.agent, m.member_id).size(), 2u);
}

TEST_F(AccrualTest, AZeroPointAccrualIsReplayedAsItsFirstAnswer) {
  // An accepted accrual's answer is rebuilt from its row and its lot; one of zero points has no lot.
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto event = AmountEvent(NewEventId(), m.card_no, "retail", 50);
  auto first = http().Post("/v1/accruals", event, a.r_key);
  ASSERT_EQ(first.status, 201) << first;
  EXPECT_EQ(first.json["points"], 0) << first;
  EXPECT_TRUE(first.json["expires_at"].is_null()) << first;
  auto replay = http().Post("/v1/accruals", event, a.r_key);
  EXPECT_EQ(replay.status, 200) << replay;
  EXPECT_EQ(replay.json, first.json) << "first: " << first << "\nreplay: " << replay;
}

TEST_F(AccrualTest, ReplayIgnoresKeyOrderAndWhitespace) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto id = NewEventId();
  auto first = http().Post("/v1/accruals", AmountEvent(id, m.card_no, "retail", 2500), a.r_key);
  ASSERT_EQ(first.status, 201) << first;
  const std::string reordered =
      "{ \"occurred_at\" : \"2026-06-01T10:00:00+08:00\",\n  \"amount_minor\": 2500, "
      "\"category\": \"retail\", \"card_no\": \"" +
      m.card_no + "\", \"event_id\": \"" + id + "\" }";
  auto replay = http().Call("POST", "/v1/accruals", std::nullopt, a.r_key, RawBody(reordered));
  EXPECT_EQ(replay.status, 200) << replay;
  EXPECT_EQ(replay.json, first.json);
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 25);
}

TEST_F(AccrualTest, SameEventIdWithAnotherAmountIs409) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto id = NewEventId();
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(id, m.card_no, "retail", 1000), a.r_key).status, 201);
  auto conflict = http().Post("/v1/accruals", AmountEvent(id, m.card_no, "retail", 2000), a.r_key);
  EXPECT_TRUE(IsProblem(conflict, 409));
  auto other_category = http().Post(
      "/v1/accruals", AmountEvent(id, m.card_no, "retail", 1000, "2026-06-02T10:00:00+08:00"), a.r_key);
  EXPECT_TRUE(IsProblem(other_category, 409));
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 10) << b;
  EXPECT_EQ(b["lifetime"], 10) << b;
}

TEST_F(AccrualTest, SameEventIdFromAnotherPartnerIsAnotherEvent) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto id = NewEventId();
  auto t = http().Post("/v1/accruals", AmountEvent(id, m.card_no, "data", 1000), a.t_key);
  ASSERT_EQ(t.status, 201) << t;
  auto r = http().Post("/v1/accruals", AmountEvent(id, m.card_no, "retail", 1000), a.r_key);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_FALSE(r.HasHeader("Idempotent-Replay"));
  EXPECT_NE(r.json["accrual_id"], t.json["accrual_id"]);
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["by_source"]["T"], 20) << b;
  EXPECT_EQ(b["by_source"]["R"], 10) << b;
}

TEST_F(AccrualTest, LostCardIs422CardLostAndTheRefusalIsReplayed) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  ASSERT_EQ(http().Call("POST", "/v1/cards/" + m.card_no + "/report-lost", std::nullopt, a.agent).status,
            200);
  const auto event = AmountEvent(NewEventId(), m.card_no, "retail", 1000);
  auto r = http().Post("/v1/accruals", event, a.r_key);
  EXPECT_TRUE(IsProblem(r, 422, "card_lost"));
  auto again = http().Post("/v1/accruals", event, a.r_key);
  EXPECT_TRUE(IsProblem(again, 422, "card_lost"));
  EXPECT_EQ(again.Header("Idempotent-Replay"), "true")
      << "a 422 is an answer and is replayed as such: " << again;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 0);
}

TEST_F(AccrualTest, UnknownCardIs422UnknownCard) {
  auto a = CreateAlliance();
  auto r =
      http().Post("/v1/accruals", AmountEvent(NewEventId(), UnissuedCardNumber(), "retail", 1000), a.r_key);
  EXPECT_TRUE(IsProblem(r, 422, "unknown_card"));
}

TEST_F(AccrualTest, UnknownCategoryIs422NamingCategory) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  // "data" is T's category, not R's.
  auto r = http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "data", 1000), a.r_key);
  EXPECT_TRUE(IsProblem(r, 422, "unknown_category"));
  ASSERT_TRUE(r.json.is_object() && !r.json["errors"].empty()) << r;
  EXPECT_EQ(r.json["errors"][0]["field"], "category") << r;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 0);
}

TEST_F(AccrualTest, PartnerWithoutRulesCannotAccrueAmounts) {
  auto a = CreateAlliance();
  CreatePartner(a.admin, "N", "no rules yet", "other");
  const auto n_key = CreateKey(a.admin, "partner", "N");
  auto m = Enrol(a.agent);
  auto r = http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 1000), n_key);
  EXPECT_TRUE(IsProblem(r, 422));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 0);
}

TEST_F(AccrualTest, AccrualWritesOneLedgerEntryTaggedWithItsPartner) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  auto r = http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "data", 5000), a.t_key);
  ASSERT_EQ(r.status, 201) << r;
  auto ledger = Ledger(a.agent, m.member_id);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0]["kind"], "accrual");
  EXPECT_EQ(ledger[0]["points"], 100);
  EXPECT_EQ(ledger[0]["source"], "T");
  EXPECT_TRUE(ledger[0]["seq"].is_number_integer()) << ledger[0];
  EXPECT_TRUE(ledger[0]["ref"].is_string() && !ledger[0]["ref"].get<std::string>().empty()) << ledger[0];
  ASSERT_TRUE(ledger[0]["at"].is_string()) << ledger[0];
  EXPECT_TRUE(ParseInstant(ledger[0]["at"].get<std::string>())) << ledger[0];
}

TEST_F(AccrualTest, EventTooFarInTheFutureIsRefused) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  auto r = http().Post(
      "/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 1000, FormatUtc(NowUnix() + 10 * 86400)),
      a.r_key);
  EXPECT_GE(r.status, 400) << r;
  EXPECT_LT(r.status, 500) << r;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 0);
}

}  // namespace
}  // namespace unipoints::testing
