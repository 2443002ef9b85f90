// Reconciliation of a partner's own redemption_id,points CSV against the server's lines.

#include <ctime>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

std::string RunningPeriod() {
  std::time_t t = std::time(nullptr) + 8 * 3600;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04d-%02d", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100);
  return buf;
}

class ReconcileTest : public IntegrationTest {
 protected:
  void Points(const std::string& key, const std::string& card, std::int64_t points) {
    auto r = http().Post("/v1/accruals",
                         {{"event_id", NewEventId()},
                          {"card_no", card},
                          {"points", points},
                          {"point_type", "bonus"},
                          {"occurred_at", "2026-06-01T10:00:00+08:00"}},
                         key);
    ASSERT_EQ(r.status, 201) << r;
  }
  void Reward(const std::string& admin, const std::string& code, const std::string& partner,
              const json& option) {
    auto r = http().Post(
        "/v1/rewards",
        {{"code", code}, {"partner", partner}, {"name", code}, {"price", {{"options", {option}}}}}, admin);
    ASSERT_EQ(r.status, 201) << r;
  }
  std::int64_t Redeem(const std::string& key, std::int64_t member, const std::string& reward) {
    auto r = http().Post("/v1/redemptions",
                         {{"request_id", Unique("red-")}, {"member_id", member}, {"reward", reward}}, key);
    EXPECT_EQ(r.status, 201) << r;
    return r.json.value("redemption_id", std::int64_t{0});
  }
  Response Upload(const std::string& key, const std::string& body, const std::string& type = "text/csv") {
    return http().Call("POST", "/v1/settlements/" + RunningPeriod() + "/reconcile", std::nullopt, key,
                       RawBody(body, type));
  }
};

TEST_F(ReconcileTest, ListsMatchesMissingOnEitherSideAndDifferences) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  Points(a.t_key, m.card_no, 2000);
  Points(a.r_key, m.card_no, 2000);
  Reward(a.admin, "R-GIFT", "R", {{"T", 345}});
  Reward(a.admin, "T-GIFT", "T", {{"R", 125}});
  Reward(a.admin, "R-OWN", "R", {{"R", 700}});
  const auto first = Redeem(a.r_key, m.member_id, "R-GIFT");   // T->R 345
  const auto second = Redeem(a.r_key, m.member_id, "R-GIFT");  // T->R 345
  const auto third = Redeem(a.t_key, m.member_id, "T-GIFT");   // R->T 125
  const auto own = Redeem(a.r_key, m.member_id, "R-OWN");      // internal: not settled

  // R's own books: the first matches, the second differs, 999999999 is unknown to the server,
  // and the third is missing.
  auto r = Upload(a.r_key, "\xEF\xBB\xBFredemption_id,points\r\n" + std::to_string(first) + ",345\r\n" +
                               std::to_string(second) + ",300\r\n999999999,50\r\n");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["period"], RunningPeriod());
  EXPECT_EQ(r.json["partner"], "R");
  EXPECT_EQ(r.json["matched"], 1);
  EXPECT_EQ(r.json["differences"],
            (json::array({{{"redemption_id", second}, {"server_points", 345}, {"partner_points", 300}}})));
  EXPECT_EQ(r.json["missing_on_server"], (json::array({{{"redemption_id", 999999999}, {"points", 50}}})));
  EXPECT_EQ(r.json["missing_on_partner"], (json::array({{{"redemption_id", third}, {"points", 125}}})));

  // The internal redemption is no settlement line: uploading it is missing on the server.
  auto internal = Upload(a.r_key, "redemption_id,points\n" + std::to_string(own) + ",700\n");
  ASSERT_EQ(internal.status, 200) << internal;
  EXPECT_EQ(internal.json["missing_on_server"].size(), 1u);
  EXPECT_EQ(internal.json["missing_on_partner"].size(), 3u);

  EXPECT_TRUE(
      IsProblem(Upload(a.r_key, "redemption_id,points\n1,2\nabc,3\n"), 400, "validation_failed", "line 3"));
  EXPECT_TRUE(IsProblem(Upload(a.r_key, "{}", "application/json"), 415, "unsupported_media_type"));
  EXPECT_TRUE(IsProblem(Upload(a.finance, "redemption_id,points\n"), 403));
}

}  // namespace
}  // namespace unipoints::testing
