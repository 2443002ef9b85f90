// The rewards catalogue over HTTP: both kinds of price, who may manage which reward, bad prices
// named by field, and the reward's own limits as a redemption meets them (stock, sale window,
// withdrawal), each refusal changing nothing.

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class RewardTest : public IntegrationTest {
 protected:
  // The alliance's price bands as the seed documents give them.
  static json Bands() {
    return {{"options",
             json::array({{{"T", 500}}, {{"R", 500}}, {{"T", 500}, {"R", 500}}, {{"T", 1000}, {"R", 500}}})}};
  }

  json NewReward(const std::string& key, json body) {
    auto r = http().Post("/v1/rewards", body, key);
    EXPECT_EQ(r.status, 201) << r;
    return r.json;
  }

  json GetReward(const std::string& key, const std::string& code) {
    auto r = http().Get("/v1/rewards/" + UrlEncode(code), key);
    EXPECT_EQ(r.status, 200) << r;
    return r.json;
  }

  void Give(const std::string& partner_key, const Enrolled& m, std::int64_t points) {
    json event = {{"event_id", NewEventId()},
                  {"card_no", m.card_no},
                  {"points", points},
                  {"occurred_at", "2026-06-01T10:00:00+08:00"}};
    auto r = http().Post("/v1/accruals", event, partner_key);
    ASSERT_EQ(r.status, 201) << r;
  }

  Response Redeem(const std::string& key, const Enrolled& m, const std::string& reward,
                  std::int64_t quantity = 1) {
    return http().Post(
        "/v1/redemptions",
        {{"request_id", Unique("rw-")}, {"card_no", m.card_no}, {"reward", reward}, {"quantity", quantity}},
        key);
  }
};

TEST_F(RewardTest, AdminCreatesBothKindsOfPriceAndReadsThemBack) {
  auto a = CreateAlliance();
  auto plain = http().Post("/v1/rewards",
                           {{"code", "AIRTIME-10"},
                            {"partner", "T"},
                            {"name", "话费充值10元"},
                            {"price", {{"points", 1000}}},
                            {"stock", 50}},
                           a.admin);
  ASSERT_EQ(plain.status, 201) << plain;
  EXPECT_EQ(plain.json["code"], "AIRTIME-10") << plain;
  EXPECT_EQ(plain.json["partner"], "T") << plain;
  EXPECT_EQ(plain.json["name"], "话费充值10元") << plain;
  EXPECT_EQ(plain.json["price"], (json{{"points", 1000}})) << plain;
  EXPECT_EQ(plain.json["stock"], 50) << plain;
  EXPECT_EQ(plain.json["status"], "active") << plain;

  auto bands = http().Post(
      "/v1/rewards", {{"code", "VOUCHER-50"}, {"partner", "R"}, {"name", "购物券50元"}, {"price", Bands()}},
      a.admin);
  ASSERT_EQ(bands.status, 201) << bands;
  EXPECT_EQ(bands.json["price"], Bands()) << bands;
  EXPECT_TRUE(bands.json["stock"].is_null()) << "no stock given: unlimited; " << bands;

  EXPECT_EQ(GetReward(a.agent, "VOUCHER-50"), bands.json);
  auto list = http().Get("/v1/rewards", a.finance);
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_EQ(list.json["items"].size(), 2u) << list;
  EXPECT_EQ(list.json["items"][0], plain.json);
  EXPECT_EQ(list.json["items"][1], bands.json);
  auto only_r = http().Get("/v1/rewards?partner=R", a.agent);
  ASSERT_EQ(only_r.status, 200) << only_r;
  ASSERT_EQ(only_r.json["items"].size(), 1u) << only_r;
  EXPECT_EQ(only_r.json["items"][0]["code"], "VOUCHER-50");

  auto dup = http().Post(
      "/v1/rewards", {{"code", "AIRTIME-10"}, {"partner", "R"}, {"name", "x"}, {"price", {{"points", 1}}}},
      a.admin);
  EXPECT_TRUE(IsProblem(dup, 409, "", "code"));
  EXPECT_EQ(GetReward(a.admin, "AIRTIME-10"), plain.json) << "a refused duplicate changed the first";
}

