// Redemptions over HTTP: the seed's source-composed price bands and the settlement lines they book
// (internal and cross paths), earliest-expiry-first consumption, cancellation back into the original
// lots, refusals that change nothing, idempotency on request_id, and no overspending when many
// redemptions (and accruals) race for one member. `unipoints verify` checks the database after the
// races.

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

using Sums = std::map<std::string, std::int64_t>;

class RedemptionBase : public IntegrationTest {
 protected:
  // The alliance's price bands as the seed documents give them.
  static json Bands() {
    return {{"options",
             json::array({{{"T", 500}}, {{"R", 500}}, {{"T", 500}, {"R", 500}}, {{"T", 1000}, {"R", 500}}})}};
  }

  void NewReward(const std::string& key, const std::string& code, const std::string& partner,
                 const json& price, std::optional<std::int64_t> stock = std::nullopt) {
    json body = {{"code", code}, {"partner", partner}, {"name", "奖品 " + code}, {"price", price}};
    if (stock) body["stock"] = *stock;
    auto r = http().Post("/v1/rewards", body, key);
    ASSERT_EQ(r.status, 201) << r;
  }

  json Stock(const std::string& key, const std::string& code) {
    auto r = http().Get("/v1/rewards/" + code, key);
    EXPECT_EQ(r.status, 200) << r;
    return r.json["stock"];
  }

  // Posts `points` directly from the partner of `partner_key`, earned at `occurred_at`.
  void Give(const std::string& partner_key, const Enrolled& m, std::int64_t points,
            const std::string& occurred_at = "2026-06-01T10:00:00+08:00") {
    json event = {
        {"event_id", NewEventId()}, {"card_no", m.card_no}, {"points", points}, {"occurred_at", occurred_at}};
    auto r = http().Post("/v1/accruals", event, partner_key);
    ASSERT_EQ(r.status, 201) << r;
  }

  static json Body(const Enrolled& m, const std::string& reward,
                   std::optional<std::int64_t> option = std::nullopt, std::int64_t quantity = 1) {
    json body = {
        {"request_id", Unique("rd-")}, {"card_no", m.card_no}, {"reward", reward}, {"quantity", quantity}};
    if (option) body["option"] = *option;
    return body;
  }

  Response Redeem(const std::string& key, const json& body) {
    return http().Post("/v1/redemptions", body, key);
  }

  json GetRedemption(const std::string& key, std::int64_t id) {
    auto r = http().Get("/v1/redemptions/" + std::to_string(id), key);
    EXPECT_EQ(r.status, 200) << r;
    return r.json;
  }

  Response Cancel(const std::string& key, std::int64_t id, const std::string& reason = "顾客取消") {
    return http().Post("/v1/redemptions/" + std::to_string(id) + "/cancel", {{"reason", reason}}, key);
  }

  // Sum of the member's ledger entries of `kind` per source partner.
  Sums LedgerBySource(const std::string& key, std::int64_t member_id, const std::string& kind) {
    Sums out;
    for (const auto& e : Ledger(key, member_id)) {
      if (e["kind"] == kind) out[e["source"].get<std::string>()] += e["points"].get<std::int64_t>();
    }
    return out;
  }

  // The sum of a {code: points} object (a plain price's shortfall names no source partner).
  static std::int64_t Total(const json& by_code) {
    std::int64_t sum = 0;
    for (const auto& [code, pts] : by_code.items()) sum += pts.get<std::int64_t>();
    return sum;
  }

  // The settlement lines of a redemption as "source>fulfiller kind path" -> points.
  static Sums Lines(const json& redemption) {
    Sums out;
    for (const auto& l : redemption["settlement_lines"]) {
      out[l["source"].get<std::string>() + ">" + l["fulfiller"].get<std::string>() + " " +
          l["kind"].get<std::string>() + " " + l["path"].get<std::string>()] +=
          l["points"].get<std::int64_t>();
    }
    return out;
  }

  // The balance without its as_of (which moves with the clock).
  json Snapshot(const std::string& key, std::int64_t member_id) {
    auto b = Balance(key, member_id);
    b.erase("as_of");
    return b;
  }

  // The current calendar year in the tenants' time zone (Asia/Shanghai).
  static int ThisYear() { return std::stoi(FormatUtc(NowUnix() + 8 * 3600).substr(0, 4)); }
  static std::string EarnedIn(int year) { return std::to_string(year) + "-01-01T00:00:00+08:00"; }
  // Points earned in `year` under calendar_years N=3 expire at the end of year+2, local time.
  static std::int64_t ExpiryOf(int year) {
    return *ParseInstant(std::to_string(year + 3) + "-01-01T00:00:00+08:00");
  }
  // The balance's `expiring` as expiry instant (Unix seconds) -> points.
  static std::map<std::int64_t, std::int64_t> Expiring(const json& balance) {
    std::map<std::int64_t, std::int64_t> out;
    for (const auto& e : balance["expiring"]) {
      auto at = ParseInstant(e["expires_at"].get<std::string>());
      EXPECT_TRUE(at.has_value()) << e;
      out[at.value_or(0)] += e["points"].get<std::int64_t>();
    }
    return out;
  }

  void SetPolicy(const std::string& admin, const json& policy) {
    auto r = http().Put("/v1/policy", policy, admin);
    ASSERT_EQ(r.status, 200) << r;
  }

  static std::string Show(const Response& r) {
    std::ostringstream os;
    os << r;
    return os.str();
  }

  // `unipoints verify` arrived with issue 4; if the binary has no such subcommand yet, this check is
  // left out (a plain if, not a skip, so the rest of the test still counts).
  void VerifyPasses() {
    auto help = server().RunCli({"verify", "--help"});
    if (help.exit_code != 0) return;  // no `verify` subcommand in this build
    auto r = server().RunCli({"verify"});
    EXPECT_EQ(r.exit_code, 0) << "unipoints verify failed:\n" << r.out << r.err;
  }
};

class RedemptionTest : public RedemptionBase {};
class RedemptionConcurrencyTest : public RedemptionBase {};

// ------------------------------------------------------------------ price bands and paths

