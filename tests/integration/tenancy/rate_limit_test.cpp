// Per-key rate limits: off unless a key is given one; over it, 429 rate_limited with Retry-After,
// nothing done and no client id used up; set, changed and lifted by an admin at once.

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class RateLimitTest : public IntegrationTest {
 protected:
  json NewKey(const std::string& admin, const json& body) {
    auto r = http().Post("/v1/keys", body, admin);
    EXPECT_EQ(r.status, 201) << r;
    return r.json;
  }
  Response SetLimit(const std::string& admin, const json& key, const json& body) {
    return http().Call("PATCH", "/v1/keys/" + std::to_string(key["id"].get<std::int64_t>()), body, admin);
  }
  json Listed(const std::string& admin, const json& key) {
    auto list = http().Get("/v1/keys", admin);
    EXPECT_EQ(list.status, 200) << list;
    for (const auto& k : list.json["items"]) {
      if (k["id"] == key["id"]) return k;
    }
    ADD_FAILURE() << "key " << key["id"] << " not listed: " << list;
    return nullptr;
  }
  // A 400 problem naming rate_limit or one of its members.
  static ::testing::AssertionResult BadLimit(const Response& r) {
    if (auto ok = IsProblem(r, 400); !ok) return ok;
    for (const auto& e : r.json["errors"]) {
      if (e["field"].get<std::string>().rfind("rate_limit", 0) == 0) return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "no error names rate_limit: " << r;
  }
  json PointsEvent(const std::string& event_id, std::int64_t member_id) {
    return {{"event_id", event_id},
            {"member_id", member_id},
            {"points", 10},
            {"point_type", "bonus"},
            {"occurred_at", "2026-06-01T10:00:00+08:00"}};
  }
};

TEST_F(RateLimitTest, KeysAreUnlimitedUnlessGivenALimit) {
  auto t = CreateTenant();
  auto key = NewKey(t.admin_key, {{"role", "agent"}});
  EXPECT_EQ(key["rate_limit"], nullptr) << key;
  EXPECT_EQ(Listed(t.admin_key, key)["rate_limit"], nullptr);
  for (int i = 0; i < 40; ++i)
    ASSERT_EQ(http().Get("/v1/tenant", key["key"].get<std::string>()).status, 200) << i;
}

TEST_F(RateLimitTest, OverItsBurstALimitedKeyGets429WithRetryAfter) {
  auto t = CreateTenant();
  auto key = NewKey(t.admin_key, {{"role", "agent"}, {"rate_limit", {{"per_second", 1}, {"burst", 3}}}});
  EXPECT_EQ(key["rate_limit"], json({{"per_second", 1}, {"burst", 3}})) << key;
  EXPECT_EQ(Listed(t.admin_key, key)["rate_limit"], json({{"per_second", 1}, {"burst", 3}}));
  const auto secret = key["key"].get<std::string>();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(http().Get("/v1/tenant", secret).status, 200) << i;
  auto over = http().Get("/v1/tenant", secret);
  EXPECT_TRUE(IsProblem(over, 429, "rate_limited")) << over;
  EXPECT_EQ(over.Header("Retry-After"), "1") << over;
  EXPECT_EQ(over.json["retry_after"], 1) << over;
  // Other keys of the tenant are not held back.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(http().Get("/v1/tenant", t.admin_key).status, 200) << i;
  // The burst defaults to the rate.
  auto two = NewKey(t.admin_key, {{"role", "finance"}, {"rate_limit", {{"per_second", 2}}}});
  EXPECT_EQ(two["rate_limit"], json({{"per_second", 2}, {"burst", 2}})) << two;
}

TEST_F(RateLimitTest, ARefusedAccrualChangesNothingAndDoesNotUseUpItsId) {
  auto a = CreateAlliance(false);
  auto m = Enrol(a.agent);
  auto key = NewKey(
      a.admin, {{"role", "partner"}, {"partner", "T"}, {"rate_limit", {{"per_second", 1}, {"burst", 1}}}});
  const auto secret = key["key"].get<std::string>();
  ASSERT_EQ(http().Post("/v1/accruals", PointsEvent(Unique("rl-"), m.member_id), secret).status, 201);
  const auto event_id = Unique("rl-");
  auto refused = http().Post("/v1/accruals", PointsEvent(event_id, m.member_id), secret);
  ASSERT_TRUE(IsProblem(refused, 429, "rate_limited")) << refused;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 10);
  // Lifted: the same event is new, not a replay of the refusal.
  auto lifted = SetLimit(a.admin, key, {{"rate_limit", nullptr}});
  ASSERT_EQ(lifted.status, 200) << lifted;
  EXPECT_EQ(lifted.json["rate_limit"], nullptr) << lifted;
  auto accepted = http().Post("/v1/accruals", PointsEvent(event_id, m.member_id), secret);
  EXPECT_EQ(accepted.status, 201) << accepted;
  EXPECT_FALSE(accepted.HasHeader("Idempotent-Replay")) << accepted;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 20);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(http().Get("/v1/tenant", secret).status, 200) << i;
}

