// Keys are cached per server process; a revocation through one process is heard by the others at
// once (LISTEN/NOTIFY), so a revoked key never keeps working elsewhere.

#include <thread>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

TEST(KeyCacheTest, AKeyRevokedThroughOneServerStopsWorkingOnAnother) {
  if (!SkipReason().empty()) GTEST_SKIP() << SkipReason();
  TestServer first;
  ASSERT_EQ(first.Start(), "");
  TestServer second(ServerOptions{{}, &first});
  ASSERT_EQ(second.Start(), "");
  HttpClient h1(first.host(), first.port()), h2(second.host(), second.port());
  auto created =
      h1.Post("/v1/tenants",
              {{"code", "KEYS"}, {"name", "钥匙"}, {"currency", "CNY"}, {"time_zone", "Asia/Shanghai"}},
              first.platform_key());
  ASSERT_EQ(created.status, 201) << created;
  const auto admin = created.json["admin_key"].get<std::string>();
  auto key = h1.Post("/v1/keys", {{"role", "agent"}, {"label", "desk"}}, admin);
  ASSERT_EQ(key.status, 201) << key;
  const auto agent = key.json["key"].get<std::string>();
  // Both servers have seen (and cached) the key.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(h1.Get("/v1/tenant", agent).status, 200);
    ASSERT_EQ(h2.Get("/v1/tenant", agent).status, 200);
  }
  auto del = h1.Call("DELETE", "/v1/keys/" + std::to_string(key.json["id"].get<std::int64_t>()), std::nullopt,
                     admin);
  ASSERT_EQ(del.status, 200) << del;
  // The revoking server refuses it at once; the other as soon as the notification arrives.
  EXPECT_TRUE(IsProblem(h1.Get("/v1/tenant", agent), 401));
  Response r;
  for (int i = 0; i < 100; ++i) {
    r = h2.Get("/v1/tenant", agent);
    if (r.status == 401) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(IsProblem(r, 401)) << "the other server still accepts a revoked key";
  EXPECT_EQ(h2.Get("/v1/tenant", admin).status, 200);
  EXPECT_EQ(second.Stop(), 0);
  EXPECT_EQ(first.Stop(), 0);
}

}  // namespace
}  // namespace unipoints::testing
