// Point expiry: instants computed in the tenant's time zone, the expiry job (idempotent, one entry per
// lot, carry-over), earliest-expiry-first consumption, the scheduler and a redemption racing the job.
// The server's clock is set by the tests; nothing sleeps for a boundary.

#include <atomic>
#include <set>
#include <thread>

#include "lots/time_fixture.hpp"

namespace unipoints::testing {
namespace {

class ExpiryTest : public TimeTest {
 protected:
  // The member's ledger entries of one kind, oldest first.
  std::vector<json> Entries(const std::string& key, std::int64_t member, const std::string& kind) {
    std::vector<json> out;
    auto all = Ledger(key, member);
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if ((*it)["kind"] == kind) out.push_back(*it);
    }
    return out;
  }
};

TEST_F(ExpiryTest, ReferenceCaseEarned20240305ExpiresAtTheEndOf2026InShanghai) {
  SetClock("2024-03-05T12:00:00+08:00");
  auto a = CreateAlliance();
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}}});
  auto m = Enrol(a.agent);
  auto accrual = Points(a.t_key, m.member_id, 500, "2024-03-05T10:00:00+08:00");
  // 2026-12-31 24:00 Asia/Shanghai is 2026-12-31T16:00:00Z.
  EXPECT_EQ(accrual["expires_at"], "2026-12-31T16:00:00Z") << accrual;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["expiring"], json::parse(R"([{"expires_at":"2026-12-31T16:00:00Z","points":500}])")) << b;

  // The last second of 2026 in Shanghai: still spendable, and the job expires nothing.
  SetClock("2026-12-31T23:59:59+08:00");
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 500);
  EXPECT_EQ(Expire(a.admin)["lots_expired"], 0);
  // Midnight: gone from the balance at once, whether or not the job has run.
  SetClock("2027-01-01T00:00:00+08:00");
  b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 0) << b;
  EXPECT_EQ(b["expiring"], json::array()) << b;
  EXPECT_EQ(b["lifetime"], 500) << b;
  auto counts = Expire(a.admin);
  EXPECT_EQ(counts["lots_expired"], 1) << counts;
  EXPECT_EQ(counts["points_expired"], 500) << counts;
  EXPECT_EQ(counts["by_source"]["T"]["points_expired"], 500) << counts;
  // Running it again for the same instant expires nothing more.
  EXPECT_EQ(Expire(a.admin)["lots_expired"], 0);
  EXPECT_EQ(Expire(a.admin, "2027-01-01T00:00:00+08:00")["points_expired"], 0);
  auto expiries = Entries(a.agent, m.member_id, "expiry");
  ASSERT_EQ(expiries.size(), 1u);
  EXPECT_EQ(expiries[0]["points"], -500);
  EXPECT_EQ(expiries[0]["source"], "T");
  EXPECT_EQ(expiries[0]["at"], "2026-12-31T16:00:00Z");
  b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 0) << b;
  EXPECT_EQ(b["lifetime"], 500) << b;  // expiry never lowers lifetime
  ExpectVerified();
}

TEST_F(ExpiryTest, CalendarYearIsTheTenantsYearNotUtcs) {
  SetClock("2025-06-01T00:00:00+08:00");
  auto a = CreateAlliance();
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}}});
  auto m = Enrol(a.agent);
  // 2024-12-31 23:59:59 local is still 2024: expires at the end of 2026.
  EXPECT_EQ(Points(a.t_key, m.member_id, 1, "2024-12-31T23:59:59+08:00")["expires_at"],
            "2026-12-31T16:00:00Z");
  // 2024-12-31T16:00:00Z is 2025-01-01 00:00 local: a 2025 point, expiring at the end of 2027.
  EXPECT_EQ(Points(a.t_key, m.member_id, 1, "2024-12-31T16:00:00Z")["expires_at"], "2027-12-31T16:00:00Z");
  // N = 1: the end of the year earned.
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 1}}}});
  EXPECT_EQ(Points(a.t_key, m.member_id, 1, "2025-03-05T10:00:00+08:00")["expires_at"],
            "2025-12-31T16:00:00Z");
}

