// Reversals of accruals: partial reversals by amount add up exactly, points come from the accrual's
// own lot first, a shortfall becomes debt that later accruals repay, idempotent on reversal_id, and
// only the partner that posted the accrual can reverse it.

#include <atomic>
#include <map>
#include <thread>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class ReversalTest : public IntegrationTest {
 protected:
  static std::string Path(const std::string& event_id) { return "/v1/accruals/" + event_id + "/reversals"; }

  // Posts an accrual of `amount_minor` and returns its event id.
  std::string Accrue(const std::string& key, const std::string& card, const std::string& category,
                     std::int64_t amount_minor, std::int64_t expect_points) {
    const auto event = NewEventId();
    auto r = http().Post("/v1/accruals", AmountEvent(event, card, category, amount_minor), key);
    EXPECT_EQ(r.status, 201) << r;
    EXPECT_EQ(r.json["points"], expect_points) << r;
    return event;
  }

  // Gives `points` of `from` to a fresh member (spending them, for these tests).
  void Spend(const Alliance& a, std::int64_t from, std::int64_t points) {
    auto other = Enrol(a.agent);
    auto r = http().Post("/v1/transfers",
                         {{"request_id", Unique("spend-")},
                          {"from_member", from},
                          {"to_member", other.member_id},
                          {"points", points}},
                         a.agent);
    ASSERT_EQ(r.status, 201) << r;
  }

  std::int64_t LedgerSum(const std::string& key, std::int64_t member, const std::string& kind) {
    std::int64_t sum = 0;
    for (const auto& e : Ledger(key, member)) {
      if (e["kind"] == kind) sum += e["points"].get<std::int64_t>();
    }
    return sum;
  }
};

TEST_F(ReversalTest, PartialReversalsByAmountAddUpExactly) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  // 10.50 CNY at 1 point per CNY: 10 points. Three thirds of the amount: 3 + 3 + 4, not 3 + 3 + 3.
  const auto event = Accrue(a.r_key, m.card_no, "retail", 1050, 10);
  std::vector<std::int64_t> got;
  for (int i = 0; i < 3; ++i) {
    auto r = http().Post(
        Path(event), {{"reversal_id", Unique("rv-")}, {"amount_minor", 350}, {"reason", "退货"}}, a.r_key);
    ASSERT_EQ(r.status, 201) << r;
    EXPECT_EQ(r.json["debt"], 0) << r;
    EXPECT_EQ(r.json["event_id"], event) << r;
    EXPECT_TRUE(r.json["accrual_id"].is_number_integer()) << r;
    got.push_back(r.json["points_reversed"].get<std::int64_t>());
  }
  EXPECT_EQ(got, (std::vector<std::int64_t>{3, 3, 4}));
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 0) << b;
  EXPECT_EQ(b["lifetime"], 0) << b;
  EXPECT_EQ(b["debt"], 0) << b;
  EXPECT_EQ(LedgerSum(a.agent, m.member_id, "reversal"), -10);

  // Nothing is left to reverse, by amount or by points.
  auto more = http().Post(Path(event), {{"reversal_id", Unique("rv-")}, {"amount_minor", 1}, {"reason", "x"}},
                          a.r_key);
  EXPECT_TRUE(IsProblem(more, 422, "reversal_exceeds_accrual", "amount_minor"));
  EXPECT_EQ(more.json["reversible_amount_minor"], 0) << more;
  auto by_points =
      http().Post(Path(event), {{"reversal_id", Unique("rv-")}, {"points", 1}, {"reason", "x"}}, a.r_key);
  EXPECT_TRUE(IsProblem(by_points, 422, "reversal_exceeds_accrual", "points"));
}

