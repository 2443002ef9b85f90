// Contention is the server's to resolve: concurrent writes never lose points, never surface as
// 409/5xx, and a repeated event_id is applied once however many clients race with it.

#include <atomic>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class ConcurrencyTest : public IntegrationTest {};

TEST_F(ConcurrencyTest, ParallelAccrualsOnOneMemberLoseNothing) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  std::atomic<int> created{0};
  std::vector<std::string> failures(kThreads);
  Parallel(kThreads, [&](int t, HttpClient& client) {
    for (int i = 0; i < kEach; ++i) {
      const auto& key = t % 2 == 0 ? a.t_key : a.r_key;
      const char* category = t % 2 == 0 ? "voice" : "retail";
      auto r =
          client.Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, category, 100 * (t + 1)), key);
      if (r.status == 201) {
        ++created;
      } else if (failures[t].empty()) {
        std::ostringstream os;
        os << r;
        failures[t] = os.str();
      }
    }
  });
  for (const auto& f : failures) EXPECT_TRUE(f.empty()) << f;
  EXPECT_EQ(created.load(), kThreads * kEach);
  std::int64_t expected_t = 0, expected_r = 0;
  for (int t = 0; t < kThreads; ++t) (t % 2 == 0 ? expected_t : expected_r) += kEach * (t + 1);
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["by_source"]["T"], expected_t) << b;
  EXPECT_EQ(b["by_source"]["R"], expected_r) << b;
  EXPECT_EQ(b["available"], expected_t + expected_r) << b;
  EXPECT_EQ(b["lifetime"], expected_t + expected_r) << b;
  EXPECT_EQ(Ledger(a.agent, m.member_id).size(), static_cast<std::size_t>(kThreads * kEach));
}

TEST_F(ConcurrencyTest, RacingTheSameEventIdAppliesItOnce) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  constexpr int kThreads = 8;
  for (int round = 0; round < 5; ++round) {
    const auto event = AmountEvent(NewEventId(), m.card_no, "retail", 1000);
    std::vector<Response> answers(kThreads);
    Parallel(kThreads,
             [&](int t, HttpClient& client) { answers[t] = client.Post("/v1/accruals", event, a.r_key); });
    int created = 0, replayed = 0;
    for (const auto& r : answers) {
      if (r.status == 201) ++created;
      if (r.status == 200 && r.Header("Idempotent-Replay") == "true") ++replayed;
      EXPECT_TRUE(r.status == 201 || r.status == 200) << "round " << round << ": " << r;
    }
    EXPECT_EQ(created, 1) << "round " << round;
    EXPECT_EQ(replayed, kThreads - 1) << "round " << round;
    for (const auto& r : answers) EXPECT_EQ(r.json["accrual_id"], answers[0].json["accrual_id"]) << r;
  }
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 5 * 10);
}

TEST_F(ConcurrencyTest, RacingEnrolmentsOfOneIdNumberMakeOneMember) {
  auto a = CreateAlliance();
  const auto id = NewIdNumber();
  constexpr int kThreads = 6;
  std::vector<Response> answers(kThreads);
  Parallel(kThreads, [&](int t, HttpClient& client) {
    answers[t] = client.Post(
        "/v1/members", {{"name", "并发"}, {"gender", "other"}, {"id_type", "resident_id"}, {"id_number", id}},
        a.agent);
  });
  int created = 0;
  for (const auto& r : answers) {
    if (r.status == 201) {
      ++created;
    } else {
      EXPECT_TRUE(IsProblem(r, 409));
    }
  }
  EXPECT_EQ(created, 1);
  auto found = http().Get("/v1/members?id_number=" + id, a.agent);
  ASSERT_EQ(found.status, 200) << found;
  EXPECT_EQ(found.json["items"].size(), 1u) << found;
}

TEST_F(ConcurrencyTest, ParallelBatchesForDifferentMembersAllApply) {
  auto a = CreateAlliance();
  constexpr int kThreads = 4;
  std::vector<Enrolled> members;
  for (int i = 0; i < kThreads; ++i) members.push_back(Enrol(a.agent));
  std::vector<Response> answers(kThreads);
  Parallel(kThreads, [&](int t, HttpClient& client) {
    json events = json::array();
    for (int i = 0; i < 500; ++i) {
      // Every batch also touches member 0, so the batches contend on one member.
      const auto& card = i % 5 == 0 ? members[0].card_no : members[t].card_no;
      events.push_back(AmountEvent(Unique("pb-"), card, "retail", 100));
    }
    answers[t] = client.Post("/v1/accruals/batch", {{"events", events}}, a.r_key);
  });
  std::int64_t total = 0;
  for (const auto& r : answers) {
    ASSERT_EQ(r.status, 200) << r;
    for (const auto& res : r.json["results"]) {
      EXPECT_EQ(res["status"], "created") << res;
      total += res.value("points", 0);
    }
  }
  EXPECT_EQ(total, kThreads * 500);
  std::int64_t sum = 0;
  for (const auto& m : members) sum += Balance(a.agent, m.member_id)["available"].get<std::int64_t>();
  EXPECT_EQ(sum, kThreads * 500);
  // Member 0 got all 500 lines of batch 0 plus every fifth line (100) of each other batch.
  EXPECT_EQ(Balance(a.agent, members[0].member_id)["available"], 500 + 100 * (kThreads - 1));
}

}  // namespace
}  // namespace unipoints::testing