TEST_F(RedemptionTest, OnlyTPointsGetTheFirstBandWhenNoneIsNamed) {
  auto a = CreateAlliance();
  NewReward(a.admin, "VOUCHER", "R", Bands());
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 600);
  auto r = Redeem(a.r_key, Body(m, "VOUCHER"));
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_FALSE(r.HasHeader("Idempotent-Replay")) << r;
  EXPECT_TRUE(r.json["redemption_id"].is_number_integer()) << r;
  EXPECT_EQ(r.json["member_id"], m.member_id) << r;
  EXPECT_EQ(r.json["reward"], "VOUCHER") << r;
  EXPECT_EQ(r.json["fulfiller"], "R") << r;
  EXPECT_EQ(r.json["quantity"], 1) << r;
  EXPECT_EQ(r.json["option"], 0) << r;
  EXPECT_EQ(r.json["points"], 500) << r;
  EXPECT_EQ(r.json["points_by_source"], (json{{"T", 500}})) << r;
  EXPECT_EQ(r.json["status"], "completed") << r;
  EXPECT_EQ(r.json["balance"], 100) << r;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 100) << b;
  EXPECT_EQ(b["by_source"], (json{{"T", 100}})) << b;
  EXPECT_EQ(b["lifetime"], 600) << "lifetime never drops on redemption: " << b;
  EXPECT_EQ(LedgerBySource(a.agent, m.member_id, "redemption"), (Sums{{"T", -500}}));
}

TEST_F(RedemptionTest, TheFirstBandTheMemberCanPayIsChosen) {
  auto a = CreateAlliance();
  NewReward(a.admin, "VOUCHER", "R", Bands());
  auto only_r = Enrol(a.agent);
  Give(a.r_key, only_r, 500);
  auto r = Redeem(a.agent, Body(only_r, "VOUCHER"));
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["option"], 1) << r;
  EXPECT_EQ(r.json["points_by_source"], (json{{"R", 500}})) << r;
  EXPECT_EQ(r.json["balance"], 0) << r;

  // 400 T and 400 R pay no band: the refusal reports the first band's shortfall.
  auto neither = Enrol(a.agent);
  Give(a.t_key, neither, 400);
  Give(a.r_key, neither, 400);
  auto refused = Redeem(a.agent, Body(neither, "VOUCHER"));
  ASSERT_TRUE(IsProblem(refused, 422, "insufficient_points"));
  EXPECT_EQ(refused.json["shortfall"], (json{{"T", 100}})) << refused;
  EXPECT_EQ(refused.json["needed"], (json{{"T", 500}})) << refused;
  EXPECT_EQ(refused.json["option"], 0) << refused;
  EXPECT_EQ(Balance(a.agent, neither.member_id)["available"], 800);
}

TEST_F(RedemptionTest, NamingTheRBandWithoutRPointsStatesTheShortfallAndChangesNothing) {
  auto a = CreateAlliance();
  NewReward(a.admin, "VOUCHER", "R", Bands());
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 600);
  const auto before = Snapshot(a.agent, m.member_id);
  auto r = Redeem(a.r_key, Body(m, "VOUCHER", 1));
  ASSERT_TRUE(IsProblem(r, 422, "insufficient_points"));
  EXPECT_EQ(r.json["shortfall"], (json{{"R", 500}})) << r;
  EXPECT_EQ(r.json["needed"], (json{{"R", 500}})) << r;
  EXPECT_EQ(r.json["option"], 1) << r;
  EXPECT_EQ(Snapshot(a.agent, m.member_id), before);
  EXPECT_TRUE(LedgerBySource(a.agent, m.member_id, "redemption").empty());
}

TEST_F(RedemptionTest, CombinedTAndRBandBooksACrossAndAnInternalLine) {
  auto a = CreateAlliance();
  NewReward(a.admin, "VOUCHER", "R", Bands());
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 1000);
  Give(a.r_key, m, 500);
  auto r = Redeem(a.r_key, Body(m, "VOUCHER", 2));
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["option"], 2) << r;
  EXPECT_EQ(r.json["points"], 1000) << r;
  EXPECT_EQ(r.json["points_by_source"], (json{{"T", 500}, {"R", 500}})) << r;
  EXPECT_EQ(r.json["balance"], 500) << r;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["by_source"], (json{{"T", 500}})) << b;

  const auto id = r.json["redemption_id"].get<std::int64_t>();
  auto got = GetRedemption(a.admin, id);
  EXPECT_EQ(got["redemption_id"], id) << got;
  EXPECT_EQ(got["status"], "completed") << got;
  EXPECT_TRUE(got["cancelled_at"].is_null()) << got;
  EXPECT_EQ(got["points_by_source"], (json{{"T", 500}, {"R", 500}})) << got;
  ASSERT_EQ(got["settlement_lines"].size(), 2u) << got;
  // Path 3 (T points honoured by R) is cross; R's own points are internal.
  EXPECT_EQ(Lines(got), (Sums{{"T>R redemption cross", 500}, {"R>R redemption internal", 500}})) << got;
  for (const auto& l : got["settlement_lines"]) {
    EXPECT_TRUE(ParseInstant(l["booked_at"].get<std::string>()).has_value()) << l;
  }
  EXPECT_EQ(LedgerBySource(a.agent, m.member_id, "redemption"), (Sums{{"T", -500}, {"R", -500}}));
  // The fulfiller sees it; so does the partner whose points it consumed only if it asked: T did not.
  EXPECT_EQ(http().Get("/v1/redemptions/" + std::to_string(id), a.r_key).status, 200);
  EXPECT_EQ(http().Get("/v1/redemptions/" + std::to_string(id), a.t_key).status, 404);
}

TEST_F(RedemptionTest, QuantityMultipliesWhatEachSourceMustPay) {
  auto a = CreateAlliance();
  NewReward(a.admin, "VOUCHER", "R", Bands());
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 2000);
  Give(a.r_key, m, 1000);
  // Three of band 2 need 1500 T and 1500 R.
  auto short_r = Redeem(a.agent, Body(m, "VOUCHER", 2, 3));
  ASSERT_TRUE(IsProblem(short_r, 422, "insufficient_points"));
  EXPECT_EQ(short_r.json["shortfall"], (json{{"R", 500}})) << short_r;
  EXPECT_EQ(short_r.json["needed"], (json{{"T", 1500}, {"R", 1500}})) << short_r;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 3000);

  auto two = Redeem(a.agent, Body(m, "VOUCHER", 3, 2));
  ASSERT_EQ(two.status, 201) << two;
  EXPECT_EQ(two.json["quantity"], 2) << two;
  EXPECT_EQ(two.json["points"], 3000) << two;
  EXPECT_EQ(two.json["points_by_source"], (json{{"T", 2000}, {"R", 1000}})) << two;
  EXPECT_EQ(two.json["balance"], 0) << two;
  auto got = GetRedemption(a.agent, two.json["redemption_id"].get<std::int64_t>());
  EXPECT_EQ(Lines(got), (Sums{{"T>R redemption cross", 2000}, {"R>R redemption internal", 1000}})) << got;

  // A plain price is multiplied too.
  NewReward(a.admin, "PLAIN", "T", {{"points", 120}});
  auto p = Enrol(a.agent);
  Give(a.r_key, p, 500);
  auto five = Redeem(a.agent, Body(p, "PLAIN", std::nullopt, 5));
  ASSERT_TRUE(IsProblem(five, 422, "insufficient_points"));
  EXPECT_EQ(Total(five.json["needed"]), 600) << five;
  EXPECT_EQ(Total(five.json["shortfall"]), 100) << five;
  auto four = Redeem(a.agent, Body(p, "PLAIN", std::nullopt, 4));
  ASSERT_EQ(four.status, 201) << four;
  EXPECT_EQ(four.json["points"], 480) << four;
  EXPECT_EQ(four.json["balance"], 20) << four;
}