TEST_F(ReversalTest, FullReversalByAmountAndRefusalBeyondIt) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto event = Accrue(a.t_key, m.card_no, "data", 12345, 246);  // 123.45 CNY x 2
  auto too_much =
      http().Post(Path(event),
                  {{"reversal_id", Unique("rv-")}, {"amount_minor", 12346}, {"reason", "账单更正"}}, a.t_key);
  EXPECT_TRUE(IsProblem(too_much, 422, "reversal_exceeds_accrual", "amount_minor"));
  auto full =
      http().Post(Path(event),
                  {{"reversal_id", Unique("rv-")}, {"amount_minor", 12345}, {"reason", "账单更正"}}, a.t_key);
  ASSERT_EQ(full.status, 201) << full;
  EXPECT_EQ(full.json["points_reversed"], 246) << full;
  EXPECT_EQ(full.json["points_by_source"], (json{{"T", 246}})) << full;
  EXPECT_EQ(full.json["balance"], 0) << full;
  EXPECT_EQ(Balance(a.agent, m.member_id)["lifetime"], 0);
}

TEST_F(ReversalTest, ByPointsUpToTheAccrualsPoints) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto event = Accrue(a.r_key, m.card_no, "retail", 10000, 100);
  auto r1 = http().Post(Path(event), {{"reversal_id", Unique("rv-")}, {"points", 60}, {"reason", "部分退货"}},
                        a.r_key);
  ASSERT_EQ(r1.status, 201) << r1;
  EXPECT_EQ(r1.json["points_reversed"], 60);
  EXPECT_EQ(r1.json["balance"], 40);
  auto r2 =
      http().Post(Path(event), {{"reversal_id", Unique("rv-")}, {"points", 41}, {"reason", "x"}}, a.r_key);
  EXPECT_TRUE(IsProblem(r2, 422, "reversal_exceeds_accrual", "points"));
  EXPECT_EQ(r2.json["reversible_points"], 40) << r2;
  auto r3 =
      http().Post(Path(event), {{"reversal_id", Unique("rv-")}, {"points", 40}, {"reason", "x"}}, a.r_key);
  ASSERT_EQ(r3.status, 201) << r3;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 0) << b;
  EXPECT_EQ(b["lifetime"], 0) << b;
}

TEST_F(ReversalTest, TakesFromTheAccrualsOwnLotFirst) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  Accrue(a.r_key, m.card_no, "retail", 10000, 100);                    // older lot, source R
  const auto t_event = Accrue(a.t_key, m.card_no, "voice", 5000, 50);  // source T
  auto r =
      http().Post(Path(t_event), {{"reversal_id", Unique("rv-")}, {"points", 20}, {"reason", "x"}}, a.t_key);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["points_by_source"], (json{{"T", 20}})) << r;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["by_source"], (json{{"R", 100}, {"T", 30}})) << b;
  EXPECT_EQ(b["lifetime"], 130) << b;
}

TEST_F(ReversalTest, ThenOtherLotsThenDebt) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto r_event = Accrue(a.r_key, m.card_no, "retail", 10000, 100);
  Accrue(a.t_key, m.card_no, "voice", 5000, 50);
  Spend(a, m.member_id, 120);  // earliest first: all 100 R and 20 T; 30 T left
  auto r = http().Post(
      Path(r_event), {{"reversal_id", Unique("rv-")}, {"amount_minor", 10000}, {"reason", "退货"}}, a.r_key);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["points_reversed"], 100) << r;
  EXPECT_EQ(r.json["points_by_source"], (json{{"T", 30}})) << r;
  EXPECT_EQ(r.json["debt"], 70) << r;
  EXPECT_EQ(r.json["balance"], -70) << r;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["debt"], 70) << b;
  EXPECT_EQ(b["available"], -70) << b;
  EXPECT_EQ(b["lifetime"], 50) << b;
  // One entry per source taken from, and one for the debt booked against the accrual's partner.
  std::vector<json> reversals;
  for (const auto& e : Ledger(a.agent, m.member_id)) {
    if (e["kind"] == "reversal") reversals.push_back(e);
  }
  ASSERT_EQ(reversals.size(), 2u);
  std::map<std::string, std::int64_t> by_source;
  for (const auto& e : reversals)
    by_source[e["source"].get<std::string>()] += e["points"].get<std::int64_t>();
  EXPECT_EQ(by_source, (std::map<std::string, std::int64_t>{{"R", -70}, {"T", -30}}));
}