TEST_F(RewardTest, TheCatalogueIsListedInPages) {
  auto a = CreateAlliance();
  for (int i = 0; i < 5; ++i) {
    NewReward(a.admin, {{"code", "P" + std::to_string(i)},
                        {"partner", i % 2 ? "R" : "T"},
                        {"name", "x"},
                        {"price", {{"points", 10 + i}}}});
  }
  std::vector<std::string> seen;
  std::string target = "/v1/rewards?limit=2";
  for (int page = 0; page < 10; ++page) {
    auto r = http().Get(target, a.agent);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_LE(r.json["items"].size(), 2u) << r;
    for (const auto& item : r.json["items"]) seen.push_back(item["code"].get<std::string>());
    if (r.json["next"].is_null()) break;
    target = "/v1/rewards?limit=2&after=" + UrlEncode(r.json["next"].get<std::string>());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"P0", "P1", "P2", "P3", "P4"}));
}

TEST_F(RewardTest, PartnerKeyManagesItsOwnRewardsOnly) {
  auto a = CreateAlliance();
  // Without `partner`, a partner key's reward is its own.
  auto own = http().Post("/v1/rewards",
                         {{"code", "DATA-1G"}, {"name", "1GB流量"}, {"price", {{"points", 300}}}}, a.t_key);
  ASSERT_EQ(own.status, 201) << own;
  EXPECT_EQ(own.json["partner"], "T") << own;

  auto other = http().Post(
      "/v1/rewards", {{"code", "R-GOODS"}, {"partner", "R"}, {"name", "商品"}, {"price", {{"points", 300}}}},
      a.t_key);
  EXPECT_TRUE(IsProblem(other, 403)) << "T's key created a reward R must fulfil";
  EXPECT_EQ(http().Get("/v1/rewards/R-GOODS", a.admin).status, 404);

  auto r_reward = NewReward(
      a.admin,
      {{"code", "R-RICE"}, {"partner", "R"}, {"name", "大米"}, {"price", {{"points", 200}}}, {"stock", 3}});
  auto patch = http().Call("PATCH", "/v1/rewards/R-RICE", json{{"stock", 100}}, a.t_key);
  EXPECT_TRUE(IsProblem(patch, 403)) << "T's key changed R's reward";
  EXPECT_EQ(GetReward(a.admin, "R-RICE"), r_reward);
  auto mine = http().Call("PATCH", "/v1/rewards/R-RICE", json{{"stock", 7}, {"name", "东北大米"}}, a.r_key);
  ASSERT_EQ(mine.status, 200) << mine;
  EXPECT_EQ(mine.json["stock"], 7) << mine;
  EXPECT_EQ(mine.json["name"], "东北大米") << mine;

  // Agents and finance read the catalogue but do not change it.
  EXPECT_TRUE(IsProblem(
      http().Post("/v1/rewards",
                  {{"code", "AG"}, {"partner", "T"}, {"name", "x"}, {"price", {{"points", 1}}}}, a.agent),
      403));
  EXPECT_TRUE(IsProblem(http().Call("PATCH", "/v1/rewards/R-RICE", json{{"stock", 1}}, a.finance), 403));
  EXPECT_EQ(GetReward(a.agent, "R-RICE")["stock"], 7);
}

TEST_F(RewardTest, BadPriceIs400NamingTheFieldAndCreatesNothing) {
  auto a = CreateAlliance();
  struct Case {
    const char* what;
    json price;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"empty options", {{"options", json::array()}}, "price.options"},
      {"an option with negative points",
       {{"options", json::array({{{"T", 500}}, {{"R", -500}}})}},
       "price.options[1].R"},
      {"an option with zero points", {{"options", json::array({{{"T", 0}}})}}, "price.options[0].T"},
      {"an empty option", {{"options", json::array({json::object()})}}, "price.options[0]"},
      {"both points and options",
       {{"points", 500}, {"options", json::array({{{"T", 500}}})}},
       "price.points"},
      {"neither points nor options", json::object(), "price.points"},
      {"negative plain points", {{"points", -1}}, "price.points"},
      {"fractional plain points", {{"points", 1.5}}, "price.points"},
      {"options not an array", {{"options", {{"T", 500}}}}, "price.options"},
  };
  for (const auto& c : cases) {
    const auto code = Unique("BAD-");
    auto r = http().Post("/v1/rewards", {{"code", code}, {"partner", "T"}, {"name", "x"}, {"price", c.price}},
                         a.admin);
    EXPECT_TRUE(IsProblem(r, 400, "", c.field)) << c.what;
    EXPECT_EQ(http().Get("/v1/rewards/" + code, a.admin).status, 404) << c.what << " created the reward";
  }
  auto missing = http().Post("/v1/rewards", {{"code", "NOPRICE"}, {"partner", "T"}, {"name", "x"}}, a.admin);
  EXPECT_TRUE(IsProblem(missing, 400, "", "price"));
  auto bad_window = http().Post("/v1/rewards",
                                {{"code", "WIN"},
                                 {"partner", "T"},
                                 {"name", "x"},
                                 {"price", {{"points", 1}}},
                                 {"from", "2026-12-01T00:00:00+08:00"},
                                 {"to", "2026-11-01T00:00:00+08:00"}},
                                a.admin);
  EXPECT_TRUE(IsProblem(bad_window, 400, "", "to"));
  auto negative_stock = http().Post(
      "/v1/rewards",
      {{"code", "NEG"}, {"partner", "T"}, {"name", "x"}, {"price", {{"points", 1}}}, {"stock", -1}}, a.admin);
  EXPECT_TRUE(IsProblem(negative_stock, 400, "", "stock"));
  // A price option naming no partner of this alliance is a business refusal.
  auto unknown = http().Post(
      "/v1/rewards",
      {{"code", "UNK"}, {"partner", "T"}, {"name", "x"}, {"price", {{"options", json::array({{{"Z", 5}}})}}}},
      a.admin);
  EXPECT_TRUE(IsProblem(unknown, 422, "unknown_partner"));
  auto list = http().Get("/v1/rewards", a.admin);
  ASSERT_EQ(list.status, 200) << list;
  EXPECT_TRUE(list.json["items"].empty()) << list;
}