TEST_F(ExpiryTest, MonthsAfterEarningClampToTheMonthsLastDay) {
  SetClock("2026-01-31T12:00:00+08:00");
  auto a = CreateAlliance();
  PutPolicy(a.admin, {{"expiry", {{"kind", "months"}, {"n", 1}}}});
  auto m = Enrol(a.agent);
  // Jan 31 + 1 month = Feb 28 (2026), same local time of day; Feb 29 in a leap year.
  EXPECT_EQ(Points(a.t_key, m.member_id, 1, "2026-01-31T10:00:00+08:00")["expires_at"],
            "2026-02-28T02:00:00Z");
  EXPECT_EQ(Points(a.t_key, m.member_id, 1, "2024-01-31T10:00:00+08:00")["expires_at"],
            "2024-02-29T02:00:00Z");
  // Mar 31 + 1 month = Apr 30; Jan 15 + 1 month = Feb 15.
  EXPECT_EQ(Points(a.t_key, m.member_id, 1, "2025-03-31T23:30:00+08:00")["expires_at"],
            "2025-04-30T15:30:00Z");
  EXPECT_EQ(Points(a.t_key, m.member_id, 1, "2026-01-15T08:00:00+08:00")["expires_at"],
            "2026-02-15T00:00:00Z");
}

TEST_F(ExpiryTest, PerPointTypePolicyAndNever) {
  SetClock("2026-03-01T12:00:00+08:00");
  auto a = CreateAlliance();
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 2}}},
                      {"by_point_type",
                       {{"tenure", {{"kind", "months"}, {"n", 6}}}, {"credit", {{"kind", "never"}}}}}});
  auto m = Enrol(a.agent);
  EXPECT_EQ(Points(a.t_key, m.member_id, 1, "2026-02-10T10:00:00+08:00", "bonus")["expires_at"],
            "2027-12-31T16:00:00Z");
  EXPECT_EQ(Points(a.t_key, m.member_id, 1, "2026-02-10T10:00:00+08:00", "tenure")["expires_at"],
            "2026-08-10T02:00:00Z");
  EXPECT_TRUE(Points(a.t_key, m.member_id, 1, "2026-02-10T10:00:00+08:00", "credit")["expires_at"].is_null());
}

TEST_F(ExpiryTest, ChangingThePolicyAffectsOnlyLotsEarnedAfterwards) {
  SetClock("2026-03-01T12:00:00+08:00");
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  // Until a policy is set, points never expire, and stay so.
  EXPECT_TRUE(Points(a.t_key, m.member_id, 10, "2026-02-01T10:00:00+08:00")["expires_at"].is_null());
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}}});
  EXPECT_EQ(Points(a.t_key, m.member_id, 20, "2026-02-01T10:00:00+08:00")["expires_at"],
            "2028-12-31T16:00:00Z");
  PutPolicy(a.admin, {{"expiry", {{"kind", "months"}, {"n", 6}}}});
  EXPECT_EQ(Points(a.t_key, m.member_id, 30, "2026-02-01T10:00:00+08:00")["expires_at"],
            "2026-08-01T02:00:00Z");
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["expiring"], json::parse(R"([{"expires_at":"2026-08-01T02:00:00Z","points":30},
                                            {"expires_at":"2028-12-31T16:00:00Z","points":20}])"))
      << b;
  EXPECT_EQ(b["available"], 60) << b;
}

