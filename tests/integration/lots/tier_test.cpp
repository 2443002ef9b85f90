// Tiers: the scheme, set-based re-grading with upgrades and downgrades, the history per member, the
// multiplier of the tier held when an event occurred, and scheduled re-grades at cadence boundaries
// in tenant time (caught up after downtime, each once).

#include "lots/time_fixture.hpp"

namespace unipoints::testing {
namespace {

class TierTest : public TimeTest {
 protected:
  static json Scheme(const std::string& cadence = "yearly", int window_months = 12) {
    return {{"window_months", window_months},
            {"cadence", cadence},
            {"levels",
             {{{"code", "normal"}, {"min_points", 0}},
              {{"code", "silver"}, {"min_points", 100}},
              {{"code", "gold"}, {"min_points", 500}}}}};
  }
  void PutTiers(const std::string& admin, const json& scheme) {
    auto r = http().Put("/v1/tiers", scheme, admin);
    ASSERT_EQ(r.status, 200) << r;
  }
  json Regrade(const std::string& admin, const std::string& as_of) {
    auto r = http().Post("/v1/jobs/regrade", {{"as_of", as_of}}, admin);
    EXPECT_EQ(r.status, 200) << r;
    return r.json;
  }
  std::string TierOf(const std::string& key, std::int64_t member) {
    return Balance(key, member)["tier"].get<std::string>();
  }
};

TEST_F(TierTest, TheSchemeIsValidatedAndReadBack) {
  SetClock("2026-06-01T12:00:00+08:00");
  auto a = CreateAlliance();
  auto none = http().Get("/v1/tiers", a.agent);
  ASSERT_EQ(none.status, 200) << none;
  EXPECT_EQ(none.json["levels"], json::array()) << none;
  EXPECT_TRUE(
      IsProblem(http().Put("/v1/tiers",
                           {{"window_months", 0}, {"cadence", "yearly"}, {"levels", json::array()}}, a.admin),
                400, "validation_failed", "window_months"));
  EXPECT_TRUE(IsProblem(
      http().Put("/v1/tiers", {{"window_months", 12}, {"cadence", "monthly"}, {"levels", Scheme()["levels"]}},
                 a.admin),
      400, "validation_failed", "cadence"));
  EXPECT_TRUE(IsProblem(
      http().Put(
          "/v1/tiers",
          {{"window_months", 12},
           {"cadence", "yearly"},
           {"levels", {{{"code", "normal"}, {"min_points", 10}}, {{"code", "gold"}, {"min_points", 500}}}}},
          a.admin),
      400, "validation_failed", "levels[0].min_points"));
  EXPECT_TRUE(IsProblem(
      http().Put(
          "/v1/tiers",
          {{"window_months", 12},
           {"cadence", "yearly"},
           {"levels", {{{"code", "normal"}, {"min_points", 0}}, {{"code", "gold"}, {"min_points", 0}}}}},
          a.admin),
      400, "validation_failed", "levels[1].min_points"));
  EXPECT_TRUE(IsProblem(
      http().Put(
          "/v1/tiers",
          {{"window_months", 12},
           {"cadence", "yearly"},
           {"levels", {{{"code", "normal"}, {"min_points", 0}}, {{"code", "normal"}, {"min_points", 5}}}}},
          a.admin),
      400, "validation_failed", "levels[1].code"));
  EXPECT_TRUE(IsProblem(http().Put("/v1/tiers", Scheme(), a.agent), 403, "forbidden"));
  EXPECT_EQ(http().Get("/v1/tiers", a.agent).json["levels"], json::array());  // nothing changed
  PutTiers(a.admin, Scheme("quarterly", 6));
  auto got = http().Get("/v1/tiers", a.t_key);
  EXPECT_EQ(got.json["cadence"], "quarterly") << got;
  EXPECT_EQ(got.json["window_months"], 6) << got;
  EXPECT_EQ(got.json["levels"], Scheme()["levels"]) << got;
}

TEST_F(TierTest, ReGradingUpgradesAndDowngradesFromPointsEarnedInTheWindow) {
  SetClock("2026-06-01T12:00:00+08:00");
  auto a = CreateAlliance();
  PutTiers(a.admin, Scheme());
  auto gold = Enrol(a.agent), silver = Enrol(a.agent), normal = Enrol(a.agent), reversed = Enrol(a.agent);
  Points(a.t_key, gold.member_id, 400, "2026-02-01T10:00:00+08:00");
  Points(a.r_key, gold.member_id, 150, "2026-05-01T10:00:00+08:00");    // points from any partner qualify
  Points(a.t_key, silver.member_id, 100, "2026-01-01T00:00:00+08:00");  // the window's first instant
  Points(a.t_key, normal.member_id, 99, "2026-03-01T10:00:00+08:00");
  Points(a.t_key, normal.member_id, 900, "2025-12-31T23:59:59+08:00");  // before the window
  // A reversed accrual qualifies only with what is left of it.
  const auto event = NewEventId();
  ASSERT_EQ(http()
                .Post("/v1/accruals",
                      {{"event_id", event},
                       {"member_id", reversed.member_id},
                       {"points", 600},
                       {"point_type", "bonus"},
                       {"occurred_at", "2026-04-01T10:00:00+08:00"}},
                      a.t_key)
                .status,
            201);
  auto rev = http().Post("/v1/accruals/" + event + "/reversals",
                         {{"reversal_id", Unique("rev-")}, {"points", 200}, {"reason", "return"}}, a.t_key);
  ASSERT_EQ(rev.status, 201) << rev;

  SetClock("2027-01-01T08:00:00+08:00");
  auto run = Regrade(a.admin, "2027-01-01T00:00:00+08:00");
  EXPECT_EQ(run["kind"], "regrade") << run;
  EXPECT_EQ(run["counts"]["members"], 4) << run;
  EXPECT_EQ(run["counts"]["by_tier"], (json{{"normal", 1}, {"silver", 2}, {"gold", 1}})) << run;
  EXPECT_EQ(run["counts"]["upgraded"], 3) << run;
  EXPECT_EQ(run["counts"]["downgraded"], 0) << run;
  EXPECT_EQ(TierOf(a.agent, gold.member_id), "gold");
  EXPECT_EQ(TierOf(a.agent, silver.member_id), "silver");
  EXPECT_EQ(TierOf(a.agent, normal.member_id), "normal");
  EXPECT_EQ(TierOf(a.agent, reversed.member_id), "silver");  // 600 - 200 = 400
  auto history = http().Get("/v1/members/" + std::to_string(gold.member_id) + "/tier-history", a.agent);
  ASSERT_EQ(history.status, 200) << history;
  EXPECT_EQ(history.json["tier"], "gold") << history;
  EXPECT_EQ(history.json["tier_since"], "2026-12-31T16:00:00Z") << history;
  ASSERT_EQ(history.json["items"].size(), 1u) << history;
  EXPECT_EQ(history.json["items"][0]["from"], "normal") << history;
  EXPECT_EQ(history.json["items"][0]["to"], "gold") << history;
  EXPECT_EQ(history.json["items"][0]["qualifying_points"], 550) << history;
  EXPECT_EQ(history.json["items"][0]["at"], "2026-12-31T16:00:00Z") << history;
  auto profile = http().Get("/v1/members/" + std::to_string(gold.member_id), a.agent);
  EXPECT_EQ(profile.json["tier"], "gold") << profile;

  // A year on: gold earned nothing more and falls to normal; normal earned 120 and rises.
  SetClock("2027-06-01T12:00:00+08:00");
  Points(a.t_key, normal.member_id, 120, "2027-06-01T10:00:00+08:00");
  Points(a.t_key, silver.member_id, 100, "2027-06-01T10:00:00+08:00");
  SetClock("2028-01-01T00:30:00+08:00");
  run = Regrade(a.admin, "2028-01-01T00:00:00+08:00");
  EXPECT_EQ(run["counts"]["by_tier"], (json{{"normal", 2}, {"silver", 2}, {"gold", 0}})) << run;
  EXPECT_EQ(run["counts"]["upgraded"], 1) << run;
  EXPECT_EQ(run["counts"]["downgraded"], 2) << run;  // gold -> normal, reversed silver -> normal
  EXPECT_EQ(run["counts"]["changed"], 3) << run;
  EXPECT_EQ(TierOf(a.agent, gold.member_id), "normal");
  EXPECT_EQ(TierOf(a.agent, normal.member_id), "silver");
  history = http().Get("/v1/members/" + std::to_string(gold.member_id) + "/tier-history", a.agent);
  ASSERT_EQ(history.json["items"].size(), 2u) << history;
  EXPECT_EQ(history.json["items"][0]["to"], "normal") << history;  // newest first
  // Re-running for the same instant changes nothing.
  run = Regrade(a.admin, "2028-01-01T00:00:00+08:00");
  EXPECT_EQ(run["counts"]["changed"], 0) << run;
  // Not backwards, not ahead of the clock, not without a scheme.
  EXPECT_TRUE(IsProblem(http().Post("/v1/jobs/regrade", {{"as_of", "2027-06-01T00:00:00+08:00"}}, a.admin),
                        409, "conflict", "as_of"));
  EXPECT_TRUE(IsProblem(http().Post("/v1/jobs/regrade", {{"as_of", "2028-01-02T00:00:00+08:00"}}, a.admin),
                        400, "validation_failed", "as_of"));
  auto other = CreateAlliance();
  EXPECT_TRUE(IsProblem(http().Post("/v1/jobs/regrade", json::object(), other.admin), 409, "no_tier_scheme"));
}

TEST_F(TierTest, TheMultiplierIsTheTierHeldWhenTheEventOccurred) {
  SetClock("2026-06-01T12:00:00+08:00");
  auto a = CreateAlliance();
  auto rules = DemoTelecomRules();
  rules["rules"][0]["tier_multipliers"] = {{"gold", "1.5"}};
  PutRules(a.admin, "T", rules);
  PutTiers(a.admin, Scheme());
  auto m = Enrol(a.agent);
  Points(a.t_key, m.member_id, 600, "2026-03-01T10:00:00+08:00");
  SetClock("2027-01-01T09:00:00+08:00");
  Regrade(a.admin, "2027-01-01T00:00:00+08:00");
  ASSERT_EQ(TierOf(a.agent, m.member_id), "gold");
  auto priced = [&](const std::string& occurred_at) {
    auto r = http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "data", 10000, occurred_at),
                         a.t_key);
    EXPECT_EQ(r.status, 201) << r;
    return r.json.value("points", std::int64_t{-1});
  };
  // 100 CNY of data = 200 points; x1.5 as gold from the re-grade instant on.
  EXPECT_EQ(priced("2027-01-01T00:00:00+08:00"), 300);
  EXPECT_EQ(priced("2027-01-01T08:00:00+08:00"), 300);
  // A late event from before the change is priced at the tier held then.
  EXPECT_EQ(priced("2026-12-31T23:59:59+08:00"), 200);
}