TEST_F(RedemptionTest, AnOptionOutOfRangeIsNotOfferedAndChangesNothing) {
  auto a = CreateAlliance();
  NewReward(a.admin, "VOUCHER", "R", Bands(), 10);
  NewReward(a.admin, "PLAIN", "T", {{"points", 100}}, 10);
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 5000);
  Give(a.r_key, m, 5000);
  const auto before = Snapshot(a.agent, m.member_id);
  for (std::int64_t option : {4, 19}) {
    auto r = Redeem(a.agent, Body(m, "VOUCHER", option));
    EXPECT_TRUE(IsProblem(r, 422, "option_not_offered", "option")) << "option " << option;
  }
  // A plain price has no options to name.
  EXPECT_TRUE(IsProblem(Redeem(a.agent, Body(m, "PLAIN", 0)), 422, "option_not_offered", "option"));
  EXPECT_EQ(Snapshot(a.agent, m.member_id), before);
  EXPECT_EQ(Stock(a.agent, "VOUCHER"), 10);
  EXPECT_EQ(Stock(a.agent, "PLAIN"), 10);
  EXPECT_EQ(Ledger(a.agent, m.member_id).size(), 2u);
}

TEST_F(RedemptionTest, PlainPriceConsumesPointsOfAnySource) {
  auto a = CreateAlliance();
  NewReward(a.t_key, "DATA-5G", "T", {{"points", 800}});
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 300);
  Give(a.r_key, m, 600);
  auto r = Redeem(a.t_key, Body(m, "DATA-5G"));
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_TRUE(r.json["option"].is_null()) << r;
  EXPECT_EQ(r.json["points"], 800) << r;
  EXPECT_EQ(r.json["points_by_source"], (json{{"T", 300}, {"R", 500}})) << r;
  EXPECT_EQ(r.json["balance"], 100) << r;
  auto got = GetRedemption(a.t_key, r.json["redemption_id"].get<std::int64_t>());
  EXPECT_EQ(Lines(got), (Sums{{"T>T redemption internal", 300}, {"R>T redemption cross", 500}})) << got;
  EXPECT_EQ(Balance(a.agent, m.member_id)["by_source"], (json{{"R", 100}}));
  EXPECT_EQ(LedgerBySource(a.agent, m.member_id, "redemption"), (Sums{{"T", -300}, {"R", -500}}));
}

// ------------------------------------------------------------------ earliest expiry first

TEST_F(RedemptionTest, EarliestExpiryIsConsumedFirstAcrossSourcesAndWithinAnOption) {
  auto a = CreateAlliance();
  SetPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}}});
  const int y = ThisYear();
  auto m = Enrol(a.agent);
  // Posted newest first, so the order of the lots' ids is the reverse of their expiry.
  Give(a.t_key, m, 100, EarnedIn(y));
  Give(a.t_key, m, 100, EarnedIn(y - 1));
  Give(a.r_key, m, 100, EarnedIn(y - 2));
  Give(a.r_key, m, 100, EarnedIn(y));
  // Earned three years ago: already expired, never spendable.
  Give(a.t_key, m, 1000, EarnedIn(y - 3));
  auto before = Balance(a.agent, m.member_id);
  ASSERT_EQ(before["available"], 400) << before;
  ASSERT_EQ(Expiring(before), (std::map<std::int64_t, std::int64_t>{
                                  {ExpiryOf(y - 2), 100}, {ExpiryOf(y - 1), 100}, {ExpiryOf(y), 200}}))
      << before;

  // A plain price takes R's oldest points, then T's next-oldest.
  NewReward(a.admin, "PLAIN", "T", {{"points", 150}});
  auto plain = Redeem(a.agent, Body(m, "PLAIN"));
  ASSERT_EQ(plain.status, 201) << plain;
  EXPECT_EQ(plain.json["points_by_source"], (json{{"R", 100}, {"T", 50}})) << plain;
  auto after = Balance(a.agent, m.member_id);
  EXPECT_EQ(Expiring(after),
            (std::map<std::int64_t, std::int64_t>{{ExpiryOf(y - 1), 50}, {ExpiryOf(y), 200}}))
      << after;
  EXPECT_EQ(after["by_source"], (json{{"T", 150}, {"R", 100}})) << after;

  // An option of T points takes T's earliest first (the rest of the older lot, then the newest).
  NewReward(a.admin, "T-ONLY", "R", {{"options", json::array({{{"T", 80}}})}});
  auto t_only = Redeem(a.agent, Body(m, "T-ONLY"));
  ASSERT_EQ(t_only.status, 201) << t_only;
  EXPECT_EQ(t_only.json["points_by_source"], (json{{"T", 80}})) << t_only;
  // Two lots of one source: one cross line for all 80 points.
  EXPECT_EQ(Lines(GetRedemption(a.agent, t_only.json["redemption_id"].get<std::int64_t>())),
            (Sums{{"T>R redemption cross", 80}}));
  after = Balance(a.agent, m.member_id);
  EXPECT_EQ(Expiring(after), (std::map<std::int64_t, std::int64_t>{{ExpiryOf(y), 170}})) << after;
  EXPECT_EQ(after["by_source"], (json{{"T", 70}, {"R", 100}})) << after;
  EXPECT_EQ(after["available"], 170) << after;
  EXPECT_EQ(after["lifetime"], 1400) << after;
}

TEST_F(RedemptionTest, ACombinedBandTakesEachSourcesEarliestLots) {
  auto a = CreateAlliance();
  SetPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}}});
  const int y = ThisYear();
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 600, EarnedIn(y));
  Give(a.r_key, m, 600, EarnedIn(y));
  Give(a.t_key, m, 400, EarnedIn(y - 2));
  Give(a.r_key, m, 300, EarnedIn(y - 1));
  NewReward(a.admin, "VOUCHER", "R", Bands());
  auto r = Redeem(a.agent, Body(m, "VOUCHER", 2));
  ASSERT_EQ(r.status, 201) << r;
  auto b = Balance(a.agent, m.member_id);
  // T: 400 of y-2 and 100 of y; R: 300 of y-1 and 200 of y.
  EXPECT_EQ(Expiring(b), (std::map<std::int64_t, std::int64_t>{{ExpiryOf(y), 500 + 400}})) << b;
  EXPECT_EQ(b["by_source"], (json{{"T", 500}, {"R", 400}})) << b;
}

