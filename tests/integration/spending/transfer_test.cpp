// Transfers between members: points keep their source partner and expiry, the giver's lots are
// taken earliest expiry first, refusals change nothing, and concurrent transfers out of one member
// never overspend (also racing reversals); `unipoints verify` passes afterwards.

#include <atomic>
#include <map>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class TransferTest : public IntegrationTest {
 protected:
  static json Body(const std::string& request_id, std::int64_t from, std::int64_t to, std::int64_t points) {
    return {{"request_id", request_id}, {"from_member", from}, {"to_member", to}, {"points", points}};
  }

  void Accrue(const std::string& key, const std::string& card, const std::string& category,
              std::int64_t amount_minor, const std::string& occurred_at = "2026-06-01T10:00:00+08:00") {
    auto r = http().Post("/v1/accruals", AmountEvent(NewEventId(), card, category, amount_minor, occurred_at),
                         key);
    ASSERT_EQ(r.status, 201) << r;
  }

  void ExpectVerifyPasses() {
    auto r = server().RunCli({"verify"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out.rfind("ok: ", 0), 0u) << r.out << r.err;
  }
};

TEST_F(TransferTest, PointsKeepTheirSourceAndExpiry) {
  auto a = CreateAlliance();
  ASSERT_EQ(http().Put("/v1/policy", {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}}}, a.admin).status,
            200);
  auto giver = Enrol(a.agent);
  auto receiver = Enrol(a.agent);
  Accrue(a.t_key, giver.card_no, "voice", 10000, "2025-03-01T10:00:00+08:00");   // 100 T, expire end 2027
  Accrue(a.r_key, giver.card_no, "retail", 10000, "2026-03-01T10:00:00+08:00");  // 100 R, expire end 2028
  auto before = Balance(a.agent, giver.member_id);
  ASSERT_EQ(before["expiring"].size(), 2u) << before;
  const auto t_expiry = before["expiring"][0]["expires_at"];
  const auto r_expiry = before["expiring"][1]["expires_at"];

  auto r =
      http().Post("/v1/transfers", Body(Unique("tr-"), giver.member_id, receiver.member_id, 150), a.agent);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_TRUE(r.json["transfer_id"].is_number_integer()) << r;
  EXPECT_EQ(r.json["points"], 150) << r;
  // Earliest expiry first: all of T, then 50 of R.
  EXPECT_EQ(r.json["points_by_source"], (json{{"T", 100}, {"R", 50}})) << r;

  auto got = Balance(a.agent, receiver.member_id);
  EXPECT_EQ(got["available"], 150) << got;
  EXPECT_EQ(got["by_source"], (json{{"T", 100}, {"R", 50}})) << got;
  EXPECT_EQ(got["expiring"], (json::array({{{"expires_at", t_expiry}, {"points", 100}},
                                           {{"expires_at", r_expiry}, {"points", 50}}})))
      << got;
  EXPECT_EQ(got["lifetime"], 0) << got;
  auto left = Balance(a.agent, giver.member_id);
  EXPECT_EQ(left["available"], 50) << left;
  EXPECT_EQ(left["by_source"], (json{{"R", 50}})) << left;
  EXPECT_EQ(left["expiring"], (json::array({{{"expires_at", r_expiry}, {"points", 50}}}))) << left;
  EXPECT_EQ(left["lifetime"], 200) << left;

  std::map<std::string, std::int64_t> out, in;
  for (const auto& e : Ledger(a.agent, giver.member_id)) {
    if (e["kind"] == "transfer_out") out[e["source"].get<std::string>()] += e["points"].get<std::int64_t>();
  }
  for (const auto& e : Ledger(a.agent, receiver.member_id)) {
    ASSERT_EQ(e["kind"], "transfer_in") << e;
    in[e["source"].get<std::string>()] += e["points"].get<std::int64_t>();
  }
  EXPECT_EQ(out, (std::map<std::string, std::int64_t>{{"T", -100}, {"R", -50}}));
  EXPECT_EQ(in, (std::map<std::string, std::int64_t>{{"T", 100}, {"R", 50}}));
  // The partner sees its own points moving in the receiver's ledger.
  for (const auto& e : Ledger(a.t_key, receiver.member_id)) EXPECT_EQ(e["source"], "T") << e;
  ExpectVerifyPasses();
}