TEST_F(ExpiryTest, CarryOverMovesAFlooredShareIntoALotExpiringAtTheNextBoundaryOnce) {
  SetClock("2025-02-10T12:00:00+08:00");
  auto a = CreateAlliance();
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 1}}}, {"carry_over_percent", 50}});
  auto m = Enrol(a.agent);
  auto other = Enrol(a.agent);
  Points(a.t_key, m.member_id, 333, "2025-01-05T10:00:00+08:00");  // 50% of 333 = 166.5 -> 166
  Points(a.r_key, m.member_id, 1, "2025-01-05T10:00:00+08:00");    // 50% of 1 = 0.5 -> 0: no carry lot
  Points(a.t_key, other.member_id, 7, "2025-02-05T10:00:00+08:00");
  SetClock("2026-01-05T12:00:00+08:00");
  Points(a.t_key, m.member_id, 100, "2026-01-05T10:00:00+08:00");  // expires a year later
  auto counts = Expire(a.admin);
  EXPECT_EQ(counts["lots_expired"], 3) << counts;
  EXPECT_EQ(counts["points_expired"], 341) << counts;
  EXPECT_EQ(counts["points_carried_over"], 169) << counts;  // 166 + 0 + 3
  EXPECT_EQ(counts["carry_over_lots"], 2) << counts;
  EXPECT_EQ(counts["by_source"]["R"]["points_carried_over"], 0) << counts;
  // The carried points keep their source and expire at the next boundary, the end of 2026.
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 266) << b;
  EXPECT_EQ(b["by_source"], (json{{"T", 266}})) << b;
  EXPECT_EQ(b["expiring"], json::parse(R"([{"expires_at":"2026-12-31T16:00:00Z","points":266}])")) << b;
  // One expiry entry per lot and one carry_over entry per carried lot, with the lot's source.
  auto expiries = Entries(a.agent, m.member_id, "expiry");
  ASSERT_EQ(expiries.size(), 2u);
  EXPECT_EQ(expiries[0]["points"], -333);
  EXPECT_EQ(expiries[1]["points"], -1);
  EXPECT_EQ(expiries[1]["source"], "R");
  auto carried = Entries(a.agent, m.member_id, "carry_over");
  ASSERT_EQ(carried.size(), 1u);
  EXPECT_EQ(carried[0]["points"], 166);
  EXPECT_EQ(carried[0]["source"], "T");
  EXPECT_EQ(carried[0]["ref"], expiries[0]["ref"]);  // "lot:<id>" of the lot it came from
  // A year later the carried lot expires whole: carried points are not carried again.
  SetClock("2027-01-01T00:00:05+08:00");
  counts = Expire(a.admin);
  EXPECT_EQ(counts["lots_expired"], 3) << counts;          // 100, the carried 166 and the carried 3
  EXPECT_EQ(counts["points_carried_over"], 50) << counts;  // 50% of the 100 only
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 50);
  EXPECT_EQ(Balance(a.agent, other.member_id)["available"], 0);
  ExpectVerified();
}

TEST_F(ExpiryTest, NoCarryLotIsMadeThatWouldAlreadyHaveExpiredAndASecondRunExpiresNothing) {
  SetClock("2028-12-31T23:59:00+08:00");
  auto a = CreateAlliance();
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 1}}}, {"carry_over_percent", 50}});
  auto m = Enrol(a.agent);
  // Late: earned in 2026, expired at the end of 2026; a carry lot would have expired at the end of 2027.
  Points(a.t_key, m.member_id, 400, "2026-06-01T10:00:00+08:00");
  Points(a.t_key, m.member_id, 300, "2027-06-01T10:00:00+08:00");  // expired at the end of 2027: carried
  Points(a.t_key, m.member_id, 50, "2028-06-01T10:00:00+08:00");   // live until the end of 2028
  auto counts = Expire(a.admin);
  EXPECT_EQ(counts["lots_expired"], 2) << counts;
  EXPECT_EQ(counts["points_expired"], 700) << counts;
  EXPECT_EQ(counts["points_carried_over"], 150) << counts;  // 50% of 300; none of the 400
  EXPECT_EQ(counts["carry_over_lots"], 1) << counts;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 200) << b;
  EXPECT_EQ(b["expiring"], json::parse(R"([{"expires_at":"2028-12-31T16:00:00Z","points":200}])")) << b;
  EXPECT_EQ(Entries(a.agent, m.member_id, "carry_over").size(), 1u);
  // Nothing happened since: the same run again expires nothing.
  counts = Expire(a.admin);
  EXPECT_EQ(counts["lots_expired"], 0) << counts;
  EXPECT_EQ(counts["points_expired"], 0) << counts;
  ExpectVerified();
}