TEST_F(ReversalTest, DebtIsRepaidByLaterAccrualsBeforePointsBecomeAvailable) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto event = Accrue(a.r_key, m.card_no, "retail", 10000, 100);
  Spend(a, m.member_id, 100);
  auto r = http().Post(Path(event), {{"reversal_id", Unique("rv-")}, {"points", 100}, {"reason", "退货"}},
                       a.r_key);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["debt"], 100) << r;
  EXPECT_EQ(r.json["points_by_source"], json::object()) << r;

  // 60 points go to the debt entirely.
  Accrue(a.t_key, m.card_no, "data", 3000, 60);
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["debt"], 40) << b;
  EXPECT_EQ(b["available"], -40) << b;
  EXPECT_EQ(b["by_source"], json::object()) << b;
  // A spend is refused while the debt is unpaid.
  auto other = Enrol(a.agent);
  auto refused = http().Post("/v1/transfers",
                             {{"request_id", Unique("t-")},
                              {"from_member", m.member_id},
                              {"to_member", other.member_id},
                              {"points", 1}},
                             a.agent);
  EXPECT_TRUE(IsProblem(refused, 422, "insufficient_points"));
  // 50 more: 40 repay the debt, 10 become available.
  Accrue(a.r_key, m.card_no, "retail", 5000, 50);
  b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["debt"], 0) << b;
  EXPECT_EQ(b["available"], 10) << b;
  EXPECT_EQ(b["by_source"], (json{{"R", 10}})) << b;
  EXPECT_EQ(b["lifetime"], 110) << b;
}

TEST_F(ReversalTest, IdempotentOnReversalId) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto event = Accrue(a.r_key, m.card_no, "retail", 10000, 100);
  const auto id = Unique("rv-");
  const json body = {{"reversal_id", id}, {"points", 30}, {"reason", "退货"}};
  auto first = http().Post(Path(event), body, a.r_key);
  ASSERT_EQ(first.status, 201) << first;
  EXPECT_EQ(first.json["reversal_id"], id);
  auto again = http().Post(Path(event), body, a.r_key);
  EXPECT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.Header("Idempotent-Replay"), "true") << again;
  EXPECT_EQ(again.json, first.json);
  auto other = http().Post(Path(event), {{"reversal_id", id}, {"points", 31}, {"reason", "退货"}}, a.r_key);
  EXPECT_TRUE(IsProblem(other, 409, "idempotency_conflict", "reversal_id"));
  // The same id and body against another accrual is another request too.
  const auto event2 = Accrue(a.r_key, m.card_no, "retail", 10000, 100);
  EXPECT_TRUE(IsProblem(http().Post(Path(event2), body, a.r_key), 409, "idempotency_conflict"));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 170);
  // A refusal is an answer too: replayed as the same 422.
  const json greedy = {{"reversal_id", Unique("rv-")}, {"points", 500}, {"reason", "x"}};
  auto refused = http().Post(Path(event), greedy, a.r_key);
  EXPECT_TRUE(IsProblem(refused, 422, "reversal_exceeds_accrual"));
  auto refused_again = http().Post(Path(event), greedy, a.r_key);
  EXPECT_TRUE(IsProblem(refused_again, 422, "reversal_exceeds_accrual"));
  EXPECT_EQ(refused_again.Header("Idempotent-Replay"), "true") << refused_again;
}

TEST_F(ReversalTest, UnknownOrSomeoneElsesEventIs404) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto event = Accrue(a.r_key, m.card_no, "retail", 10000, 100);
  const json body = {{"reversal_id", Unique("rv-")}, {"points", 1}, {"reason", "x"}};
  EXPECT_TRUE(IsProblem(http().Post(Path("no-such-event"), body, a.r_key), 404, "not_found"));
  // Partner T did not post it.
  EXPECT_TRUE(IsProblem(http().Post(Path(event), body, a.t_key), 404, "not_found"));
  // Another tenant's partner with the same code did not either.
  auto b = CreateAlliance();
  EXPECT_TRUE(IsProblem(http().Post(Path(event), body, b.r_key), 404, "not_found"));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 100);
  // A 404 does not use up the id.
  auto ok = http().Post(Path(event), body, a.r_key);
  EXPECT_EQ(ok.status, 201) << ok;
}

