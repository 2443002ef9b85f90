// Group commit: concurrent single accruals share transactions (a wide window here makes sure they
// do), and what each request is told stays exact: its own accrual id, and the member's balance
// right after its own event even when the same transaction holds several events of that member,
// debt repaid in the order the events were applied, repeated ids answered once.

#include <atomic>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class GroupCommitTest : public IntegrationTest {
 public:
  static void SetUpTestSuite() {
    StartSuite(ServerOptions{{{"UNIPOINTS_GROUP_COMMIT_WINDOW_US", "30000"},
                              {"UNIPOINTS_GROUP_COMMIT_MAX_EVENTS", "64"},
                              {"UNIPOINTS_GROUP_COMMIT_WRITERS", "2"}}});
  }

 protected:
  static json PointsEvent(const std::string& event_id, const std::string& card_no, std::int64_t points) {
    return {{"event_id", event_id},
            {"card_no", card_no},
            {"points", points},
            {"occurred_at", "2026-06-01T10:00:00+08:00"}};
  }

  std::int64_t Counter(const std::string& name) {
    auto r = http().Get("/metrics");
    std::smatch m;
    const std::regex line("\n" + name + " ([0-9]+)\n");
    return std::regex_search(r.body, m, line) ? std::stoll(m[1]) : 0;
  }

  static std::string Describe(const Response& r) {
    std::ostringstream os;
    os << r;
    return os.str();
  }
};