TEST_F(RateLimitTest, AnAdminSetsAndChangesALimitAtOnce) {
  auto t = CreateTenant();
  auto key = NewKey(t.admin_key, {{"role", "agent"}});
  const auto secret = key["key"].get<std::string>();
  ASSERT_EQ(http().Get("/v1/tenant", secret).status, 200);  // cached by the server, unlimited
  auto set = SetLimit(t.admin_key, key, {{"rate_limit", {{"per_second", 1}, {"burst", 2}}}});
  ASSERT_EQ(set.status, 200) << set;
  EXPECT_EQ(set.json["id"], key["id"]) << set;
  EXPECT_EQ(set.json["rate_limit"], json({{"per_second", 1}, {"burst", 2}})) << set;
  EXPECT_EQ(http().Get("/v1/tenant", secret).status, 200);
  EXPECT_EQ(http().Get("/v1/tenant", secret).status, 200);
  EXPECT_TRUE(IsProblem(http().Get("/v1/tenant", secret), 429, "rate_limited"));
  // Raised: the bucket keeps what it had (nothing) but now refills fast; a large burst later.
  ASSERT_EQ(SetLimit(t.admin_key, key, {{"rate_limit", {{"per_second", 1000}, {"burst", 1000}}}}).status,
            200);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(http().Get("/v1/tenant", secret).status, 200) << i;
}

TEST_F(RateLimitTest, BadLimitsAre400AndChangeNothing) {
  auto t = CreateTenant();
  auto other = CreateTenant();
  auto key = NewKey(t.admin_key, {{"role", "agent"}, {"rate_limit", {{"per_second", 5}}}});
  const auto keys_before = http().Get("/v1/keys", t.admin_key).json["items"].size();
  for (const json& bad :
       {json{{"per_second", 0}}, json{{"per_second", -1}}, json{{"per_second", "10"}},
        json{{"per_second", 1.5}}, json{{"burst", 3}}, json{{"per_second", 1}, {"burst", 0}},
        json{{"per_second", 2000000}}, json(5), json("fast"), json::array()}) {
    auto created = http().Post("/v1/keys", {{"role", "agent"}, {"rate_limit", bad}}, t.admin_key);
    EXPECT_TRUE(BadLimit(created)) << bad;
    auto patched = SetLimit(t.admin_key, key, {{"rate_limit", bad}});
    EXPECT_TRUE(BadLimit(patched)) << bad;
  }
  EXPECT_TRUE(BadLimit(SetLimit(t.admin_key, key, json::object())));
  EXPECT_EQ(http().Get("/v1/keys", t.admin_key).json["items"].size(), keys_before);
  EXPECT_EQ(Listed(t.admin_key, key)["rate_limit"], json({{"per_second", 5}, {"burst", 5}}));
  // Another tenant's key, an unknown one and a revoked one are 404; a partner key may not set limits.
  EXPECT_TRUE(IsProblem(SetLimit(other.admin_key, key, {{"rate_limit", nullptr}}), 404));
  EXPECT_TRUE(
      IsProblem(http().Call("PATCH", "/v1/keys/999999999", json{{"rate_limit", nullptr}}, t.admin_key), 404));
  auto revoked = NewKey(t.admin_key, {{"role", "agent"}});
  ASSERT_EQ(http()
                .Call("DELETE", "/v1/keys/" + std::to_string(revoked["id"].get<std::int64_t>()), std::nullopt,
                      t.admin_key)
                .status,
            200);
  EXPECT_TRUE(IsProblem(SetLimit(t.admin_key, revoked, {{"rate_limit", nullptr}}), 404));
  EXPECT_TRUE(IsProblem(SetLimit(key["key"].get<std::string>(), key, {{"rate_limit", nullptr}}), 403));
  EXPECT_EQ(Listed(t.admin_key, key)["rate_limit"], json({{"per_second", 5}, {"burst", 5}}));
}

}  // namespace
}  // namespace unipoints::testing