TEST_F(ExpiryTest, RedemptionsConsumeEarliestExpiryFirstAcrossYears) {
  SetClock("2026-06-01T12:00:00+08:00");
  auto a = CreateAlliance();
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}}});
  ASSERT_EQ(
      http()
          .Post("/v1/rewards",
                {{"code", "P150"}, {"partner", "T"}, {"name", "150"}, {"price", {{"points", 150}}}}, a.admin)
          .status,
      201);
  auto m = Enrol(a.agent);
  // Posted newest first, so that id order differs from expiry order.
  Points(a.t_key, m.member_id, 100, "2026-02-01T10:00:00+08:00");  // expires end of 2028
  Points(a.r_key, m.member_id, 100, "2025-02-01T10:00:00+08:00");  // end of 2027
  Points(a.t_key, m.member_id, 100, "2024-02-01T10:00:00+08:00");  // end of 2026
  auto r =
      http().Post("/v1/redemptions",
                  {{"request_id", Unique("red-")}, {"member_id", m.member_id}, {"reward", "P150"}}, a.t_key);
  ASSERT_EQ(r.status, 201) << r;
  // 100 from the 2024 lot (T), then 50 from the 2025 lot (R).
  EXPECT_EQ(r.json["points_by_source"], (json{{"T", 100}, {"R", 50}})) << r;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["expiring"], json::parse(R"([{"expires_at":"2027-12-31T16:00:00Z","points":50},
                                            {"expires_at":"2028-12-31T16:00:00Z","points":100}])"))
      << b;
  // At the end of 2026 nothing is left to expire: the earliest lot was spent first.
  SetClock("2027-01-01T00:00:00+08:00");
  EXPECT_EQ(Expire(a.admin)["points_expired"], 0);
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 150);
}

TEST_F(ExpiryTest, AnAccrualsBalanceLeavesOutLotsPastExpiryTheJobHasNotTakenYet) {
  SetClock("2025-06-01T12:00:00+08:00");
  auto a = CreateAlliance();
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 1}}}});
  auto m = Enrol(a.agent);
  auto other = Enrol(a.agent);
  EXPECT_EQ(Points(a.t_key, m.member_id, 500, "2025-03-05T10:00:00+08:00")["balance"], 500);
  // Past that lot's expiry (the end of 2025), the job not run: each answer counts only what is
  // still spendable, for the member with such a lot and for one without (in a tenant with one).
  SetClock("2026-02-01T12:00:00+08:00");
  auto late = Points(a.t_key, m.member_id, 70, "2026-02-01T10:00:00+08:00");
  EXPECT_EQ(late["balance"], 70) << late;
  EXPECT_EQ(late["expires_at"], "2026-12-31T16:00:00Z") << late;
  EXPECT_EQ(Points(a.t_key, other.member_id, 5, "2026-02-01T10:00:00+08:00")["balance"], 5);
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 70);
  EXPECT_EQ(Expire(a.admin)["points_expired"], 500);
  EXPECT_EQ(Points(a.t_key, m.member_id, 1, "2026-02-01T11:00:00+08:00")["balance"], 71);
  ExpectVerified();
}

TEST_F(ExpiryTest, LedgerEntriesJoiningAndCardsAreDatedByTheBusinessClock) {
  SetClock("2024-03-05T12:00:00+08:00");
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  auto other = Enrol(a.agent);
  auto accrual = Points(a.t_key, m.member_id, 500, "2024-03-01T10:00:00+08:00");
  auto r = http().Post("/v1/transfers",
                       {{"request_id", Unique("tr-")},
                        {"from_member", m.member_id},
                        {"to_member", other.member_id},
                        {"points", 100}},
                       a.agent);
  ASSERT_EQ(r.status, 201) << r;
  r = http().Post(
      "/v1/adjustments",
      {{"request_id", Unique("adj-")}, {"member_id", m.member_id}, {"points", -10}, {"reason", "test"}},
      a.agent);
  ASSERT_EQ(r.status, 201) << r;
  r = http().Post("/v1/accruals/" + accrual["event_id"].get<std::string>() + "/reversals",
                  {{"reversal_id", Unique("rv-")}, {"points", 5}, {"reason", "returned"}}, a.t_key);
  ASSERT_EQ(r.status, 201) << r;
  std::set<std::string> kinds;
  for (const auto& member : {m.member_id, other.member_id}) {
    for (const auto& entry : Ledger(a.agent, member)) {
      EXPECT_EQ(entry["at"], "2024-03-05T04:00:00Z") << entry;
      kinds.insert(entry["kind"].get<std::string>());
    }
  }
  EXPECT_EQ(kinds,
            (std::set<std::string>{"accrual", "transfer_out", "transfer_in", "adjustment", "reversal"}));
  // So are a member's joining and cards.
  auto profile = http().Get("/v1/members/" + std::to_string(m.member_id), a.agent);
  ASSERT_EQ(profile.status, 200) << profile;
  EXPECT_EQ(profile.json["joined_at"], "2024-03-05T04:00:00Z") << profile;
  ASSERT_EQ(profile.json["cards"].size(), 1u) << profile;
  EXPECT_EQ(profile.json["cards"][0]["issued_at"], "2024-03-05T04:00:00Z") << profile;
  SetClock("2024-04-01T09:30:00+08:00");
  r = http().Post("/v1/members/" + std::to_string(m.member_id) + "/cards", json::object(), a.agent);
  ASSERT_EQ(r.status, 201) << r;
  profile = http().Get("/v1/members/" + std::to_string(m.member_id), a.agent);
  ASSERT_EQ(profile.json["cards"].size(), 2u) << profile;
  for (const auto& card : profile.json["cards"]) {
    const bool replacement = card["card_no"] == r.json["card_no"];
    EXPECT_EQ(card["issued_at"], replacement ? "2024-04-01T01:30:00Z" : "2024-03-05T04:00:00Z") << profile;
  }
  ExpectVerified();
}