TEST_F(TierTest, ScheduledReGradesRunAtEachQuarterBoundaryOnceAndCatchUp) {
  SetClock("2026-11-15T12:00:00+08:00");
  auto a = CreateAlliance();
  PutTiers(a.admin, Scheme("quarterly", 3));
  auto m = Enrol(a.agent);
  SetClock("2026-11-20T12:00:00+08:00");
  Points(a.t_key, m.member_id, 150, "2026-11-20T10:00:00+08:00");
  // Before the first boundary after the scheme was set: nothing to grade.
  RunScheduler();
  EXPECT_EQ(http().Get("/v1/jobs?kind=regrade", a.admin).json["items"], json::array());
  // Down from December to early July: three boundaries (1 Jan, 1 Apr, 1 Jul, Shanghai midnight).
  SetClock("2027-07-02T10:00:00+08:00");
  RunScheduler();
  auto mine = http().Get("/v1/jobs?kind=regrade", a.admin);
  ASSERT_EQ(mine.status, 200) << mine;
  std::vector<std::string> as_of;
  for (const auto& run : mine.json["items"]) {
    EXPECT_EQ(run["trigger"], "schedule") << run;
    as_of.insert(as_of.begin(), run["as_of"].get<std::string>());
  }
  EXPECT_EQ(as_of, (std::vector<std::string>{"2026-12-31T16:00:00Z", "2027-03-31T16:00:00Z",
                                             "2027-06-30T16:00:00Z"}))
      << mine;
  // Silver from 1 January (150 points in Oct-Dec), normal again from 1 April (none in Jan-Mar).
  auto history = http().Get("/v1/members/" + std::to_string(m.member_id) + "/tier-history", a.agent);
  ASSERT_EQ(history.json["items"].size(), 2u) << history;
  EXPECT_EQ(history.json["items"][1]["to"], "silver") << history;
  EXPECT_EQ(history.json["items"][1]["at"], "2026-12-31T16:00:00Z") << history;
  EXPECT_EQ(history.json["items"][0]["to"], "normal") << history;
  EXPECT_EQ(history.json["items"][0]["at"], "2027-03-31T16:00:00Z") << history;
  // The next pass grades nothing again.
  RunScheduler();
  EXPECT_EQ(http().Get("/v1/jobs?kind=regrade", a.admin).json["items"].size(), 3u);
}

