// Settlement runs over HTTP, checked against amounts computed by hand: pair amounts, bilateral
// nets, positions summing to zero, instructions, negative lines from cancellations, finality.

#include <chrono>
#include <ctime>
#include <map>
#include <thread>
#include <tuple>

#include "settlement/settlement_fixture.hpp"

namespace unipoints::testing {
namespace {

class SettlementRunTest : public SettlementFixture {};

TEST_F(SettlementRunTest, SeedCaseNetsPath3AgainstPath4) {
  auto a = CreateAlliance();  // agreements: T->R 0.010000, R->T 0.008000
  auto m = Enrol(a.agent);
  Points(a.t_key, m.card_no, 2000);
  Points(a.r_key, m.card_no, 2000);
  Reward(a.admin, "R-GIFT", "R", {{"T", 345}});  // path 3: T points honoured by R
  Reward(a.admin, "T-GIFT", "T", {{"R", 125}});  // path 4: R points honoured by T
  Reward(a.admin, "R-OWN", "R", {{"R", 700}});   // path 2: internal, settles nothing
  Redeem(a.r_key, m.member_id, "R-GIFT");
  Redeem(a.r_key, m.member_id, "R-GIFT");  // T->R 690 points
  Redeem(a.t_key, m.member_id, "T-GIFT");  // R->T 125 points
  const auto cancelled = Redeem(a.t_key, m.member_id, "T-GIFT");
  Redeem(a.r_key, m.member_id, "R-OWN");
  ASSERT_EQ(
      http().Post("/v1/redemptions/" + std::to_string(cancelled) + "/cancel", json::object(), a.agent).status,
      200);

  const auto period = CurrentPeriod();
  auto run = http().Post("/v1/settlements", {{"period", period}}, a.finance);
  ASSERT_EQ(run.status, 201) << run;
  EXPECT_EQ(run.json["status"], "draft");
  // By hand: T->R 690 x 0.010000 = 6.90 CNY; R->T (250 - 125 cancelled) x 0.008000 = 1.00 CNY.
  EXPECT_EQ(run.json["pairs"], (json::array({{{"payer", "R"},
                                              {"payee", "T"},
                                              {"points", 125},
                                              {"price_per_point", "0.008000"},
                                              {"amount_minor", 100}},
                                             {{"payer", "T"},
                                              {"payee", "R"},
                                              {"points", 690},
                                              {"price_per_point", "0.010000"},
                                              {"amount_minor", 690}}})))
      << run;
  // Bilateral net: T owes 690, R owes 100 -> T pays R 590.
  ASSERT_EQ(run.json["bilateral_nets"].size(), 1u) << run;
  EXPECT_EQ(run.json["bilateral_nets"][0]["net_minor"], 590);
  EXPECT_EQ(run.json["bilateral_nets"][0]["payer"], "T");
  EXPECT_EQ(run.json["nets"],
            (json::array({{{"partner", "R"}, {"net_minor", 590}}, {{"partner", "T"}, {"net_minor", -590}}})));
  EXPECT_EQ(run.json["instructions"], (json::array({{{"from", "T"}, {"to", "R"}, {"amount_minor", 590}}})));
  EXPECT_EQ(run.json["cancellations"], (json::array({{{"payer", "R"}, {"payee", "T"}, {"points", 125}}})));

  // A draft re-run is deterministic; the running period cannot be finalized.
  auto again = http().Post("/v1/settlements", {{"period", period}}, a.finance);
  EXPECT_EQ(again.json["content_hash"], run.json["content_hash"]);
  EXPECT_TRUE(IsProblem(http().Post("/v1/settlements/" + period + "/finalize", json::object(), a.finance),
                        409, "period_not_ended"));
  EXPECT_EQ(http().Get("/v1/settlements/" + period, a.t_key).status, 403);
}

TEST_F(SettlementRunTest, FivePartnersWithAsymmetricPricesNetToZero) {
  auto a = CreateAlliance();
  std::map<std::string, std::string> keys{{"T", a.t_key}, {"R", a.r_key}};
  for (const std::string code : {"A", "B", "C"}) {
    CreatePartner(a.admin, code, "伙伴" + code, "other");
    keys[code] = CreateKey(a.admin, "partner", code);
  }
  // One price per ordered pair, in force from 2026 (T->R replaces the harness's 0.010000).
  const std::vector<std::tuple<std::string, std::string, std::string, std::int64_t>> lines{
      {"T", "R", "0.012345", 1234}, {"R", "A", "0.007000", 555},  {"A", "B", "0.020000", 1000},
      {"B", "C", "0.015000", 333},  {"C", "T", "0.001234", 2500}, {"A", "T", "0.050000", 200},
      {"T", "A", "0.011000", 400}};
  auto m = Enrol(a.agent);
  for (const auto& [code, key] : keys) Points(key, m.card_no, 10000);
  for (const auto& [payer, payee, price, points] : lines) {
    auto put = http().Put("/v1/settlement-agreements",
                          {{"payer", payer},
                           {"payee", payee},
                           {"price_per_point", price},
                           {"cycle", "monthly"},
                           {"effective_from", "2026-01-01T00:00:00+08:00"}},
                          a.admin);
    ASSERT_EQ(put.status, 201) << put;
    const auto reward = payee + "-FROM-" + payer;
    Reward(a.admin, reward, payee, {{payer, points}});
    Redeem(keys[payee], m.member_id, reward);
  }
  auto run = http().Post("/v1/settlements", {{"period", CurrentPeriod()}}, a.finance);
  ASSERT_EQ(run.status, 201) << run;
  // By hand, half-up once per line: 1234 x 0.012345 = 15.23373 -> 1523; 555 x 0.007 = 3.885 -> 389;
  // 1000 x 0.02 = 2000; 333 x 0.015 = 4.995 -> 500; 2500 x 0.001234 = 3.085 -> 309; 200 x 0.05 = 1000;
  // 400 x 0.011 = 440.
  const std::map<std::pair<std::string, std::string>, std::int64_t> expected{
      {{"T", "R"}, 1523}, {{"R", "A"}, 389},  {{"A", "B"}, 2000}, {{"B", "C"}, 500},
      {{"C", "T"}, 309},  {{"A", "T"}, 1000}, {{"T", "A"}, 440}};
  ASSERT_EQ(run.json["pairs"].size(), expected.size()) << run;
  for (const auto& p : run.json["pairs"]) {
    const std::pair<std::string, std::string> key{p["payer"], p["payee"]};
    ASSERT_TRUE(expected.contains(key)) << p;
    EXPECT_EQ(p["amount_minor"], expected.at(key)) << p;
  }
  // Positions (receivable - payable): T 1309-1963, R 1523-389, A 829-3000, B 2000-500, C 500-309.
  const std::map<std::string, std::int64_t> positions{
      {"A", -2171}, {"B", 1500}, {"C", 191}, {"R", 1134}, {"T", -654}};
  std::int64_t sum = 0;
  for (const auto& n : run.json["nets"]) {
    EXPECT_EQ(n["net_minor"], positions.at(n["partner"])) << n;
    sum += n["net_minor"].get<std::int64_t>();
  }
  EXPECT_EQ(sum, 0);
  // T and A net their two directions: A owes 1000, T owes 440 -> A pays T 560.
  bool found = false;
  for (const auto& b : run.json["bilateral_nets"]) {
    if (b["a"] == "A" && b["b"] == "T") {
      found = true;
      EXPECT_EQ(b["net_minor"], 560);
      EXPECT_EQ(b["payer"], "A");
    }
  }
  EXPECT_TRUE(found) << run;
  // At most N-1 instructions, and they clear every position exactly.
  EXPECT_LE(run.json["instructions"].size(), 4u) << run;
  std::map<std::string, std::int64_t> cleared;
  for (const auto& i : run.json["instructions"]) {
    cleared[i["from"]] -= i["amount_minor"].get<std::int64_t>();
    cleared[i["to"]] += i["amount_minor"].get<std::int64_t>();
  }
  for (const auto& [partner, net] : positions) EXPECT_EQ(cleared[partner], net) << partner;
}

TEST_F(SettlementRunTest, QuarterlyPairsSettleInTheQuarterEndMonth) {
  auto a = CreateAlliance();
  // From 2026 R's points honoured by T settle quarterly (Mar, Jun, Sep, Dec), T's by R monthly.
  ASSERT_EQ(http()
                .Put("/v1/settlement-agreements",
                     {{"payer", "R"},
                      {"payee", "T"},
                      {"price_per_point", "0.008000"},
                      {"cycle", "quarterly"},
                      {"effective_from", "2026-01-01T00:00:00+08:00"}},
                     a.admin)
                .status,
            201);
  auto m = Enrol(a.agent);
  Points(a.t_key, m.card_no, 1000);
  Points(a.r_key, m.card_no, 1000);
  Reward(a.admin, "T-GIFT", "T", {{"R", 250}});
  Reward(a.admin, "R-GIFT", "R", {{"T", 100}});
  Redeem(a.t_key, m.member_id, "T-GIFT");
  Redeem(a.r_key, m.member_id, "R-GIFT");
  const auto current = CurrentPeriod();
  const int year = std::stoi(current.substr(0, 4)), month = std::stoi(current.substr(5, 2));
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", year % 10000, (month + (2 - (month - 1) % 3)) % 100);
  const std::string quarter_end = buf;

  auto now = http().Post("/v1/settlements", {{"period", current}}, a.finance);
  ASSERT_EQ(now.status, 201) << now;
  json expected_now = json::array({{{"payer", "T"},
                                    {"payee", "R"},
                                    {"points", 100},
                                    {"price_per_point", "0.010000"},
                                    {"amount_minor", 100}}});
  json quarterly = {{"payer", "R"},
                    {"payee", "T"},
                    {"points", 250},
                    {"price_per_point", "0.008000"},
                    {"amount_minor", 200}};
  if (quarter_end == current) expected_now.insert(expected_now.begin(), quarterly);
  EXPECT_EQ(now.json["pairs"], expected_now) << now;
  if (quarter_end != current) {
    auto later = http().Post("/v1/settlements", {{"period", quarter_end}}, a.finance);
    ASSERT_EQ(later.status, 201) << later;
    EXPECT_EQ(later.json["pairs"], json::array({quarterly})) << later;
    // The statement of the quarter-end month lists the line in its detail.
    auto statement = http().Get("/v1/settlements/" + quarter_end + "/statements/T", a.finance);
    ASSERT_EQ(statement.status, 200) << statement;
    EXPECT_EQ(statement.json["detail"].size(), 1u) << statement;
  }
}

TEST_F(SettlementRunTest, FinalRunsAreImmutableAndChained) {
  auto a = CreateAlliance();
  auto first = http().Post("/v1/settlements/2026-01/finalize", json::object(), a.finance);
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.json["status"], "final");
  EXPECT_TRUE(first.json["previous_hash"].is_null());
  EXPECT_EQ(first.json["content_hash"].get<std::string>().size(), 64u);
  // An earlier draft blocks the chain until it is final.
  ASSERT_EQ(http().Post("/v1/settlements", {{"period", "2026-02"}}, a.finance).status, 201);
  EXPECT_TRUE(IsProblem(http().Post("/v1/settlements/2026-03/finalize", json::object(), a.finance), 409,
                        "earlier_period_open"));
  auto second = http().Post("/v1/settlements/2026-02/finalize", json::object(), a.finance);
  ASSERT_EQ(second.status, 200) << second;
  EXPECT_EQ(second.json["previous_hash"], first.json["content_hash"]);
  // Re-running or reading a final period gives the same bytes.
  auto rerun = http().Post("/v1/settlements", {{"period", "2026-01"}}, a.finance);
  EXPECT_EQ(rerun.status, 200);
  EXPECT_EQ(rerun.body, first.body);
  EXPECT_EQ(http().Get("/v1/settlements/2026-01", a.finance).body, first.body);
  EXPECT_EQ(http().Post("/v1/settlements/2026-01/finalize", json::object(), a.finance).body, first.body);
  EXPECT_TRUE(
      IsProblem(http().Post("/v1/settlements", {{"period", "2026-13"}}, a.finance), 400, "", "period"));
  EXPECT_EQ(http().Get("/v1/settlements/2025-07", a.finance).status, 404);
}

TEST_F(SettlementRunTest, ACancellationIsPricedAsItsRedemptionWas) {
  auto a = CreateAlliance();  // T->R 0.010000
  auto m = Enrol(a.agent);
  Points(a.t_key, m.card_no, 2000);
  Reward(a.admin, "R-GIFT", "R", {{"T", 345}});
  const auto early = Redeem(a.r_key, m.member_id, "R-GIFT");  // settles at 0.010000
  // A new price from a second from now; the next redemption is made under it.
  const std::time_t from = std::time(nullptr) + 2;
  std::tm tm{};
  gmtime_r(&from, &tm);
  char at[32];
  std::strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
  ASSERT_EQ(
      http()
          .Put("/v1/settlement-agreements",
               {{"payer", "T"}, {"payee", "R"}, {"price_per_point", "0.020000"}, {"effective_from", at}},
               a.admin)
          .status,
      201);
  std::this_thread::sleep_until(std::chrono::system_clock::from_time_t(from) +
                                std::chrono::milliseconds(100));
  Redeem(a.r_key, m.member_id, "R-GIFT");  // settles at 0.020000
  ASSERT_EQ(
      http().Post("/v1/redemptions/" + std::to_string(early) + "/cancel", json::object(), a.agent).status,
      200);
  // The cancelled redemption nets to nothing: 345 - 345 at 0.010000; the other 345 at 0.020000.
  auto run = http().Post("/v1/settlements", {{"period", CurrentPeriod()}}, a.finance);
  ASSERT_EQ(run.status, 201) << run;
  std::int64_t amount = 0, at_new_price = 0;
  for (const auto& p : run.json["pairs"]) {
    amount += p["amount_minor"].get<std::int64_t>();
    if (p["price_per_point"] == "0.020000") at_new_price += p["points"].get<std::int64_t>();
  }
  EXPECT_EQ(amount, 690) << run;
  EXPECT_EQ(at_new_price, 345) << run;
}

TEST_F(SettlementRunTest, AnAgreementCannotTakeEffectInsideAFinalPeriod) {
  auto a = CreateAlliance();
  ASSERT_EQ(http().Post("/v1/settlements/2026-01/finalize", json::object(), a.finance).status, 200);
  auto version = [&](const std::string& from) {
    return http().Put("/v1/settlement-agreements",
                      {{"payer", "T"},
                       {"payee", "R"},
                       {"price_per_point", "0.050000"},
                       {"cycle", "quarterly"},
                       {"effective_from", from}},
                      a.admin);
  };
  // January's lines stay priced and cycled as its final run settled them.
  auto inside = version("2026-01-20T00:00:00+08:00");
  EXPECT_TRUE(IsProblem(inside, 409, "period_final", "effective_from")) << inside;
  EXPECT_NE(inside.json["detail"].get<std::string>().find("2026-01-31T16:00:00Z"), std::string::npos)
      << inside;
  EXPECT_TRUE(IsProblem(version("2026-01-31T23:59:59+08:00"), 409, "period_final"));
  const auto before = http().Get("/v1/settlement-agreements", a.admin);
  EXPECT_EQ(version("2026-02-01T00:00:00+08:00").status, 201);
  EXPECT_EQ(http().Get("/v1/settlement-agreements", a.admin).json["items"].size(),
            before.json["items"].size() + 1);
}

TEST_F(SettlementRunTest, LateCancellationIsAPriorPeriodAdjustmentOfTheRunningPeriod) {
  auto a = CreateAlliance();
  ASSERT_EQ(http()
                .Put("/v1/policy", {{"expiry", {{"kind", "never"}}}, {"cancel_window_hours", 8760}}, a.admin)
                .status,
            200);
  auto m = Enrol(a.agent);
  Points(a.t_key, m.card_no, 1000);
  Reward(a.admin, "R-GIFT", "R", {{"T", 300}});
  const auto id = Redeem(a.r_key, m.member_id, "R-GIFT");
  // The redemption belongs to January (as if its cancellation arrived months later).
  server().Sql("UPDATE redemptions SET created_at = '2026-01-15T10:00:00+08:00' WHERE id = $1",
               {std::to_string(id)});
  ASSERT_EQ(http().Post("/v1/redemptions/" + std::to_string(id) + "/cancel", json::object(), a.agent).status,
            200);
  auto run = http().Post("/v1/settlements", {{"period", CurrentPeriod()}}, a.finance);
  ASSERT_EQ(run.status, 201) << run;
  EXPECT_EQ(run.json["prior_period_adjustments"], (json::array({{{"redemption_id", id},
                                                                 {"original_period", "2026-01"},
                                                                 {"payer", "T"},
                                                                 {"payee", "R"},
                                                                 {"points", -300}}})))
      << run;
}

TEST_F(SettlementRunTest, CliSettlesAndFinalizesLikeTheApi) {
  auto a = CreateAlliance();
  auto draft = server().RunCli({"settle", "--tenant", a.tenant.code(), "--period", "2026-03"});
  ASSERT_EQ(draft.exit_code, 0) << draft.out << draft.err;
  EXPECT_EQ(json::parse(draft.out)["status"], "draft") << draft.out;
  auto final_run =
      server().RunCli({"settle", "--tenant", a.tenant.code(), "--period", "2026-03", "--finalize"});
  ASSERT_EQ(final_run.exit_code, 0) << final_run.out << final_run.err;
  const auto cli = json::parse(final_run.out);
  EXPECT_EQ(cli["status"], "final");
  auto api = http().Get("/v1/settlements/2026-03", a.finance);
  ASSERT_EQ(api.status, 200) << api;
  EXPECT_EQ(api.json["content_hash"], cli["content_hash"]);
  EXPECT_NE(server().RunCli({"settle", "--tenant", "no-such-tenant", "--period", "2026-03"}).exit_code, 0);
  EXPECT_NE(server().RunCli({"settle", "--tenant", a.tenant.code(), "--period", "2026-3x"}).exit_code, 0);
}

}  // namespace
}  // namespace unipoints::testing
