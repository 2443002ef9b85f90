// Balances (available, by source, lifetime) and the ledger history (newest first, cursor pages).

#include <algorithm>
#include <atomic>
#include <set>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class BalanceTest : public IntegrationTest {};
class LedgerTest : public IntegrationTest {};

TEST_F(BalanceTest, NewMemberHasZeroBalance) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 0) << b;
  EXPECT_EQ(b["lifetime"], 0) << b;
  EXPECT_EQ(b["debt"], 0) << b;
  EXPECT_TRUE(b["by_source"].is_object() && b["by_source"].empty()) << b;
  EXPECT_TRUE(b["tier"].is_string()) << b;
  EXPECT_TRUE(b["expiring"].is_array()) << b;
}

TEST_F(BalanceTest, SplitsBySourcePartnerAndSumsToAvailable) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "data", 60000), a.t_key).status,
            201);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "voice", 3000), a.t_key).status,
            201);
  ASSERT_EQ(
      http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 30000), a.r_key).status,
      201);
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["by_source"], (json{{"T", 1230}, {"R", 300}})) << b;
  EXPECT_EQ(b["available"], 1530) << b;
  EXPECT_EQ(b["lifetime"], 1530) << b;
  EXPECT_EQ(b["debt"], 0) << b;
}

TEST_F(BalanceTest, AgentAdminAndPartnerKeysReadTheBalance) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 700), a.r_key).status,
            201);
  for (const auto& key : {a.agent, a.admin, a.t_key, a.r_key}) {
    auto r = http().Get("/v1/members/" + std::to_string(m.member_id) + "/balance", key);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.json["available"], 7) << r;
  }
}

TEST_F(BalanceTest, UnknownMemberIs404) {
  auto a = CreateAlliance();
  EXPECT_TRUE(IsProblem(http().Get("/v1/members/987654321/balance", a.agent), 404));
  EXPECT_TRUE(IsProblem(http().Get("/v1/members/987654321/ledger", a.agent), 404));
}

TEST_F(BalanceTest, ConcurrentReadsOfManyMembersOfTwoTenantsAreEachTheirOwn) {
  // Concurrent reads are grouped into one statement: each answer must still be its own member's,
  // of its own tenant, and an unknown or foreign member a 404 that fails nobody else's read.
  auto a = CreateAlliance();
  auto b = CreateAlliance();
  struct Who {
    const Alliance* alliance;
    std::int64_t member_id;
    std::int64_t points;
  };
  std::vector<Who> who;
  for (int i = 0; i < 6; ++i) {
    for (const Alliance* al : {&a, &b}) {
      auto m = Enrol(al->agent);
      const std::int64_t points = 1 + static_cast<std::int64_t>(who.size());
      ASSERT_EQ(
          http()
              .Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", points * 100), al->r_key)
              .status,
          201);
      who.push_back({al, m.member_id, points});
    }
  }
  std::atomic<int> wrong{0};
  std::atomic<int> answered{0};
  Parallel(16, [&](int t, HttpClient& client) {
    for (int i = 0; i < 40; ++i) {
      const auto& w = who[(t * 7 + i) % who.size()];
      const auto path = "/v1/members/" + std::to_string(w.member_id) + "/balance";
      if (i % 10 == 3) {
        // the same member through the other tenant's key, or no member at all
        const auto& other = w.alliance == &a ? b : a;
        if (client.Get(path, other.agent).status != 404) ++wrong;
        if (client.Get("/v1/members/987654321/balance", w.alliance->agent).status != 404) ++wrong;
        continue;
      }
      auto r = client.Get(path, w.alliance->agent);
      if (r.status != 200 || r.json["member_id"] != w.member_id || r.json["available"] != w.points ||
          r.json["lifetime"] != w.points || r.json["by_source"] != json{{"R", w.points}}) {
        ++wrong;
        ADD_FAILURE() << r;
      }
      ++answered;
    }
  });
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(answered.load(), 16 * 36);
}