// Two server processes against one database, their schedulers run at the same moment: every lot
// expires once and every boundary is graded once.
TEST(TimeJobsTest, TwoServersRunEachScheduledJobExactlyOnce) {
  if (!SkipReason().empty()) GTEST_SKIP() << SkipReason();
  TestServer first(ServerOptions{kSettableClockEnv});
  ASSERT_EQ(first.Start(), "");
  TestServer second(ServerOptions{kSettableClockEnv, &first});
  ASSERT_EQ(second.Start(), "");
  HttpClient h1(first.host(), first.port()), h2(second.host(), second.port());
  for (auto* h : {&h1, &h2}) {
    ASSERT_EQ(h->Put("/v1/ops/clock", {{"now", "2026-06-01T12:00:00+08:00"}, {"frozen", true}},
                     first.platform_key())
                  .status,
              200);
  }
  auto created =
      h1.Post("/v1/tenants",
              {{"code", "TWIN"}, {"name", "双机联盟"}, {"currency", "CNY"}, {"time_zone", "Asia/Shanghai"}},
              first.platform_key());
  ASSERT_EQ(created.status, 201) << created;
  const auto admin = created.json["admin_key"].get<std::string>();
  ASSERT_EQ(h1.Put("/v1/policy",
                   {{"expiry", {{"kind", "calendar_years"}, {"n", 1}}}, {"carry_over_percent", 20}}, admin)
                .status,
            200);
  ASSERT_EQ(
      h1.Put("/v1/tiers",
             {{"window_months", 12},
              {"cadence", "yearly"},
              {"levels", {{{"code", "normal"}, {"min_points", 0}}, {{"code", "gold"}, {"min_points", 50}}}}},
             admin)
          .status,
      200);
  ASSERT_EQ(h1.Post("/v1/partners", {{"code", "T"}, {"name", "电信"}, {"kind", "telecom"}}, admin).status,
            201);
  auto key = h1.Post("/v1/keys", {{"role", "partner"}, {"partner", "T"}, {"label", "t"}}, admin);
  ASSERT_EQ(key.status, 201) << key;
  const auto t_key = key.json["key"].get<std::string>();
  constexpr int kMembers = 300;
  for (int i = 0; i < kMembers; ++i) {
    auto m = h1.Post("/v1/members",
                     {{"name", "成员"},
                      {"gender", "unknown"},
                      {"id_type", "other"},
                      {"id_number", "TWIN" + std::to_string(i)}},
                     admin);
    ASSERT_EQ(m.status, 201) << m;
    ASSERT_EQ(h1.Post("/v1/accruals",
                      {{"event_id", "e" + std::to_string(i)},
                       {"member_id", m.json["member_id"]},
                       {"points", 10 + i},
                       {"point_type", "bonus"},
                       {"occurred_at", "2026-05-01T10:00:00+08:00"}},
                      t_key)
                  .status,
              201);
  }
  for (auto* h : {&h1, &h2}) {
    ASSERT_EQ(h->Put("/v1/ops/clock", {{"now", "2027-01-01T00:05:00+08:00"}, {"frozen", true}},
                     first.platform_key())
                  .status,
              200);
  }
  Response p1, p2;
  std::thread t1([&] {
    p1 = HttpClient(first.host(), first.port())
             .Post("/v1/ops/scheduler/run", json::object(), first.platform_key());
  });
  std::thread t2([&] {
    p2 = HttpClient(second.host(), second.port())
             .Post("/v1/ops/scheduler/run", json::object(), first.platform_key());
  });
  t1.join();
  t2.join();
  ASSERT_EQ(p1.status, 200) << p1;
  ASSERT_EQ(p2.status, 200) << p2;
  // Whatever each process did, the database holds one expiry entry per lot and one history row per
  // member changed at the boundary.
  auto one = [&](const std::string& sql) { return first.Sql(sql)[0][0].value_or(""); };
  EXPECT_EQ(one("SELECT count(*) FROM ledger_entries WHERE kind = 'expiry'"), std::to_string(kMembers));
  EXPECT_EQ(
      one("SELECT count(*) FROM (SELECT lot_id FROM ledger_entries WHERE kind = 'expiry' GROUP BY lot_id"
          " HAVING count(*) > 1) d"),
      "0");
  EXPECT_EQ(one("SELECT count(*) FROM ledger_entries WHERE kind = 'carry_over'"), std::to_string(kMembers));
  EXPECT_EQ(one("SELECT count(*) FROM job_runs WHERE kind = 'regrade'"), "1");
  // Members with 50 points or more (i >= 40) became gold, once.
  EXPECT_EQ(one("SELECT count(*) FROM member_tier_history"), std::to_string(kMembers - 40));
  EXPECT_EQ(one("SELECT sum(held) FROM member_balances"), one("SELECT sum(remaining) FROM lots"));
  auto v = first.RunCli({"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_EQ(second.Stop(), 0);
  EXPECT_EQ(first.Stop(), 0);
}

}  // namespace
}  // namespace unipoints::testing