TEST_F(ExpiryTest, ALateAccrualWhosePointsHaveExpiredIsAcceptedAsAnExpiredLot) {
  SetClock("2027-02-01T12:00:00+08:00");
  auto a = CreateAlliance();
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}}});
  auto m = Enrol(a.agent);
  auto accrual = Points(a.t_key, m.member_id, 40, "2023-05-01T10:00:00+08:00");
  EXPECT_EQ(accrual["expires_at"], "2025-12-31T16:00:00Z") << accrual;
  EXPECT_EQ(accrual["balance"], 0) << accrual;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 0) << b;
  EXPECT_EQ(b["lifetime"], 40) << b;
  EXPECT_EQ(b["expiring"], json::array()) << b;
  EXPECT_EQ(Expire(a.admin)["points_expired"], 40);
  ExpectVerified();
}

TEST_F(ExpiryTest, ALateAccrualWhosePointsHaveExpiredRepaysNoDebt) {
  SetClock("2027-02-01T12:00:00+08:00");
  auto a = CreateAlliance();
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}}});
  auto m = Enrol(a.agent);
  // 50 points spent, then the accrual reversed: a debt of 50.
  auto live = Points(a.t_key, m.member_id, 50, "2027-01-20T10:00:00+08:00");
  ASSERT_EQ(
      http()
          .Post(
              "/v1/adjustments",
              {{"request_id", Unique("adj-")}, {"member_id", m.member_id}, {"points", -50}, {"reason", "x"}},
              a.agent)
          .status,
      201);
  auto reversal =
      http().Post("/v1/accruals/" + live["event_id"].get<std::string>() + "/reversals",
                  {{"reversal_id", Unique("rev-")}, {"points", 50}, {"reason", "billing error"}}, a.t_key);
  ASSERT_EQ(reversal.status, 201) << reversal;
  ASSERT_EQ(reversal.json["debt"], 50) << reversal;
  // Points that expired before they arrived are never available, so they repay nothing.
  auto late = Points(a.t_key, m.member_id, 40, "2023-05-01T10:00:00+08:00");
  EXPECT_EQ(late["balance"], -50) << late;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["debt"], 50) << b;
  EXPECT_EQ(b["available"], -50) << b;
  // A live accrual repays it.
  Points(a.t_key, m.member_id, 60, "2027-01-25T10:00:00+08:00");
  b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["debt"], 0) << b;
  EXPECT_EQ(b["available"], 10) << b;
  EXPECT_EQ(Expire(a.admin)["points_expired"], 40);
  ExpectVerified();
}