// ------------------------------------------------------------------ cancellation

TEST_F(RedemptionTest, CancellationPutsTheExactPointsBackWithTheirExpiryAndOffsetsTheLines) {
  auto a = CreateAlliance();
  SetPolicy(a.admin, {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}}});
  const int y = ThisYear();
  auto m = Enrol(a.agent);
  // T's points sit in two lots of different expiry; the redemption takes from both.
  Give(a.t_key, m, 200, EarnedIn(y - 2));
  Give(a.r_key, m, 150, EarnedIn(y - 1));
  Give(a.t_key, m, 100, EarnedIn(y));
  NewReward(a.admin, "GOODS", "R", {{"points", 400}}, 5);
  const auto before = Snapshot(a.agent, m.member_id);
  ASSERT_EQ(before["available"], 450) << before;
  ASSERT_EQ(Expiring(before), (std::map<std::int64_t, std::int64_t>{
                                  {ExpiryOf(y - 2), 200}, {ExpiryOf(y - 1), 150}, {ExpiryOf(y), 100}}))
      << before;

  auto r = Redeem(a.agent, Body(m, "GOODS"));
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["points_by_source"], (json{{"T", 250}, {"R", 150}})) << r;
  EXPECT_EQ(Stock(a.agent, "GOODS"), 4);
  const auto id = r.json["redemption_id"].get<std::int64_t>();
  const auto spent = Snapshot(a.agent, m.member_id);
  EXPECT_EQ(spent["available"], 50) << spent;
  EXPECT_EQ(Expiring(spent), (std::map<std::int64_t, std::int64_t>{{ExpiryOf(y), 50}})) << spent;

  auto c = Cancel(a.r_key, id, "顾客退货");
  ASSERT_EQ(c.status, 200) << c;
  EXPECT_EQ(c.json["redemption_id"], id) << c;
  EXPECT_EQ(c.json["status"], "cancelled") << c;
  EXPECT_TRUE(c.json["cancelled_at"].is_string()) << c;
  EXPECT_EQ(c.json["balance"], 450) << c;

  // Every point is back in the lot it came from: same sources, same expiry instants.
  const auto restored = Snapshot(a.agent, m.member_id);
  EXPECT_EQ(restored["expiring"], before["expiring"]) << restored;
  EXPECT_EQ(restored, before);
  EXPECT_EQ(Stock(a.agent, "GOODS"), 5);

  auto got = GetRedemption(a.agent, id);
  EXPECT_EQ(got["status"], "cancelled") << got;
  EXPECT_EQ(got["cancelled_at"], c.json["cancelled_at"]) << got;
  EXPECT_EQ(got["points_by_source"], (json{{"T", 250}, {"R", 150}})) << got;
  ASSERT_EQ(got["settlement_lines"].size(), 4u) << got;
  // The original lines stay; negative ones, booked at the cancellation, offset them.
  EXPECT_EQ(Lines(got), (Sums{{"T>R redemption cross", 250},
                              {"R>R redemption internal", 150},
                              {"T>R cancellation cross", -250},
                              {"R>R cancellation internal", -150}}))
      << got;
  Sums per_pair;
  const auto cancelled_at = ParseInstant(c.json["cancelled_at"].get<std::string>());
  for (const auto& l : got["settlement_lines"]) {
    per_pair[l["source"].get<std::string>() + ">" + l["fulfiller"].get<std::string>()] +=
        l["points"].get<std::int64_t>();
    if (l["kind"] == "cancellation") {
      EXPECT_LT(l["points"].get<std::int64_t>(), 0) << l;
      EXPECT_EQ(ParseInstant(l["booked_at"].get<std::string>()), cancelled_at) << l;
    }
  }
  EXPECT_EQ(per_pair, (Sums{{"T>R", 0}, {"R>R", 0}})) << got;
  EXPECT_EQ(LedgerBySource(a.agent, m.member_id, "cancellation"), (Sums{{"T", 250}, {"R", 150}}));
  EXPECT_EQ(LedgerBySource(a.agent, m.member_id, "redemption"), (Sums{{"T", -250}, {"R", -150}}));

  // Twice is a conflict and changes nothing.
  auto again = Cancel(a.agent, id);
  EXPECT_TRUE(IsProblem(again, 409, "already_cancelled"));
  EXPECT_EQ(Snapshot(a.agent, m.member_id), before);
  EXPECT_EQ(Stock(a.agent, "GOODS"), 5);
  EXPECT_EQ(GetRedemption(a.agent, id)["settlement_lines"].size(), 4u);

  // The restored points are the oldest again: the next redemption takes the same ones.
  auto next = Redeem(a.agent, Body(m, "GOODS"));
  ASSERT_EQ(next.status, 201) << next;
  EXPECT_EQ(next.json["points_by_source"], (json{{"T", 250}, {"R", 150}})) << next;
  EXPECT_EQ(Snapshot(a.agent, m.member_id), spent);
}

TEST_F(RedemptionTest, CancellingAfterTheWindowIsRefusedAndChangesNothing) {
  auto a = CreateAlliance();
  SetPolicy(a.admin, {{"expiry", {{"kind", "never"}}}, {"cancel_window_hours", 0}});
  auto m = Enrol(a.agent);
  Give(a.r_key, m, 500);
  NewReward(a.admin, "GOODS", "R", {{"points", 200}}, 3);
  auto r = Redeem(a.agent, Body(m, "GOODS"));
  ASSERT_EQ(r.status, 201) << r;
  const auto id = r.json["redemption_id"].get<std::int64_t>();
  const auto spent = Snapshot(a.agent, m.member_id);
  auto c = Cancel(a.agent, id);
  EXPECT_TRUE(IsProblem(c, 422, "cancel_window_closed"));
  EXPECT_EQ(Snapshot(a.agent, m.member_id), spent);
  EXPECT_EQ(Stock(a.agent, "GOODS"), 2);
  auto got = GetRedemption(a.agent, id);
  EXPECT_EQ(got["status"], "completed") << got;
  EXPECT_EQ(got["settlement_lines"].size(), 1u) << got;
  EXPECT_TRUE(LedgerBySource(a.agent, m.member_id, "cancellation").empty());
}