TEST_F(LedgerTest, NewestFirstWithEveryEntryExactlyOnceAcrossPages) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  std::int64_t total = 0;
  for (int i = 1; i <= 23; ++i) {
    auto r = http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", i * 100), a.r_key);
    ASSERT_EQ(r.status, 201) << r;
    total += i;
  }
  std::vector<std::int64_t> seqs;
  std::vector<std::int64_t> points;
  std::string after;
  int pages = 0;
  for (;;) {
    std::string target = "/v1/members/" + std::to_string(m.member_id) + "/ledger?limit=5";
    if (!after.empty()) target += "&after=" + UrlEncode(after);
    auto r = http().Get(target, a.agent);
    ASSERT_EQ(r.status, 200) << r;
    ASSERT_TRUE(r.json["items"].is_array()) << r;
    EXPECT_LE(r.json["items"].size(), 5u) << r;
    ++pages;
    if (pages == 2) {
      // Entries written while a client pages must not shift what it sees.
      ASSERT_EQ(
          http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 9900), a.r_key).status,
          201);
    }
    for (const auto& e : r.json["items"]) {
      seqs.push_back(e["seq"].get<std::int64_t>());
      points.push_back(e["points"].get<std::int64_t>());
      EXPECT_EQ(e["kind"], "accrual");
      EXPECT_EQ(e["source"], "R");
    }
    ASSERT_TRUE(r.json.contains("next")) << r;
    if (r.json["next"].is_null()) break;
    after = r.json["next"].is_string() ? r.json["next"].get<std::string>() : r.json["next"].dump();
    ASSERT_LT(pages, 50) << "pagination does not end";
  }
  EXPECT_EQ(pages, 5);
  ASSERT_EQ(seqs.size(), 23u) << "each of the 23 entries exactly once";
  EXPECT_TRUE(std::is_sorted(seqs.rbegin(), seqs.rend())) << "not newest first";
  EXPECT_EQ(std::set<std::int64_t>(seqs.begin(), seqs.end()).size(), 23u) << "an entry came twice";
  // Newest first: the 23rd accrual (23 points) first, the first (1 point) last.
  EXPECT_EQ(points.front(), 23);
  EXPECT_EQ(points.back(), 1);
  std::int64_t sum = 0;
  for (auto p : points) sum += p;
  EXPECT_EQ(sum, total);

  auto fresh = Ledger(a.agent, m.member_id, 1000);
  ASSERT_EQ(fresh.size(), 24u);
  EXPECT_EQ(fresh.front()["points"], 99) << "the entry written while paging is the newest";
}

TEST_F(LedgerTest, LastFullPageHasNullNextOrAnEmptyFollowingPage) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(
        http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 100), a.r_key).status,
        201);
  }
  auto all = Ledger(a.agent, m.member_id, 2);
  EXPECT_EQ(all.size(), 4u);
}

TEST_F(LedgerTest, InvalidLimitOrCursorIs400) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto base = "/v1/members/" + std::to_string(m.member_id) + "/ledger";
  EXPECT_TRUE(IsProblem(http().Get(base + "?limit=0", a.agent), 400, {}, "limit"));
  EXPECT_TRUE(IsProblem(http().Get(base + "?limit=100000", a.agent), 400, {}, "limit"));
  EXPECT_TRUE(IsProblem(http().Get(base + "?limit=abc", a.agent), 400, {}, "limit"));
  EXPECT_TRUE(IsProblem(http().Get(base + "?after=%27%3B%20DROP", a.agent), 400, {}, "after"));
}

TEST_F(LedgerTest, PartnerKeySeesOnlyItsOwnEntries) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "data", 1000), a.t_key).status,
            201);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 1000), a.r_key).status,
            201);
  auto t_view = Ledger(a.t_key, m.member_id);
  ASSERT_EQ(t_view.size(), 1u);
  EXPECT_EQ(t_view[0]["source"], "T");
  EXPECT_EQ(Ledger(a.agent, m.member_id).size(), 2u);
}

}  // namespace
}  // namespace unipoints::testing