TEST_F(TransferTest, ReceivedPointsCanBeSpentAgain) {
  auto a = CreateAlliance();
  auto m1 = Enrol(a.agent);
  auto m2 = Enrol(a.agent);
  auto m3 = Enrol(a.agent);
  Accrue(a.r_key, m1.card_no, "retail", 10000);
  ASSERT_EQ(http().Post("/v1/transfers", Body(Unique("tr-"), m1.member_id, m2.member_id, 70), a.agent).status,
            201);
  auto r = http().Post("/v1/transfers", Body(Unique("tr-"), m2.member_id, m3.member_id, 70), a.admin);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["points_by_source"], (json{{"R", 70}})) << r;
  EXPECT_EQ(Balance(a.agent, m2.member_id)["available"], 0);
  EXPECT_EQ(Balance(a.agent, m3.member_id)["available"], 70);
}

TEST_F(TransferTest, AMemberInDebtSpendsWhatIsAvailableBeyondTheDebt) {
  auto a = CreateAlliance();
  auto debtor = Enrol(a.agent);
  auto giver = Enrol(a.agent);
  // 50 points spent, then their accrual reversed: a debt of 50.
  const auto event = NewEventId();
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(event, debtor.card_no, "retail", 5000), a.r_key).status,
            201);
  ASSERT_EQ(http()
                .Post("/v1/adjustments",
                      {{"request_id", Unique("adj-")},
                       {"member_id", debtor.member_id},
                       {"points", -50},
                       {"reason", "x"}},
                      a.agent)
                .status,
            201);
  ASSERT_EQ(http()
                .Post("/v1/accruals/" + event + "/reversals",
                      {{"reversal_id", Unique("rv-")}, {"points", 50}, {"reason", "return"}}, a.r_key)
                .status,
            201);
  Accrue(a.r_key, giver.card_no, "retail", 20000);
  ASSERT_EQ(http()
                .Post("/v1/transfers", Body(Unique("tr-"), giver.member_id, debtor.member_id, 200), a.agent)
                .status,
            201);
  auto b = Balance(a.agent, debtor.member_id);
  ASSERT_EQ(b["available"], 150) << b;
  ASSERT_EQ(b["debt"], 50) << b;
  ASSERT_EQ(
      http()
          .Post("/v1/rewards",
                {{"code", "BAG"}, {"partner", "R"}, {"name", "bag"}, {"price", {{"points", 100}}}}, a.admin)
          .status,
      201);
  auto redeem = [&](const std::string& id) {
    return http().Post("/v1/redemptions",
                       {{"request_id", id}, {"member_id", debtor.member_id}, {"reward", "BAG"}}, a.r_key);
  };
  // A redemption spends what the balance calls available, as a transfer would.
  auto first = redeem("debt-1");
  ASSERT_EQ(first.status, 201) << first;
  EXPECT_EQ(first.json["balance"], 50) << first;
  EXPECT_TRUE(IsProblem(redeem("debt-2"), 422, "insufficient_points"));
  EXPECT_EQ(Balance(a.agent, debtor.member_id)["available"], 50);
  ExpectVerifyPasses();
}

TEST_F(TransferTest, ToSelfIs400) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  Accrue(a.r_key, m.card_no, "retail", 10000);
  auto r = http().Post("/v1/transfers", Body(Unique("tr-"), m.member_id, m.member_id, 10), a.agent);
  EXPECT_TRUE(IsProblem(r, 400, "validation_failed", "to_member"));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 100);
}

TEST_F(TransferTest, AnotherTenantsMemberIsUnknown) {
  auto a = CreateAlliance();
  auto b = CreateAlliance();
  auto mine = Enrol(a.agent);
  auto theirs = Enrol(b.agent);
  Accrue(a.r_key, mine.card_no, "retail", 10000);
  Accrue(b.r_key, theirs.card_no, "retail", 10000);
  auto to = http().Post("/v1/transfers", Body(Unique("tr-"), mine.member_id, theirs.member_id, 10), a.agent);
  EXPECT_TRUE(IsProblem(to, 422, "unknown_member", "to_member"));
  auto from =
      http().Post("/v1/transfers", Body(Unique("tr-"), theirs.member_id, mine.member_id, 10), a.agent);
  EXPECT_TRUE(IsProblem(from, 422, "unknown_member", "from_member"));
  EXPECT_EQ(Balance(a.agent, mine.member_id)["available"], 100);
  EXPECT_EQ(Balance(b.agent, theirs.member_id)["available"], 100);
}