TEST_F(RedemptionTest, CancelNeedsNoBodyButRefusesABadReason) {
  auto a = CreateAlliance();
  NewReward(a.admin, "GOODS", "T", {{"points", 100}}, 3);
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 500);
  auto r = Redeem(a.t_key, Body(m, "GOODS"));
  ASSERT_EQ(r.status, 201) << r;
  const auto id = r.json["redemption_id"].get<std::int64_t>();
  const auto path = "/v1/redemptions/" + std::to_string(id) + "/cancel";
  auto too_long = http().Post(path, {{"reason", std::string(501, 'x')}}, a.t_key);
  EXPECT_TRUE(IsProblem(too_long, 400, "", "reason"));
  auto not_json = http().Call("POST", path, std::nullopt, a.t_key, RawBody("{reason"));
  EXPECT_TRUE(IsProblem(not_json, 400));
  EXPECT_EQ(GetRedemption(a.t_key, id)["status"], "completed");
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 400);
  EXPECT_EQ(Stock(a.agent, "GOODS"), 2);

  auto c = http().Call("POST", path, std::nullopt, a.t_key);
  ASSERT_EQ(c.status, 200) << c;
  EXPECT_EQ(c.json["status"], "cancelled") << c;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 500);
  EXPECT_EQ(Stock(a.agent, "GOODS"), 3);
}

TEST_F(RedemptionTest, UnknownOrAnotherTenantsRedemptionIs404) {
  auto a = CreateAlliance();
  auto b = CreateAlliance();
  NewReward(b.admin, "GOODS", "R", {{"points", 100}}, 3);
  auto m = Enrol(b.agent);
  Give(b.r_key, m, 500);
  auto r = Redeem(b.agent, Body(m, "GOODS"));
  ASSERT_EQ(r.status, 201) << r;
  const auto id = r.json["redemption_id"].get<std::int64_t>();
  const auto path = "/v1/redemptions/" + std::to_string(id);

  EXPECT_TRUE(IsProblem(http().Get(path, a.admin), 404));
  EXPECT_TRUE(IsProblem(http().Post(path + "/cancel", {{"reason", "x"}}, a.admin), 404));
  EXPECT_TRUE(IsProblem(http().Post(path + "/cancel", {{"reason", "x"}}, a.r_key), 404));
  EXPECT_TRUE(IsProblem(http().Get("/v1/redemptions/987654321", b.admin), 404));
  EXPECT_TRUE(IsProblem(http().Post("/v1/redemptions/987654321/cancel", {{"reason", "x"}}, b.admin), 404));
  // A partner that neither fulfils nor asked for it does not see it either.
  EXPECT_TRUE(IsProblem(http().Post(path + "/cancel", {{"reason", "x"}}, b.t_key), 404));
  auto still = GetRedemption(b.agent, id);
  EXPECT_EQ(still["status"], "completed") << still;
  EXPECT_EQ(Balance(b.agent, m.member_id)["available"], 400);
  EXPECT_EQ(Stock(b.agent, "GOODS"), 2);
}

// ------------------------------------------------------------------ card and member

TEST_F(RedemptionTest, ALostOrUnknownCardIsRefused) {
  auto a = CreateAlliance();
  NewReward(a.admin, "GOODS", "R", {{"points", 100}}, 3);
  auto m = Enrol(a.agent);
  Give(a.r_key, m, 500);
  auto lost = http().Post("/v1/cards/" + m.card_no + "/report-lost", json::object(), a.agent);
  ASSERT_EQ(lost.status, 200) << lost;
  EXPECT_TRUE(IsProblem(Redeem(a.r_key, Body(m, "GOODS")), 422, "card_lost"));
  Enrolled nobody{m.member_id, UnissuedCardNumber()};
  EXPECT_TRUE(IsProblem(Redeem(a.r_key, Body(nobody, "GOODS")), 422, "unknown_card"));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 500);
  EXPECT_EQ(Stock(a.agent, "GOODS"), 3);
  EXPECT_TRUE(LedgerBySource(a.agent, m.member_id, "redemption").empty());
}

TEST_F(RedemptionTest, AReplacedCardIsNotActiveButItsReplacementRedeemsTheSameBalance) {
  auto a = CreateAlliance();
  NewReward(a.admin, "GOODS", "R", {{"points", 100}}, 3);
  auto m = Enrol(a.agent);
  Give(a.r_key, m, 500);
  auto replacement =
      http().Post("/v1/members/" + std::to_string(m.member_id) + "/cards", json::object(), a.agent);
  ASSERT_EQ(replacement.status, 201) << replacement;
  EXPECT_TRUE(IsProblem(Redeem(a.r_key, Body(m, "GOODS")), 422, "card_not_active"));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 500);
  EXPECT_EQ(Stock(a.agent, "GOODS"), 3);
  Enrolled renewed{m.member_id, replacement.json["card_no"].get<std::string>()};
  auto r = Redeem(a.r_key, Body(renewed, "GOODS"));
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["member_id"], m.member_id) << r;
  EXPECT_EQ(r.json["balance"], 400) << r;
}

TEST_F(RedemptionTest, ASuspendedMemberIsRefused) {
  auto a = CreateAlliance();
  NewReward(a.admin, "GOODS", "R", {{"points", 100}}, 3);
  auto m = Enrol(a.agent);
  Give(a.r_key, m, 500);
  // No endpoint suspends a member yet: the status is set in the database.
  server().Sql("UPDATE members SET status = 'suspended' WHERE id = $1", {std::to_string(m.member_id)});
  EXPECT_TRUE(IsProblem(Redeem(a.agent, Body(m, "GOODS")), 422, "member_inactive"));
  auto by_id = Body(m, "GOODS");
  by_id.erase("card_no");
  by_id["member_id"] = m.member_id;
  EXPECT_TRUE(IsProblem(Redeem(a.agent, by_id), 422, "member_inactive"));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 500);
  EXPECT_EQ(Stock(a.agent, "GOODS"), 3);
}

// ------------------------------------------------------------------ idempotency

TEST_F(RedemptionTest, ReplayReturnsTheFirstAnswerAndAnotherBodyIs409) {
  auto a = CreateAlliance();
  NewReward(a.admin, "GOODS", "T", {{"points", 100}}, 20);
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 1000);
  auto body = Body(m, "GOODS", std::nullopt, 2);
  auto first = Redeem(a.t_key, body);
  ASSERT_EQ(first.status, 201) << first;
  ASSERT_EQ(Redeem(a.t_key, Body(m, "GOODS")).status, 201);  // the balance moves on in between

  auto replay = Redeem(a.t_key, body);
  EXPECT_EQ(replay.status, 200) << replay;
  EXPECT_EQ(replay.Header("Idempotent-Replay"), "true") << replay;
  EXPECT_EQ(replay.json, first.json) << "first: " << first << "\nreplay: " << replay;
  const std::string reordered = "{\"quantity\": 2, \"reward\": \"GOODS\",\n \"card_no\": \"" + m.card_no +
                                "\", \"request_id\": \"" + body["request_id"].get<std::string>() + "\"}";
  auto raw = http().Call("POST", "/v1/redemptions", std::nullopt, a.t_key, RawBody(reordered));
  EXPECT_EQ(raw.status, 200) << raw;
  EXPECT_EQ(raw.json, first.json) << raw;

  auto other_quantity = body;
  other_quantity["quantity"] = 3;
  EXPECT_TRUE(IsProblem(Redeem(a.t_key, other_quantity), 409));
  auto by_member = body;
  by_member.erase("card_no");
  by_member["member_id"] = m.member_id;
  EXPECT_TRUE(IsProblem(Redeem(a.t_key, by_member), 409));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 700);
  EXPECT_EQ(Stock(a.agent, "GOODS"), 17);
  EXPECT_EQ(LedgerBySource(a.agent, m.member_id, "redemption"), (Sums{{"T", -300}}));

  // A partner's ids are its own: R's same request_id is another redemption.
  auto from_r = Redeem(a.r_key, body);
  ASSERT_EQ(from_r.status, 201) << from_r;
  EXPECT_NE(from_r.json["redemption_id"], first.json["redemption_id"]);
  // Agent and admin share the tenant's ids.
  auto desk = Body(m, "GOODS");
  ASSERT_EQ(Redeem(a.agent, desk).status, 201);
  auto admin_replay = Redeem(a.admin, desk);
  EXPECT_EQ(admin_replay.status, 200) << admin_replay;
  EXPECT_EQ(admin_replay.Header("Idempotent-Replay"), "true") << admin_replay;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 400);
}