TEST_F(ExpiryTest, TheSchedulerExpiresDueLotsAndCatchesUpAMissedBoundary) {
  SetClock("2025-03-01T12:00:00+08:00");
  auto a = CreateAlliance();
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 1}}}});
  auto m = Enrol(a.agent);
  Points(a.t_key, m.member_id, 10, "2025-03-01T10:00:00+08:00");
  // Nothing is due before the boundary.
  RunScheduler();
  EXPECT_TRUE(Entries(a.agent, m.member_id, "expiry").empty());
  SetClock("2026-03-01T12:00:00+08:00");
  Points(a.t_key, m.member_id, 20, "2026-03-01T10:00:00+08:00");
  // The server was down over two year ends: the first pass after start expires both years' lots.
  SetClock("2027-03-01T09:00:00+08:00");
  auto pass = RunScheduler();
  std::int64_t expired = 0;
  for (const auto& run : pass["expiry"]) {
    EXPECT_EQ(run["trigger"], "schedule") << run;
    expired += run["counts"]["points_expired"].get<std::int64_t>();
  }
  EXPECT_GE(expired, 30) << pass;  // other suites' tenants may have had lots due too
  EXPECT_EQ(Entries(a.agent, m.member_id, "expiry").size(), 2u);
  // The next pass finds nothing due.
  pass = RunScheduler();
  EXPECT_TRUE(pass["expiry"].empty()) << pass;
  auto jobs = http().Get("/v1/jobs?kind=expiry", a.admin);
  ASSERT_EQ(jobs.status, 200) << jobs;
  ASSERT_FALSE(jobs.json["items"].empty()) << jobs;
  EXPECT_EQ(jobs.json["items"][0]["trigger"], "schedule") << jobs;
  auto one =
      http().Get("/v1/jobs/" + std::to_string(jobs.json["items"][0]["id"].get<std::int64_t>()), a.admin);
  EXPECT_EQ(one.status, 200) << one;
}

TEST_F(ExpiryTest, ExpiredPointsAreTheRunningPeriodsBreakageInSettlement) {
  SetClock("2026-06-01T12:00:00+08:00");
  auto a = CreateAlliance();
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 1}}}, {"carry_over_percent", 10}});
  auto m = Enrol(a.agent);
  Points(a.t_key, m.member_id, 1000, "2026-02-01T10:00:00+08:00");
  Points(a.r_key, m.member_id, 300, "2026-02-01T10:00:00+08:00");
  SetClock("2027-01-01T00:10:00+08:00");
  Expire(a.admin);
  auto run = http().Post("/v1/settlements", {{"period", "2027-01"}}, a.finance);
  ASSERT_TRUE(run.status == 201 || run.status == 200) << run;
  EXPECT_EQ(run.json["breakage"],
            json::parse(R"([{"partner":"R","points_carried_over":30,"points_expired":300},
                                                   {"partner":"T","points_carried_over":100,"points_expired":1000}])"))
      << run;
  auto statement = http().Get("/v1/settlements/2027-01/statements/T", a.finance);
  ASSERT_EQ(statement.status, 200) << statement;
  EXPECT_EQ(statement.json["breakage"], (json{{"points_expired", 1000}, {"points_carried_over", 100}}))
      << statement;
  // December's run has none: the points were booked as expired when the job ran, in January.
  auto december = http().Post("/v1/settlements", {{"period", "2026-12"}}, a.finance);
  ASSERT_TRUE(december.status == 201 || december.status == 200) << december;
  EXPECT_EQ(december.json["breakage"], json::array()) << december;
}