TEST_F(RewardTest, ConcurrentRedemptionsNeverOversellALimitedStock) {
  auto a = CreateAlliance();
  NewReward(
      a.admin,
      {{"code", "LAMP"}, {"partner", "R"}, {"name", "台灯"}, {"price", {{"points", 100}}}, {"stock", 5}});
  constexpr int kMembers = 12;
  std::vector<Enrolled> members;
  for (int i = 0; i < kMembers; ++i) {
    members.push_back(Enrol(a.agent));
    Give(a.r_key, members.back(), 100);
  }
  std::vector<Response> answers(kMembers);
  Parallel(kMembers, [&](int t, HttpClient& client) {
    answers[t] = client.Post("/v1/redemptions",
                             {{"request_id", Unique("lamp-")},
                              {"member_id", members[t].member_id},
                              {"reward", "LAMP"},
                              {"quantity", 1}},
                             a.r_key);
  });
  int sold = 0, refused = 0;
  for (int t = 0; t < kMembers; ++t) {
    if (answers[t].status == 201) {
      ++sold;
      EXPECT_EQ(Balance(a.agent, members[t].member_id)["available"], 0);
    } else {
      EXPECT_TRUE(IsProblem(answers[t], 422, "out_of_stock")) << answers[t];
      ++refused;
      EXPECT_EQ(Balance(a.agent, members[t].member_id)["available"], 100) << "a refusal took points";
    }
  }
  EXPECT_EQ(sold, 5);
  EXPECT_EQ(refused, kMembers - 5);
  EXPECT_EQ(GetReward(a.agent, "LAMP")["stock"], 0);
}

TEST_F(RewardTest, StockRunsOutAtItsLimitAndNothingMoreIsTaken) {
  auto a = CreateAlliance();
  NewReward(
      a.admin,
      {{"code", "MUG"}, {"partner", "R"}, {"name", "马克杯"}, {"price", {{"points", 100}}}, {"stock", 2}});
  auto m = Enrol(a.agent);
  Give(a.r_key, m, 1000);
  auto first = Redeem(a.r_key, m, "MUG");
  ASSERT_EQ(first.status, 201) << first;
  auto two_more = Redeem(a.r_key, m, "MUG", 2);
  EXPECT_TRUE(IsProblem(two_more, 422, "out_of_stock")) << "2 asked, 1 left";
  EXPECT_EQ(GetReward(a.agent, "MUG")["stock"], 1);
  auto second = Redeem(a.r_key, m, "MUG");
  ASSERT_EQ(second.status, 201) << second;
  EXPECT_EQ(GetReward(a.agent, "MUG")["stock"], 0);
  auto third = Redeem(a.r_key, m, "MUG");
  EXPECT_TRUE(IsProblem(third, 422, "out_of_stock"));
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 800) << "the refused redemptions took points: " << b;
  EXPECT_EQ(GetReward(a.agent, "MUG")["stock"], 0);

  // Restocking makes it redeemable again.
  ASSERT_EQ(http().Call("PATCH", "/v1/rewards/MUG", json{{"stock", 1}}, a.r_key).status, 200);
  EXPECT_EQ(Redeem(a.r_key, m, "MUG").status, 201);
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 700);
}