TEST_F(RedemptionTest, ARefusalIsReplayedAsTheSame422) {
  auto a = CreateAlliance();
  NewReward(a.admin, "GOODS", "T", {{"points", 100}}, 20);
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 50);
  auto body = Body(m, "GOODS");
  auto refused = Redeem(a.agent, body);
  ASSERT_TRUE(IsProblem(refused, 422, "insufficient_points"));
  EXPECT_FALSE(refused.HasHeader("Idempotent-Replay")) << refused;
  EXPECT_EQ(Total(refused.json["shortfall"]), 50) << refused;

  Give(a.t_key, m, 100);  // now it could be paid, but the id has its answer
  auto replay = Redeem(a.agent, body);
  EXPECT_TRUE(IsProblem(replay, 422, "insufficient_points"));
  EXPECT_EQ(replay.Header("Idempotent-Replay"), "true") << replay;
  EXPECT_EQ(replay.json, refused.json) << replay;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 150);
  EXPECT_EQ(Stock(a.agent, "GOODS"), 20);

  auto fresh = Redeem(a.agent, Body(m, "GOODS"));
  EXPECT_EQ(fresh.status, 201) << fresh;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 50);
}

TEST_F(RedemptionTest, ARequestRejectedAs400DoesNotUseUpItsId) {
  auto a = CreateAlliance();
  NewReward(a.admin, "GOODS", "T", {{"points", 100}});
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 500);
  auto body = Body(m, "GOODS", std::nullopt, 0);
  EXPECT_TRUE(IsProblem(Redeem(a.agent, body), 400, "", "quantity"));
  body["quantity"] = 1;
  auto ok = Redeem(a.agent, body);
  EXPECT_EQ(ok.status, 201) << ok;
  EXPECT_FALSE(ok.HasHeader("Idempotent-Replay")) << ok;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 400);
}

// ------------------------------------------------------------------ bad input

TEST_F(RedemptionTest, BadInputIsA4xxAndChangesNothing) {
  auto a = CreateAlliance();
  NewReward(a.admin, "GOODS", "T", {{"points", 100}}, 5);
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 1000);
  const auto before = Snapshot(a.agent, m.member_id);
  const auto entries = Ledger(a.agent, m.member_id).size();
  auto unchanged = [&](const std::string& what) {
    EXPECT_EQ(Snapshot(a.agent, m.member_id), before) << what;
    EXPECT_EQ(Stock(a.agent, "GOODS"), 5) << what;
    EXPECT_EQ(Ledger(a.agent, m.member_id).size(), entries) << what;
  };

  auto unknown = Redeem(a.agent, Body(m, "NO-SUCH-REWARD"));
  EXPECT_TRUE(IsProblem(unknown, 422, "unknown_reward", "reward"));
  unchanged("unknown reward");

  for (const json& q : {json(0), json(-1), json(1.5), json("2"), json(1001)}) {
    auto body = Body(m, "GOODS");
    body["quantity"] = q;
    EXPECT_TRUE(IsProblem(Redeem(a.agent, body), 400, "", "quantity")) << "quantity " << q;
    unchanged("quantity " + q.dump());
  }
  auto negative_option = Body(m, "GOODS", -1);
  EXPECT_TRUE(IsProblem(Redeem(a.agent, negative_option), 400, "", "option"));
  unchanged("option -1");

  auto no_reward = Body(m, "GOODS");
  no_reward.erase("reward");
  EXPECT_TRUE(IsProblem(Redeem(a.agent, no_reward), 400, "", "reward"));
  unchanged("missing reward");

  auto no_request_id = Body(m, "GOODS");
  no_request_id.erase("request_id");
  EXPECT_TRUE(IsProblem(Redeem(a.agent, no_request_id), 400, "", "request_id"));
  unchanged("missing request_id");

  auto both = Body(m, "GOODS");
  both["member_id"] = m.member_id;
  EXPECT_TRUE(IsProblem(Redeem(a.agent, both), 400));
  unchanged("both card_no and member_id");

  auto neither = Body(m, "GOODS");
  neither.erase("card_no");
  EXPECT_TRUE(IsProblem(Redeem(a.agent, neither), 400));
  unchanged("neither card_no nor member_id");

  auto malformed =
      http().Call("POST", "/v1/redemptions", std::nullopt, a.agent,
                  RawBody("{\"request_id\": \"x1\", \"card_no\": \"" + m.card_no + "\", \"reward\": "));
  EXPECT_TRUE(IsProblem(malformed, 400));
  auto not_object = http().Call("POST", "/v1/redemptions", std::nullopt, a.agent, RawBody("[1, 2]"));
  EXPECT_TRUE(IsProblem(not_object, 400));
  unchanged("malformed JSON");

  // Roles: finance does not redeem; no key is 401.
  EXPECT_TRUE(IsProblem(Redeem(a.finance, Body(m, "GOODS")), 403));
  EXPECT_TRUE(IsProblem(Redeem("", Body(m, "GOODS")), 401));
  unchanged("wrong role");

  auto by_id = Body(m, "GOODS");
  by_id.erase("card_no");
  by_id["member_id"] = 987654321;
  EXPECT_TRUE(IsProblem(Redeem(a.agent, by_id), 422, "unknown_member"));
  unchanged("unknown member");
}

// ------------------------------------------------------------------ concurrency

