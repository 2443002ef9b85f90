// Every list pages the same way (API.md: ?limit= default 50, max 1000, ?after=<cursor>; the
// answer has items and next, null at the end): walking a list page by page gives each item once,
// in the list's order, and the pages' cursors are refused when malformed.

#include <cstdlib>
#include <string>
#include <vector>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class ListsTest : public IntegrationTest {
 protected:
  // Every item of `path` (which may hold a query) walked `limit` at a time.
  std::vector<json> Walk(const std::string& path, const std::string& key, int limit) {
    std::vector<json> all;
    std::string after;
    for (int page = 0; page < 100; ++page) {
      const auto sep = path.find('?') == std::string::npos ? "?" : "&";
      auto r = http().Get(
          path + sep + "limit=" + std::to_string(limit) + (after.empty() ? "" : "&after=" + after), key);
      EXPECT_EQ(r.status, 200) << r;
      if (r.status != 200) break;
      EXPECT_LE(r.json["items"].size(), static_cast<std::size_t>(limit)) << r;
      for (const auto& item : r.json["items"]) all.push_back(item);
      if (r.json["next"].is_null()) return all;
      after = r.json["next"].get<std::string>();
    }
    ADD_FAILURE() << path << " never ended";
    return all;
  }
  void ExpectSameAsOnePage(const std::string& path, const std::string& key, int limit, std::size_t at_least) {
    auto whole = http().Get(path, key);
    ASSERT_EQ(whole.status, 200) << whole;
    EXPECT_TRUE(whole.json["next"].is_null()) << whole;
    const auto walked = Walk(path, key, limit);
    EXPECT_GE(walked.size(), at_least) << path;
    EXPECT_EQ(json(walked), whole.json["items"]) << path;
    for (const auto* bad : {"limit=0", "limit=1001", "limit=abc", "limit=-1", "after=abc", "after="}) {
      const auto sep = path.find('?') == std::string::npos ? "?" : "&";
      EXPECT_TRUE(IsProblem(http().Get(path + sep + bad, key), 400)) << path << sep << bad;
    }
  }
};

TEST_F(ListsTest, PartnersKeysAgreementsAndRuleVersionsPageLikeEveryList) {
  auto a = CreateAlliance();  // partners T and R, two agreements, one rule version each
  for (const auto* code : {"A1", "Z9", "M5", "B2", "Q7"})
    CreatePartner(a.admin, code, std::string("伙伴 ") + code, "other");
  const auto partners = Walk("/v1/partners", a.admin, 2);
  std::vector<std::string> codes;
  for (const auto& p : partners) codes.push_back(p["code"].get<std::string>());
  EXPECT_EQ(codes, (std::vector<std::string>{"A1", "B2", "M5", "Q7", "R", "T", "Z9"}));
  ExpectSameAsOnePage("/v1/partners", a.agent, 3, 7);

  CreateKey(a.admin, "agent");
  CreateKey(a.admin, "finance");
  ExpectSameAsOnePage("/v1/keys", a.admin, 2, 7);

  for (const auto* from :
       {"2026-02-01T00:00:00+08:00", "2026-03-01T00:00:00+08:00", "2026-04-01T00:00:00+08:00"}) {
    auto r = http().Put(
        "/v1/settlement-agreements",
        {{"payer", "A1"}, {"payee", "T"}, {"price_per_point", "0.010000"}, {"effective_from", from}},
        a.admin);
    ASSERT_EQ(r.status, 201) << r;
  }
  ExpectSameAsOnePage("/v1/settlement-agreements", a.finance, 2, 5);
  const auto agreements = Walk("/v1/settlement-agreements", a.admin, 1);
  ASSERT_EQ(agreements.size(), 5u);
  EXPECT_EQ(agreements[0]["payer"], "A1");  // by pair, then start
  EXPECT_EQ(agreements[2]["effective_from"], "2026-03-31T16:00:00Z");
  EXPECT_EQ(agreements[3]["payer"], "R");

  for (const auto* from : {"2026-05-01T00:00:00+08:00", "2026-06-01T00:00:00+08:00"}) {
    json rules = DemoRetailRules();
    rules["effective_from"] = from;
    PutRules(a.admin, "R", rules);
  }
  const auto versions = Walk("/v1/partners/R/earning-rules", a.admin, 1);
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[0]["version"], 3);  // newest first
  EXPECT_EQ(versions[2]["version"], 1);
  ExpectSameAsOnePage("/v1/partners/R/earning-rules", a.r_key, 2, 3);
}

TEST_F(ListsTest, MembersSharingAPhonePage) {
  auto a = CreateAlliance();
  const std::string phone = "13700000" + std::to_string(1000 + std::rand() % 9000);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Enrol(a.agent, "同号" + std::to_string(i), {}, phone).member_id);
  const auto walked = Walk("/v1/members?phone=" + phone, a.agent, 2);
  std::vector<std::int64_t> got;
  for (const auto& m : walked) got.push_back(m["member_id"].get<std::int64_t>());
  EXPECT_EQ(got, ids);
  ExpectSameAsOnePage("/v1/members?phone=" + phone, a.agent, 2, 5);
}

}  // namespace
}  // namespace unipoints::testing
