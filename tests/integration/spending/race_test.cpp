// Redemptions racing a reversal of the accrual that funded them: the reversal always succeeds,
// no redemption spends a reversed point, and what was spent before the reversal becomes debt.

#include <atomic>
#include <thread>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class RedemptionRaceTest : public IntegrationTest {};

TEST_F(RedemptionRaceTest, RedemptionsRacingAReversalNeverOverspend) {
  auto a = CreateAlliance();
  auto member = Enrol(a.agent);
  ASSERT_EQ(
      http()
          .Post("/v1/rewards",
                {{"code", "DATA100"}, {"partner", "T"}, {"name", "100MB"}, {"price", {{"points", 100}}}},
                a.admin)
          .status,
      201);
  const auto event_id = NewEventId();
  auto accrual = http().Post("/v1/accruals",
                             {{"event_id", event_id},
                              {"card_no", member.card_no},
                              {"points", 1000},
                              {"point_type", "bonus"},
                              {"occurred_at", "2026-06-01T10:00:00+08:00"}},
                             a.t_key);
  ASSERT_EQ(accrual.status, 201) << accrual;

  constexpr int kRedemptions = 20;
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i <= kRedemptions; ++i) clients.push_back(NewClient());
  std::atomic<int> ready{0};
  std::atomic<int> created{0}, refused{0}, other{0};
  Response reversal;
  std::vector<std::thread> threads;
  for (int i = 0; i <= kRedemptions; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() <= kRedemptions) std::this_thread::yield();
      if (i == kRedemptions / 2) {
        reversal = clients[i]->Post(
            "/v1/accruals/" + event_id + "/reversals",
            {{"reversal_id", "rev-all"}, {"points", 1000}, {"reason", "billing correction"}}, a.t_key);
        return;
      }
      auto r = clients[i]->Post("/v1/redemptions",
                                {{"request_id", "race-" + std::to_string(i)},
                                 {"member_id", member.member_id},
                                 {"reward", "DATA100"}},
                                a.t_key);
      if (r.status == 201) {
        ++created;
      } else if (r.status == 422 && r.json.value("code", "") == "insufficient_points") {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();

  ASSERT_EQ(reversal.status, 201) << reversal;
  EXPECT_EQ(reversal.json["points_reversed"], 1000) << reversal;
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(created.load() + refused.load(), kRedemptions);
  EXPECT_LE(created.load(), 10);
  // Every point spent before the reversal is owed back; nothing else moved.
  auto balance = Balance(a.agent, member.member_id);
  EXPECT_EQ(balance["debt"], 100 * created.load()) << balance;
  EXPECT_EQ(balance["available"], -100 * created.load()) << balance;
  EXPECT_EQ(balance["lifetime"], 0) << balance;

  auto verify = server().RunCli({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace unipoints::testing