TEST_F(RedemptionConcurrencyTest, AHundredRacingRedemptionsOfTenAffordableNeverOverspend) {
  auto a = CreateAlliance();
  NewReward(a.admin, "C100", "T", {{"points", 100}});
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 600);
  Give(a.r_key, m, 400);
  constexpr int kThreads = 16;
  constexpr int kRequests = 100;
  std::mutex mu;
  std::vector<Response> created;
  int refused = 0;
  std::vector<std::string> failures;
  const std::vector<std::string> keys = {a.t_key, a.r_key, a.agent, a.admin};
  Parallel(kThreads, [&](int t, HttpClient& client) {
    for (int i = t; i < kRequests; i += kThreads) {
      auto r =
          client.Post("/v1/redemptions", Body(m, "C100"), keys[static_cast<std::size_t>(i) % keys.size()]);
      std::lock_guard lock(mu);
      if (r.status == 201) {
        created.push_back(std::move(r));
      } else if (r.status == 422 && r.json.value("code", "") == "insufficient_points") {
        ++refused;
      } else {
        failures.push_back(Show(r));
      }
    }
  });
  for (const auto& f : failures) ADD_FAILURE() << "neither 201 nor 422 insufficient_points: " << f;
  EXPECT_EQ(created.size(), 10u);
  EXPECT_EQ(refused, 90);

  std::set<std::int64_t> balances, ids;
  Sums by_source;
  for (const auto& r : created) {
    balances.insert(r.json["balance"].get<std::int64_t>());
    ids.insert(r.json["redemption_id"].get<std::int64_t>());
    for (const auto& [src, pts] : r.json["points_by_source"].items())
      by_source[src] += pts.get<std::int64_t>();
  }
  // Each success saw the one before it: the balances after them are 900, 800, ..., 0.
  EXPECT_EQ(balances, (std::set<std::int64_t>{0, 100, 200, 300, 400, 500, 600, 700, 800, 900}));
  EXPECT_EQ(ids.size(), created.size());
  EXPECT_EQ(by_source, (Sums{{"T", 600}, {"R", 400}}));
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 0) << b;
  EXPECT_EQ(b["by_source"], json::object()) << b;
  EXPECT_EQ(b["lifetime"], 1000) << b;
  EXPECT_EQ(LedgerBySource(a.agent, m.member_id, "redemption"), (Sums{{"T", -600}, {"R", -400}}));
  Sums lines;
  for (auto id : ids) {
    for (const auto& [k, v] : Lines(GetRedemption(a.admin, id))) lines[k] += v;
  }
  EXPECT_EQ(lines, (Sums{{"T>T redemption internal", 600}, {"R>T redemption cross", 400}}));
  VerifyPasses();
}

TEST_F(RedemptionConcurrencyTest, RacingForTheLastStockSellsExactlyTheStock) {
  auto a = CreateAlliance();
  NewReward(a.admin, "RARE", "R", {{"points", 10}}, 5);
  auto m = Enrol(a.agent);
  Give(a.r_key, m, 5000);
  constexpr int kThreads = 16;
  std::atomic<int> created{0}, out_of_stock{0};
  std::mutex mu;
  std::vector<std::string> failures;
  Parallel(kThreads, [&](int t, HttpClient& client) {
    for (int i = 0; i < 3; ++i) {
      auto r = client.Post("/v1/redemptions", Body(m, "RARE"), t % 2 ? a.r_key : a.agent);
      if (r.status == 201) {
        ++created;
      } else if (r.status == 422 && r.json.value("code", "") == "out_of_stock") {
        ++out_of_stock;
      } else {
        std::lock_guard lock(mu);
        failures.push_back(Show(r));
      }
    }
  });
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_EQ(created.load(), 5);
  EXPECT_EQ(out_of_stock.load(), kThreads * 3 - 5);
  EXPECT_EQ(Stock(a.agent, "RARE"), 0);
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 5000 - 50);
}

TEST_F(RedemptionConcurrencyTest, RacingTheSameRequestIdRedeemsOnce) {
  auto a = CreateAlliance();
  NewReward(a.admin, "GOODS", "T", {{"points", 100}});
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 1000);
  constexpr int kThreads = 8;
  for (int round = 0; round < 3; ++round) {
    const auto body = Body(m, "GOODS");
    std::vector<Response> answers(kThreads);
    Parallel(kThreads,
             [&](int t, HttpClient& client) { answers[t] = client.Post("/v1/redemptions", body, a.agent); });
    int first = 0, replays = 0;
    for (const auto& r : answers) {
      if (r.status == 201) ++first;
      if (r.status == 200 && r.Header("Idempotent-Replay") == "true") ++replays;
      EXPECT_EQ(r.json["redemption_id"], answers[0].json["redemption_id"]) << "round " << round << ": " << r;
    }
    EXPECT_EQ(first, 1) << "round " << round;
    EXPECT_EQ(replays, kThreads - 1) << "round " << round;
  }
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 700);
}

TEST_F(RedemptionConcurrencyTest, RacingCancelsOfOneRedemptionRestoreItOnce) {
  auto a = CreateAlliance();
  NewReward(a.admin, "GOODS", "R", {{"points", 300}}, 4);
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 200);
  Give(a.r_key, m, 200);
  auto r = Redeem(a.agent, Body(m, "GOODS"));
  ASSERT_EQ(r.status, 201) << r;
  const auto id = r.json["redemption_id"].get<std::int64_t>();
  constexpr int kThreads = 8;
  std::vector<Response> answers(kThreads);
  Parallel(kThreads, [&](int t, HttpClient& client) {
    answers[t] = client.Post("/v1/redemptions/" + std::to_string(id) + "/cancel", {{"reason", "并发"}},
                             t % 2 ? a.agent : a.admin);
  });
  int ok = 0, conflicts = 0;
  for (const auto& c : answers) {
    if (c.status == 200) {
      ++ok;
    } else if (IsProblem(c, 409, "already_cancelled")) {
      ++conflicts;
    } else {
      ADD_FAILURE() << c;
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(conflicts, kThreads - 1);
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 400) << b;
  EXPECT_EQ(b["by_source"], (json{{"T", 200}, {"R", 200}})) << b;
  EXPECT_EQ(Stock(a.agent, "GOODS"), 4);
  EXPECT_EQ(GetRedemption(a.agent, id)["settlement_lines"].size(), 4u);
  VerifyPasses();
}