TEST_F(TransferTest, InsufficientPointsIs422WithTheShortfallAndChangesNothing) {
  auto a = CreateAlliance();
  auto m1 = Enrol(a.agent);
  auto m2 = Enrol(a.agent);
  Accrue(a.r_key, m1.card_no, "retail", 10000);
  const json body = Body(Unique("tr-"), m1.member_id, m2.member_id, 130);
  auto r = http().Post("/v1/transfers", body, a.agent);
  EXPECT_TRUE(IsProblem(r, 422, "insufficient_points"));
  EXPECT_EQ(r.json["shortfall"], 30) << r;
  EXPECT_EQ(r.json["available"], 100) << r;
  // The refusal is that id's answer.
  auto again = http().Post("/v1/transfers", body, a.agent);
  EXPECT_TRUE(IsProblem(again, 422, "insufficient_points"));
  EXPECT_EQ(again.Header("Idempotent-Replay"), "true") << again;
  EXPECT_EQ(Balance(a.agent, m1.member_id)["available"], 100);
  EXPECT_EQ(Balance(a.agent, m2.member_id)["available"], 0);
  EXPECT_TRUE(Ledger(a.agent, m2.member_id).empty());
}

TEST_F(TransferTest, IdempotentOnRequestId) {
  auto a = CreateAlliance();
  auto m1 = Enrol(a.agent);
  auto m2 = Enrol(a.agent);
  Accrue(a.r_key, m1.card_no, "retail", 10000);
  const auto id = Unique("tr-");
  auto first = http().Post("/v1/transfers", Body(id, m1.member_id, m2.member_id, 40), a.agent);
  ASSERT_EQ(first.status, 201) << first;
  auto again = http().Post("/v1/transfers", Body(id, m1.member_id, m2.member_id, 40), a.agent);
  EXPECT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.Header("Idempotent-Replay"), "true");
  EXPECT_EQ(again.json, first.json);
  // Ids are per tenant, whichever desk key sends them.
  auto by_admin = http().Post("/v1/transfers", Body(id, m1.member_id, m2.member_id, 40), a.admin);
  EXPECT_EQ(by_admin.status, 200) << by_admin;
  EXPECT_TRUE(IsProblem(http().Post("/v1/transfers", Body(id, m1.member_id, m2.member_id, 41), a.agent), 409,
                        "idempotency_conflict"));
  EXPECT_EQ(Balance(a.agent, m1.member_id)["available"], 60);
  EXPECT_EQ(Balance(a.agent, m2.member_id)["available"], 40);
}

TEST_F(TransferTest, BadInputAndRoles) {
  auto a = CreateAlliance();
  auto m1 = Enrol(a.agent);
  auto m2 = Enrol(a.agent);
  EXPECT_TRUE(IsProblem(http().Post("/v1/transfers", Body("b1", m1.member_id, m2.member_id, 0), a.agent), 400,
                        "validation_failed", "points"));
  EXPECT_TRUE(
      IsProblem(http().Post("/v1/transfers",
                            {{"request_id", "b2"}, {"to_member", m2.member_id}, {"points", 1}}, a.agent),
                400, "validation_failed", "from_member"));
  EXPECT_TRUE(IsProblem(http().Post("/v1/transfers", Body("b3", m1.member_id, 987654321, 1), a.agent), 422,
                        "unknown_member", "to_member"));
  for (const auto& key : {a.t_key, a.finance}) {
    EXPECT_TRUE(IsProblem(http().Post("/v1/transfers", Body("b4", m1.member_id, m2.member_id, 1), key), 403));
  }
}