TEST_F(RewardTest, OutsideTheSaleWindowIsRefused) {
  auto a = CreateAlliance();
  NewReward(a.admin, {{"code", "XMAS"},
                      {"partner", "T"},
                      {"name", "圣诞流量包"},
                      {"price", {{"points", 100}}},
                      {"stock", 10},
                      {"from", "2099-12-01T00:00:00+08:00"},
                      {"to", "2099-12-31T00:00:00+08:00"}});
  NewReward(a.admin, {{"code", "OLD"},
                      {"partner", "T"},
                      {"name", "过期活动"},
                      {"price", {{"points", 100}}},
                      {"from", "2020-01-01T00:00:00+08:00"},
                      {"to", "2021-01-01T00:00:00+08:00"}});
  NewReward(a.admin, {{"code", "NOW"},
                      {"partner", "T"},
                      {"name", "当前活动"},
                      {"price", {{"points", 100}}},
                      {"from", "2020-01-01T00:00:00+08:00"},
                      {"to", "2099-01-01T00:00:00+08:00"}});
  auto m = Enrol(a.agent);
  Give(a.t_key, m, 500);
  EXPECT_TRUE(IsProblem(Redeem(a.t_key, m, "XMAS"), 422, "outside_sale_window"));
  EXPECT_TRUE(IsProblem(Redeem(a.t_key, m, "OLD"), 422, "outside_sale_window"));
  EXPECT_EQ(GetReward(a.agent, "XMAS")["stock"], 10);
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 500);
  ASSERT_EQ(Redeem(a.t_key, m, "NOW").status, 201);

  // Moving the window to now opens it.
  ASSERT_EQ(
      http().Call("PATCH", "/v1/rewards/XMAS", json{{"from", "2020-01-01T00:00:00+08:00"}}, a.admin).status,
      200);
  EXPECT_EQ(Redeem(a.t_key, m, "XMAS").status, 201);
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 300);
}

TEST_F(RewardTest, WithdrawnRewardIsUnavailableUntilReactivated) {
  auto a = CreateAlliance();
  NewReward(a.admin,
            {{"code", "TV"}, {"partner", "R"}, {"name", "电视"}, {"price", {{"points", 100}}}, {"stock", 3}});
  auto m = Enrol(a.agent);
  Give(a.r_key, m, 300);
  auto w = http().Call("PATCH", "/v1/rewards/TV", json{{"status", "withdrawn"}}, a.r_key);
  ASSERT_EQ(w.status, 200) << w;
  EXPECT_EQ(w.json["status"], "withdrawn") << w;
  EXPECT_TRUE(IsProblem(Redeem(a.agent, m, "TV"), 422, "reward_unavailable"));
  EXPECT_EQ(GetReward(a.agent, "TV")["stock"], 3);
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 300);
  EXPECT_TRUE(IsProblem(http().Call("PATCH", "/v1/rewards/TV", json{{"status", "gone"}}, a.admin), 400, "",
                        "status"));
  EXPECT_TRUE(IsProblem(http().Call("PATCH", "/v1/rewards/TV", json{{"price", {{"points", 1}}}}, a.admin),
                        400, "", "price"));
  ASSERT_EQ(http().Call("PATCH", "/v1/rewards/TV", json{{"status", "active"}}, a.admin).status, 200);
  EXPECT_EQ(Redeem(a.agent, m, "TV").status, 201);
  EXPECT_EQ(http().Call("PATCH", "/v1/rewards/NOPE", json{{"stock", 1}}, a.admin).status, 404);
}

TEST_F(RewardTest, AnotherTenantsRewardIsUnknown) {
  auto a = CreateAlliance();
  auto b = CreateAlliance();
  NewReward(a.admin, {{"code", "SECRET"}, {"partner", "T"}, {"name", "x"}, {"price", {{"points", 10}}}});
  EXPECT_EQ(http().Get("/v1/rewards/SECRET", b.admin).status, 404);
  EXPECT_TRUE(http().Get("/v1/rewards", b.agent).json["items"].empty());
  auto m = Enrol(b.agent);
  Give(b.t_key, m, 100);
  EXPECT_TRUE(IsProblem(Redeem(b.t_key, m, "SECRET"), 422, "unknown_reward"));
  EXPECT_EQ(Balance(b.agent, m.member_id)["available"], 100);
}

}  // namespace
}  // namespace unipoints::testing