TEST_F(RedemptionConcurrencyTest, RedemptionsRacingAccrualsKeepTheBalanceExact) {
  auto a = CreateAlliance();
  NewReward(a.admin, "GOODS", "R", {{"points", 50}});
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 300);
  constexpr int kAccrualThreads = 4;
  constexpr int kRedeemThreads = 12;
  constexpr int kAccrualsEach = 25;
  constexpr int kRedemptionsEach = 10;
  std::atomic<std::int64_t> accrued{300}, redeemed{0};
  std::atomic<int> refused{0};
  std::mutex mu;
  std::vector<std::string> failures;
  const std::vector<std::string> redeemers = {a.agent, a.admin, a.t_key, a.r_key};
  Parallel(kAccrualThreads + kRedeemThreads, [&](int t, HttpClient& client) {
    if (t < kAccrualThreads) {
      for (int i = 0; i < kAccrualsEach; ++i) {
        const std::int64_t points = 7 * (t + 1) + i;
        json event = {{"event_id", NewEventId()},
                      {"member_id", m.member_id},
                      {"points", points},
                      {"occurred_at", "2026-06-01T10:00:00+08:00"}};
        auto r = client.Post("/v1/accruals", event, t % 2 ? a.r_key : a.t_key);
        if (r.status == 201) {
          accrued += points;
        } else {
          std::lock_guard lock(mu);
          failures.push_back("accrual: " + Show(r));
        }
      }
    } else {
      for (int i = 0; i < kRedemptionsEach; ++i) {
        auto r =
            client.Post("/v1/redemptions", Body(m, "GOODS"), redeemers[static_cast<std::size_t>(t + i) % 4]);
        if (r.status == 201) {
          redeemed += r.json["points"].get<std::int64_t>();
        } else if (r.status == 422 && r.json.value("code", "") == "insufficient_points") {
          ++refused;
        } else {
          std::lock_guard lock(mu);
          failures.push_back("redemption: " + Show(r));
        }
      }
    }
  });
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_GT(redeemed.load(), 0);
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], accrued.load() - redeemed.load()) << b;
  EXPECT_GE(b["available"].get<std::int64_t>(), 0) << b;
  EXPECT_EQ(b["lifetime"], accrued.load()) << b;
  std::int64_t ledger_sum = 0;
  for (const auto& e : Ledger(a.agent, m.member_id)) ledger_sum += e["points"].get<std::int64_t>();
  EXPECT_EQ(ledger_sum, accrued.load() - redeemed.load());
  // Every redemption either took exactly its price or was refused for want of points.
  EXPECT_EQ(redeemed.load() / 50 + refused.load(), kRedeemThreads * kRedemptionsEach);
  VerifyPasses();
}

// ------------------------------------------------------------------ grouped redemptions

// One writer, so that concurrent redemptions queue up and run in groups of up to 16 per
// transaction: every answer, refusal, replay and stock count must be what it would be alone.
class GroupedRedemptionTest : public RedemptionBase {
 public:
  static void SetUpTestSuite() {
    StartSuite(
        ServerOptions{{{"UNIPOINTS_REDEMPTION_WRITERS", "1"}, {"UNIPOINTS_REDEMPTION_GROUP_MAX", "16"}}});
  }

 protected:
  std::int64_t Counter(const std::string& name) {
    auto r = http().Get("/metrics");
    const auto at = r.body.find("\n" + name + " ");
    return at == std::string::npos ? 0 : std::stoll(r.body.substr(at + name.size() + 2));
  }
};

TEST_F(GroupedRedemptionTest, GroupsOfManyMembersAnswerEachRequestAsIfAlone) {
  auto a = CreateAlliance();
  NewReward(a.admin, "G10", "T", {{"points", 10}});
  NewReward(a.admin, "G-RARE", "R", {{"points", 1}}, 7);
  constexpr int kMembers = 6;
  std::vector<Enrolled> members;
  for (int i = 0; i < kMembers; ++i) {
    members.push_back(Enrol(a.agent));
    Give(a.t_key, members.back(), 55);  // five G10 each, no more, and a few rare ones besides
  }
  const auto groups_before = Counter("unipoints_redemption_groups_total");
  const auto requests_before = Counter("unipoints_redemption_group_requests_total");

  constexpr int kThreads = 16;
  constexpr int kEach = 6;
  std::mutex mu;
  std::map<std::int64_t, int> created;  // member -> G10 redeemed
  std::map<std::int64_t, std::set<std::int64_t>> balances;
  int insufficient = 0, rare = 0, sold_out = 0, unknown = 0, replays = 0;
  std::vector<std::string> failures;
  Parallel(kThreads, [&](int t, HttpClient& client) {
    for (int i = 0; i < kEach; ++i) {
      const auto& m = members[static_cast<std::size_t>(t + i) % kMembers];
      json body;
      if (i == 2) {
        body = Body(m, "G-RARE");
      } else if (i == 4) {
        body = Body(m, "NO-SUCH-REWARD");
      } else {
        body = Body(m, "G10");
      }
      auto r = client.Post("/v1/redemptions", body, t % 2 ? a.agent : a.t_key);
      // The same request again at once: its first answer, whatever it was.
      auto again = client.Post("/v1/redemptions", body, t % 2 ? a.agent : a.t_key);
      std::lock_guard lock(mu);
      if (again.json != r.json || again.Header("Idempotent-Replay") != "true" ||
          again.status != (r.status == 201 ? 200 : r.status)) {
        failures.push_back("replay differs: " + Show(r) + " then " + Show(again));
      } else {
        ++replays;
      }
      const auto code = r.json.value("code", "");
      if (r.status == 201 && body["reward"] == "G10") {
        ++created[m.member_id];
        balances[m.member_id].insert(r.json["balance"].get<std::int64_t>());
      } else if (r.status == 201) {
        ++rare;
      } else if (r.status == 422 && code == "insufficient_points") {
        ++insufficient;
      } else if (r.status == 422 && code == "out_of_stock") {
        ++sold_out;
      } else if (r.status == 422 && code == "unknown_reward") {
        ++unknown;
      } else {
        failures.push_back(Show(r));
      }
    }
  });
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_EQ(replays, kThreads * kEach);
  EXPECT_EQ(rare, 7);
  EXPECT_EQ(sold_out, kThreads - 7);
  EXPECT_EQ(unknown, kThreads);
  EXPECT_EQ(Stock(a.agent, "G-RARE"), 0);
  std::int64_t left = 0;
  for (const auto& m : members) {
    const auto b = Balance(a.agent, m.member_id);
    EXPECT_EQ(created[m.member_id], 5) << m.member_id;
    EXPECT_EQ(balances[m.member_id].size(), 5u) << "each success saw the one before it";
    EXPECT_EQ(b["lifetime"], 55) << b;
    left += b["available"].get<std::int64_t>();
  }
  EXPECT_EQ(left, kMembers * 5 - 7);  // 55 - 50 each, less the seven rare ones
  EXPECT_EQ(insufficient, 4 * kThreads - 5 * kMembers);
  const auto groups = Counter("unipoints_redemption_groups_total") - groups_before;
  const auto requests = Counter("unipoints_redemption_group_requests_total") - requests_before;
  EXPECT_EQ(requests, 2 * kThreads * kEach);  // every request went through the committer
  EXPECT_LT(groups, requests);                // and some shared a transaction
  VerifyPasses();
}

}  // namespace
}  // namespace unipoints::testing
