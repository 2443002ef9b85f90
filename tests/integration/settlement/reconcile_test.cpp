// Reconciliation of a partner's own redemption_id,points CSV against the server's lines.

#include <ctime>

#include "settlement/settlement_fixture.hpp"

namespace unipoints::testing {
namespace {

class ReconcileTest : public SettlementFixture {
 protected:
  Response Upload(const std::string& key, const std::string& body, const std::string& type = "text/csv") {
    return http().Call("POST", "/v1/settlements/" + CurrentPeriod() + "/reconcile", std::nullopt, key,
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
  EXPECT_EQ(r.json["period"], CurrentPeriod());
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