TEST_F(TransferTest, ConcurrentTransfersOutOfOneMemberNeverOverspend) {
  auto a = CreateAlliance();
  auto giver = Enrol(a.agent);
  std::vector<Enrolled> receivers;
  for (int i = 0; i < 5; ++i) receivers.push_back(Enrol(a.agent));
  // 100 points in four lots of two sources: covers 10 transfers of 10.
  Accrue(a.r_key, giver.card_no, "retail", 3000);
  Accrue(a.t_key, giver.card_no, "voice", 2500);
  Accrue(a.r_key, giver.card_no, "retail", 2000);
  Accrue(a.t_key, giver.card_no, "data", 1250);
  ASSERT_EQ(Balance(a.agent, giver.member_id)["available"], 100);
  constexpr int kThreads = 50;
  std::vector<Response> answers(kThreads);
  Parallel(kThreads, [&](int i, HttpClient& client) {
    answers[i] = client.Post(
        "/v1/transfers",
        Body("par-" + std::to_string(i), giver.member_id, receivers[i % receivers.size()].member_id, 10),
        a.agent);
  });
  int created = 0;
  for (const auto& r : answers) {
    if (r.status == 201) {
      ++created;
    } else {
      EXPECT_TRUE(IsProblem(r, 422, "insufficient_points"));
    }
  }
  EXPECT_EQ(created, 10);
  EXPECT_EQ(Balance(a.agent, giver.member_id)["available"], 0);
  std::int64_t received = 0;
  for (const auto& m : receivers) received += Balance(a.agent, m.member_id)["available"].get<std::int64_t>();
  EXPECT_EQ(received, 100);
  ExpectVerifyPasses();
}

TEST_F(TransferTest, OppositeTransfersDoNotDeadlock) {
  auto a = CreateAlliance();
  auto m1 = Enrol(a.agent);
  auto m2 = Enrol(a.agent);
  Accrue(a.r_key, m1.card_no, "retail", 10000);
  Accrue(a.t_key, m2.card_no, "voice", 10000);
  constexpr int kThreads = 24;
  std::vector<Response> answers(kThreads);
  Parallel(kThreads, [&](int i, HttpClient& client) {
    const bool forward = i % 2 == 0;
    answers[i] = client.Post("/v1/transfers",
                             Body("opp-" + std::to_string(i), forward ? m1.member_id : m2.member_id,
                                  forward ? m2.member_id : m1.member_id, 5),
                             a.agent);
  });
  for (const auto& r : answers) EXPECT_EQ(r.status, 201) << r;
  EXPECT_EQ(Balance(a.agent, m1.member_id)["available"], 100);
  EXPECT_EQ(Balance(a.agent, m2.member_id)["available"], 100);
  ExpectVerifyPasses();
}

TEST_F(TransferTest, ConcurrentReversalsRacingTransfers) {
  auto a = CreateAlliance();
  auto giver = Enrol(a.agent);
  auto receiver = Enrol(a.agent);
  constexpr int kAccruals = 20;
  std::vector<std::string> events;
  for (int i = 0; i < kAccruals; ++i) {
    events.push_back(NewEventId());
    auto r = http().Post("/v1/accruals", AmountEvent(events.back(), giver.card_no, "retail", 1000), a.r_key);
    ASSERT_EQ(r.status, 201) << r;  // 10 points each
  }
  constexpr int kThreads = 2 * kAccruals;
  std::vector<Response> answers(kThreads);
  Parallel(kThreads, [&](int i, HttpClient& client) {
    if (i % 2 == 0) {
      answers[i] = client.Post(
          "/v1/accruals/" + events[i / 2] + "/reversals",
          {{"reversal_id", "race-" + std::to_string(i)}, {"points", 10}, {"reason", "退货"}}, a.r_key);
    } else {
      answers[i] =
          client.Post("/v1/transfers",
                      Body("race-" + std::to_string(i), giver.member_id, receiver.member_id, 15), a.agent);
    }
  });
  int transferred = 0;
  std::int64_t debt = 0;
  for (int i = 0; i < kThreads; ++i) {
    const auto& r = answers[i];
    if (i % 2 == 0) {
      ASSERT_EQ(r.status, 201) << r;  // a reversal never fails for lack of balance
      debt += r.json["debt"].get<std::int64_t>();
    } else if (r.status == 201) {
      ++transferred;
    } else {
      EXPECT_TRUE(IsProblem(r, 422, "insufficient_points"));
    }
  }
  EXPECT_GE(transferred, 0);
  EXPECT_LE(transferred, 13);  // 200 points cover at most 13 transfers of 15
  // Everything earned was reversed: what was given away is owed.
  auto g = Balance(a.agent, giver.member_id);
  EXPECT_EQ(g["lifetime"], 0) << g;
  EXPECT_EQ(g["available"], -15 * transferred) << g;
  EXPECT_EQ(g["debt"], debt) << g;
  EXPECT_EQ(debt, 15 * transferred) << g;
  EXPECT_EQ(Balance(a.agent, receiver.member_id)["available"], 15 * transferred);
  ExpectVerifyPasses();
}

}  // namespace
}  // namespace unipoints::testing