TEST_F(GroupCommitTest, ConcurrentAccrualsShareTransactionsAndEachAnswerIsExact) {
  auto a = CreateAlliance();
  std::vector<Enrolled> members;
  for (int i = 0; i < 4; ++i) members.push_back(Enrol(a.agent));
  const auto batches_before = Counter("unipoints_group_commit_batches_total");
  const auto events_before = Counter("unipoints_group_commit_events_total");

  constexpr int kThreads = 24;
  constexpr int kEach = 6;
  struct Sent {
    std::int64_t member_id;
    std::int64_t points;
    Response answer;
  };
  std::vector<std::vector<Sent>> sent(kThreads);
  Parallel(kThreads, [&](int t, HttpClient& client) {
    for (int i = 0; i < kEach; ++i) {
      const auto& m = members[(t + i) % members.size()];
      const std::int64_t points = 1 + t * kEach + i;  // distinct, so answers can be told apart
      const auto& key = t % 2 == 0 ? a.t_key : a.r_key;
      sent[t].push_back({m.member_id, points,
                         client.Post("/v1/accruals", PointsEvent(NewEventId(), m.card_no, points), key)});
    }
  });

  // Per member, in accrual id order (the order the events were applied), each answer's balance
  // is the previous one plus the event's own points.
  std::map<std::int64_t, std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>>> by_member;
  std::int64_t total = 0;
  for (const auto& list : sent) {
    for (const auto& s : list) {
      ASSERT_EQ(s.answer.status, 201) << Describe(s.answer);
      EXPECT_EQ(s.answer.json["points"], s.points) << s.answer;
      EXPECT_EQ(s.answer.json["member_id"], s.member_id) << s.answer;
      const auto id = s.answer.json["accrual_id"].get<std::int64_t>();
      EXPECT_TRUE(by_member[s.member_id]
                      .emplace(id, std::make_pair(s.points, s.answer.json["balance"].get<std::int64_t>()))
                      .second)
          << "accrual id " << id << " answered twice";
      total += s.points;
    }
  }
  std::int64_t sum_of_balances = 0;
  for (const auto& m : members) {
    std::int64_t running = 0;
    for (const auto& [id, pb] : by_member[m.member_id]) {
      running += pb.first;
      EXPECT_EQ(pb.second, running) << "member " << m.member_id << " accrual " << id;
    }
    auto b = Balance(a.agent, m.member_id);
    EXPECT_EQ(b["available"], running) << b;
    EXPECT_EQ(b["lifetime"], running) << b;
    sum_of_balances += running;
    EXPECT_EQ(Ledger(a.agent, m.member_id).size(), by_member[m.member_id].size());
  }
  EXPECT_EQ(sum_of_balances, total);

  // The events went through the group commit, several per transaction.
  const auto batches = Counter("unipoints_group_commit_batches_total") - batches_before;
  const auto events = Counter("unipoints_group_commit_events_total") - events_before;
  EXPECT_EQ(events, kThreads * kEach);
  EXPECT_GT(batches, 0);
  EXPECT_LT(batches, events / 2) << "concurrent accruals were not grouped";
  auto v = server().RunCli({"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(GroupCommitTest, DebtIsRepaidInOrderWhenOneTransactionHoldsSeveralEventsOfTheMember) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  auto other = Enrol(a.agent);
  // 150 points of debt: earn 150, give them away, reverse the accrual.
  const auto first = NewEventId();
  ASSERT_EQ(http().Post("/v1/accruals", PointsEvent(first, m.card_no, 150), a.r_key).status, 201);
  ASSERT_EQ(http()
                .Post("/v1/transfers",
                      {{"request_id", Unique("spend-")},
                       {"from_member", m.member_id},
                       {"to_member", other.member_id},
                       {"points", 150}},
                      a.agent)
                .status,
            201);
  auto rv = http().Post("/v1/accruals/" + first + "/reversals",
                        {{"reversal_id", Unique("rv-")}, {"points", 150}, {"reason", "退货"}}, a.r_key);
  ASSERT_EQ(rv.status, 201) << rv;
  ASSERT_EQ(rv.json["debt"], 150) << rv;

  constexpr int kThreads = 4;
  std::vector<Response> answers(kThreads);
  Parallel(kThreads, [&](int t, HttpClient& client) {
    answers[t] = client.Post("/v1/accruals", PointsEvent(NewEventId(), m.card_no, 100), a.t_key);
  });
  std::map<std::int64_t, std::int64_t> balance_by_id;
  for (const auto& r : answers) {
    ASSERT_EQ(r.status, 201) << r;
    balance_by_id[r.json["accrual_id"].get<std::int64_t>()] = r.json["balance"].get<std::int64_t>();
  }
  std::vector<std::int64_t> balances;
  for (const auto& [id, b] : balance_by_id) balances.push_back(b);
  EXPECT_EQ(balances, (std::vector<std::int64_t>{-50, 50, 150, 250}));
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["debt"], 0) << b;
  EXPECT_EQ(b["available"], 250) << b;
  EXPECT_EQ(b["by_source"], json({{"T", 250}})) << b;
  // The first event's lot repaid 100, the second 50: lots keep what was not repaid.
  auto lots =
      server().Sql("SELECT remaining FROM lots WHERE member_id = " + std::to_string(m.member_id) +
                   " AND source_partner_id = (SELECT id FROM partners WHERE code = 'T' AND tenant_id = " +
                   std::to_string(a.tenant.id()) + ") ORDER BY id");
  std::vector<std::string> remaining;
  for (const auto& row : lots) remaining.push_back(row[0].value_or("NULL"));
  EXPECT_EQ(remaining, (std::vector<std::string>{"0", "50", "100", "100"}));
  auto v = server().RunCli({"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(GroupCommitTest, OneIdTwiceInOneTransactionWithAnotherBodyIsAConflictAndAppliesOnce) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto id = NewEventId();
  std::vector<Response> answers(2);
  Parallel(2, [&](int t, HttpClient& client) {
    answers[t] = client.Post("/v1/accruals", PointsEvent(id, m.card_no, t == 0 ? 10 : 20), a.r_key);
  });
  int created = 0, conflicts = 0;
  std::int64_t points = 0;
  for (const auto& r : answers) {
    if (r.status == 201) {
      ++created;
      points = r.json["points"].get<std::int64_t>();
    }
    if (r.status == 409) {
      ++conflicts;
      EXPECT_EQ(r.ContentType(), "application/problem+json") << r;
    }
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(conflicts, 1);
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], points);
}

TEST_F(GroupCommitTest, RefusalsInATransactionDoNotHoldBackTheOthers) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  auto lost = Enrol(a.agent);
  ASSERT_EQ(http().Post("/v1/cards/" + lost.card_no + "/report-lost", json::object(), a.agent).status, 200);
  constexpr int kThreads = 6;
  std::vector<Response> answers(kThreads);
  std::vector<std::string> ids(kThreads);
  for (auto& id : ids) id = NewEventId();
  Parallel(kThreads, [&](int t, HttpClient& client) {
    json event = t == 0   ? PointsEvent(ids[t], lost.card_no, 5)
                 : t == 1 ? PointsEvent(ids[t], UnissuedCardNumber(), 5)
                 : t == 2 ? AmountEvent(ids[t], m.card_no, "no-such-category", 100)
                          : PointsEvent(ids[t], m.card_no, 5);
    answers[t] = client.Post("/v1/accruals", event, a.r_key);
  });
  EXPECT_EQ(answers[0].json["type"].get<std::string>().ends_with("card_lost"), true) << answers[0];
  EXPECT_EQ(answers[1].json["type"].get<std::string>().ends_with("unknown_card"), true) << answers[1];
  EXPECT_EQ(answers[2].json["type"].get<std::string>().ends_with("unknown_category"), true) << answers[2];
  for (int t = 0; t < 3; ++t) EXPECT_EQ(answers[t].status, 422) << answers[t];
  for (int t = 3; t < kThreads; ++t) EXPECT_EQ(answers[t].status, 201) << answers[t];
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 5 * (kThreads - 3));
  // Refusals are stored answers: the same request again replays them.
  auto again = http().Post("/v1/accruals", PointsEvent(ids[0], lost.card_no, 5), a.r_key);
  EXPECT_EQ(again.status, 422) << again;
  EXPECT_EQ(again.Header("Idempotent-Replay"), "true") << again;
}

}  // namespace
}  // namespace unipoints::testing