TEST_F(ExpiryTest, BadJobRequestsAreRefusedAndChangeNothing) {
  SetClock("2026-06-01T12:00:00+08:00");
  auto a = CreateAlliance();
  EXPECT_TRUE(IsProblem(http().Post("/v1/jobs/expiry", {{"as_of", "2026-06-02T00:00:00+08:00"}}, a.admin),
                        400, "validation_failed", "as_of"));
  EXPECT_TRUE(IsProblem(http().Post("/v1/jobs/expiry", {{"as_of", "yesterday"}}, a.admin), 400,
                        "validation_failed", "as_of"));
  EXPECT_TRUE(IsProblem(http().Post("/v1/jobs/expiry", json::object(), a.agent), 403, "forbidden"));
  EXPECT_TRUE(IsProblem(http().Post("/v1/jobs/expiry", json::object(), a.t_key), 403, "forbidden"));
  EXPECT_TRUE(IsProblem(http().Get("/v1/jobs?kind=nope", a.admin), 400, "validation_failed", "kind"));
  EXPECT_TRUE(IsProblem(http().Get("/v1/jobs/999999999", a.admin), 404, "not_found"));
  auto jobs = http().Get("/v1/jobs", a.admin);
  ASSERT_EQ(jobs.status, 200) << jobs;
  EXPECT_TRUE(jobs.json["items"].empty()) << jobs;
  // The clock is the platform's to set, and only as an RFC 3339 instant.
  auto by_admin = http().Put("/v1/ops/clock", {{"now", "2026-06-01T12:00:00+08:00"}}, a.admin);
  EXPECT_TRUE(by_admin.status == 401 || by_admin.status == 403) << by_admin;
  EXPECT_TRUE(IsProblem(http().Put("/v1/ops/clock", {{"now", "soon"}}, server().platform_key()), 400,
                        "validation_failed", "now"));
}

// Members each hold 100 points that expired at the year end and 100 live points. Redemptions of
// 100 race the expiry job: each spends exactly the live lot, never an expired point; a second
// redemption finds nothing; the job expires exactly the expired lots; verify passes.
TEST_F(ExpiryTest, ARedemptionRacingTheJobNeverSpendsAnExpiredPointNorLosesALiveOne) {
  SetClock("2026-06-01T12:00:00+08:00");
  auto a = CreateAlliance();
  // Bonus points expire at the end of the year earned, tenure points a year later.
  PutPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 1}}},
                      {"by_point_type", {{"tenure", {{"kind", "calendar_years"}, {"n", 2}}}}}});
  ASSERT_EQ(
      http()
          .Post("/v1/rewards",
                {{"code", "P100"}, {"partner", "T"}, {"name", "100"}, {"price", {{"points", 100}}}}, a.admin)
          .status,
      201);
  constexpr int kMembers = 40;
  std::vector<std::int64_t> members;
  for (int i = 0; i < kMembers; ++i) {
    auto m = Enrol(a.agent);
    Points(a.t_key, m.member_id, 100, "2026-03-01T10:00:00+08:00");            // expires 2026-12-31T16:00Z
    Points(a.r_key, m.member_id, 100, "2026-03-01T10:00:00+08:00", "tenure");  // expires a year later
    members.push_back(m.member_id);
  }
  SetClock("2027-01-01T00:00:01+08:00");
  std::atomic<int> created{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  json counts;
  threads.emplace_back([&] {
    auto client = NewClient();
    auto r = client->Post("/v1/jobs/expiry", json::object(), a.admin);
    if (r.status == 200) counts = r.json["counts"];
  });
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto client = NewClient();
      for (int i = t; i < kMembers; i += 4) {
        for (int attempt = 0; attempt < 2; ++attempt) {
          auto r = client->Post(
              "/v1/redemptions",
              {{"request_id", Unique("race-")}, {"member_id", members[i]}, {"reward", "P100"}}, a.t_key);
          if (r.status == 201 && r.json["points_by_source"] == json{{"R", 100}}) {
            ++created;
          } else if (r.status == 422 && r.json.value("code", "") == "insufficient_points") {
            ++refused;
          } else {
            ++other;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created, kMembers);
  EXPECT_EQ(refused, kMembers);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(counts["lots_expired"], kMembers) << counts;
  EXPECT_EQ(counts["points_expired"], 100 * kMembers) << counts;
  // What is left: nothing, for everyone; and no redemption took from a lot past its expiry.
  for (auto id : members) EXPECT_EQ(Balance(a.agent, id)["available"], 0) << id;
  auto spent_expired = server().Sql(
      "SELECT count(*) FROM lot_consumptions c JOIN lots l ON l.tenant_id = c.tenant_id AND l.id = c.lot_id"
      " WHERE l.tenant_id = $1 AND l.expires_at <= '2027-01-01T00:00:01+08:00'",
      {std::to_string(a.tenant.id())});
  EXPECT_EQ(spent_expired[0][0].value_or(""), "0");
  EXPECT_EQ(Expire(a.admin)["lots_expired"], 0);
  ExpectVerified();
}

}  // namespace
}  // namespace unipoints::testing