TEST_F(ReversalTest, BadInputIs400AndOtherRolesAre403) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto event = Accrue(a.r_key, m.card_no, "retail", 10000, 100);
  EXPECT_TRUE(IsProblem(http().Post(Path(event), {{"reversal_id", "x1"}, {"reason", "x"}}, a.r_key), 400,
                        "validation_failed", "amount_minor"));
  EXPECT_TRUE(IsProblem(
      http().Post(Path(event), {{"reversal_id", "x2"}, {"points", 1}, {"amount_minor", 100}, {"reason", "x"}},
                  a.r_key),
      400, "validation_failed", "amount_minor"));
  EXPECT_TRUE(
      IsProblem(http().Post(Path(event), {{"reversal_id", "x3"}, {"points", 0}, {"reason", "x"}}, a.r_key),
                400, "validation_failed", "points"));
  EXPECT_TRUE(IsProblem(http().Post(Path(event), {{"reversal_id", "x4"}, {"points", 1}}, a.r_key), 400,
                        "validation_failed", "reason"));
  EXPECT_TRUE(IsProblem(http().Post(Path(event), {{"points", 1}, {"reason", "x"}}, a.r_key), 400,
                        "validation_failed", "reversal_id"));
  for (const auto& key : {a.agent, a.admin, a.finance}) {
    EXPECT_TRUE(IsProblem(
        http().Post(Path(event), {{"reversal_id", "x5"}, {"points", 1}, {"reason", "x"}}, key), 403));
  }
  // An accrual posted as points is reversed by points only.
  const auto direct = NewEventId();
  auto posted = http().Post("/v1/accruals",
                            {{"event_id", direct},
                             {"member_id", m.member_id},
                             {"points", 40},
                             {"point_type", "bonus"},
                             {"occurred_at", "2026-06-01T10:00:00+08:00"}},
                            a.r_key);
  ASSERT_EQ(posted.status, 201) << posted;
  EXPECT_TRUE(IsProblem(
      http().Post(Path(direct), {{"reversal_id", "x6"}, {"amount_minor", 100}, {"reason", "x"}}, a.r_key),
      400, "validation_failed", "amount_minor"));
  auto by_points =
      http().Post(Path(direct), {{"reversal_id", "x6"}, {"points", 40}, {"reason", "x"}}, a.r_key);
  EXPECT_EQ(by_points.status, 201) << by_points;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 100);
}

TEST_F(ReversalTest, WorksForASuspendedMember) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto event = Accrue(a.r_key, m.card_no, "retail", 10000, 100);
  server().Sql("UPDATE members SET status = 'suspended' WHERE id = $1", {std::to_string(m.member_id)});
  auto r =
      http().Post(Path(event), {{"reversal_id", Unique("rv-")}, {"points", 100}, {"reason", "x"}}, a.r_key);
  EXPECT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["balance"], 0) << r;
}

TEST_F(ReversalTest, ConcurrentReversalsOfOneAccrualNeverExceedIt) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto event = Accrue(a.r_key, m.card_no, "retail", 10000, 100);
  constexpr int kThreads = 12;
  std::vector<Response> answers(kThreads);
  std::vector<std::thread> pool;
  std::atomic<int> ready{0};
  for (int i = 0; i < kThreads; ++i) {
    pool.emplace_back([&, i] {
      auto client = NewClient();
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      answers[i] = client->Post(
          Path(event), {{"reversal_id", "c" + std::to_string(i)}, {"amount_minor", 1000}, {"reason", "并发"}},
          a.r_key);
    });
  }
  for (auto& t : pool) t.join();
  int created = 0;
  for (const auto& r : answers) {
    if (r.status == 201) {
      ++created;
      EXPECT_EQ(r.json["points_reversed"], 10) << r;
    } else {
      EXPECT_TRUE(IsProblem(r, 422, "reversal_exceeds_accrual"));
    }
  }
  EXPECT_EQ(created, 10);
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 0) << b;
  EXPECT_EQ(b["lifetime"], 0) << b;
  auto verify = server().RunCli({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace unipoints::testing
