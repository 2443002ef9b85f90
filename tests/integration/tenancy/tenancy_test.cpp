// Tenants, partners, API keys and roles, and the points policy, over HTTP.

#include <ctime>
#include <set>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class TenantTest : public IntegrationTest {};
class PartnerTest : public IntegrationTest {};
class KeyTest : public IntegrationTest {};
class PolicyTest : public IntegrationTest {};

// ------------------------------------------------------------------ tenants

TEST_F(TenantTest, PlatformKeyCreatesTenantWithWorkingAdminKey) {
  const std::string code = Unique("ALLY");
  auto r = http().Post(
      "/v1/tenants",
      {{"code", code}, {"name", "华东积分联盟"}, {"currency", "CNY"}, {"time_zone", "Asia/Shanghai"}},
      server().platform_key());
  ASSERT_EQ(r.status, 201) << r;
  ASSERT_TRUE(r.json.contains("tenant") && r.json["tenant"].is_object()) << r;
  const auto& t = r.json["tenant"];
  EXPECT_TRUE(t["id"].is_number_integer()) << r;
  EXPECT_EQ(t["code"], code);
  EXPECT_EQ(t["name"], "华东积分联盟");
  EXPECT_EQ(t["currency"], "CNY");
  EXPECT_EQ(t["minor_units"], 2);
  EXPECT_EQ(t["time_zone"], "Asia/Shanghai");
  ASSERT_TRUE(t["created_at"].is_string()) << r;
  EXPECT_TRUE(ParseInstant(t["created_at"].get<std::string>())) << t["created_at"];
  ASSERT_TRUE(r.json["admin_key"].is_string()) << r;
  const auto admin = r.json["admin_key"].get<std::string>();
  EXPECT_GE(admin.size(), 24u) << "an admin key should be long and random";

  auto me = http().Get("/v1/tenant", admin);
  ASSERT_EQ(me.status, 200) << me;
  EXPECT_EQ(me.json["id"], t["id"]);
  EXPECT_EQ(me.json["code"], code);
  EXPECT_EQ(me.json["name"], "华东积分联盟");
  EXPECT_EQ(me.json["time_zone"], "Asia/Shanghai");
}

TEST_F(TenantTest, DuplicateCodeIs409) {
  const std::string code = Unique("DUP");
  const json body = {{"code", code}, {"name", "one"}, {"currency", "CNY"}, {"time_zone", "Asia/Shanghai"}};
  ASSERT_EQ(http().Post("/v1/tenants", body, server().platform_key()).status, 201);
  auto again = http().Post("/v1/tenants", body, server().platform_key());
  EXPECT_TRUE(IsProblem(again, 409));
}

TEST_F(TenantTest, InvalidFieldsAre400NamingTheField) {
  const std::string pk = server().platform_key();
  struct Case {
    json body;
    const char* field;
  };
  const std::vector<Case> cases = {
      {{{"name", "n"}, {"currency", "CNY"}, {"time_zone", "Asia/Shanghai"}}, "code"},
      {{{"code", Unique("C")}, {"name", "n"}, {"currency", "XYZ1"}, {"time_zone", "Asia/Shanghai"}},
       "currency"},
      {{{"code", Unique("C")}, {"name", "n"}, {"currency", "CNY"}, {"time_zone", "Mars/Olympus_Mons"}},
       "time_zone"},
      {{{"code", Unique("C")}, {"name", 42}, {"currency", "CNY"}, {"time_zone", "Asia/Shanghai"}}, "name"},
  };
  for (const auto& c : cases) {
    auto r = http().Post("/v1/tenants", c.body, pk);
    EXPECT_TRUE(IsProblem(r, 400, {}, c.field)) << c.body.dump();
  }
}

TEST_F(TenantTest, OnlyThePlatformKeyCreatesTenants) {
  const json body = {
      {"code", Unique("NOPE")}, {"name", "n"}, {"currency", "CNY"}, {"time_zone", "Asia/Shanghai"}};
  EXPECT_TRUE(IsProblem(http().Post("/v1/tenants", body, ""), 401));
  EXPECT_TRUE(IsProblem(http().Post("/v1/tenants", body, "wrong-" + server().platform_key()), 401));
  auto t = CreateTenant();
  EXPECT_TRUE(IsProblem(http().Post("/v1/tenants", body, t.admin_key), 403));
}

TEST_F(TenantTest, PlatformKeyCannotActInsideATenant) {
  auto r = http().Get("/v1/partners", server().platform_key());
  EXPECT_TRUE(r.status == 401 || r.status == 403) << r;
}

TEST_F(TenantTest, EveryRoleReadsItsOwnTenant) {
  auto a = CreateAlliance();
  for (const auto& key : {a.admin, a.agent, a.finance, a.t_key}) {
    auto r = http().Get("/v1/tenant", key);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.json["id"], a.tenant.tenant["id"]);
  }
}

// ------------------------------------------------------------------ partners

TEST_F(PartnerTest, CreateAndListPartners) {
  auto t = CreateTenant();
  auto r = http().Post("/v1/partners", {{"code", "T"}, {"name", "中国电信某省分公司"}, {"kind", "telecom"}},
                       t.admin_key);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_TRUE(r.json["id"].is_number_integer()) << r;
  EXPECT_EQ(r.json["code"], "T");
  EXPECT_EQ(r.json["name"], "中国电信某省分公司");
  EXPECT_EQ(r.json["kind"], "telecom");
  EXPECT_EQ(r.json["status"], "active");
  EXPECT_TRUE(r.json["created_at"].is_string()) << r;
  CreatePartner(t.admin_key, "R", "零售", "retail");

  auto list = http().Get("/v1/partners", t.admin_key);
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_TRUE(list.json["items"].is_array()) << list;
  EXPECT_TRUE(list.json.contains("next")) << list;
  EXPECT_TRUE(list.json["next"].is_null()) << list;
  std::set<std::string> codes;
  for (const auto& p : list.json["items"]) codes.insert(p["code"].get<std::string>());
  EXPECT_EQ(codes, (std::set<std::string>{"T", "R"}));
}

TEST_F(PartnerTest, DuplicateCodeIs409) {
  auto t = CreateTenant();
  CreatePartner(t.admin_key, "T", "one", "telecom");
  auto r = http().Post("/v1/partners", {{"code", "T"}, {"name", "two"}, {"kind", "retail"}}, t.admin_key);
  EXPECT_TRUE(IsProblem(r, 409));
}

TEST_F(PartnerTest, SameCodeInAnotherTenantIsFine) {
  auto a = CreateTenant();
  auto b = CreateTenant();
  CreatePartner(a.admin_key, "T", "A's T", "telecom");
  auto r = http().Post("/v1/partners", {{"code", "T"}, {"name", "B's T"}, {"kind", "telecom"}}, b.admin_key);
  EXPECT_EQ(r.status, 201) << r;
}

TEST_F(PartnerTest, ListShowsOnlyTheCallersTenant) {
  auto a = CreateTenant();
  auto b = CreateTenant();
  CreatePartner(a.admin_key, "ONLYA", "a", "other");
  CreatePartner(b.admin_key, "ONLYB", "b", "other");
  auto list = http().Get("/v1/partners", b.admin_key);
  ASSERT_EQ(list.status, 200) << list;
  EXPECT_EQ(list.body.find("ONLYA"), std::string::npos) << list;
  EXPECT_NE(list.body.find("ONLYB"), std::string::npos) << list;
}

TEST_F(PartnerTest, InvalidKindIs400) {
  auto t = CreateTenant();
  auto r = http().Post("/v1/partners", {{"code", "B"}, {"name", "bank"}, {"kind", "bank"}}, t.admin_key);
  EXPECT_TRUE(IsProblem(r, 400, {}, "kind"));
  auto missing = http().Post("/v1/partners", {{"code", "B"}, {"kind", "other"}}, t.admin_key);
  EXPECT_TRUE(IsProblem(missing, 400, {}, "name"));
}

TEST_F(PartnerTest, NonAdminKeysCannotCreatePartners) {
  auto a = CreateAlliance();
  for (const auto& key : {a.agent, a.finance, a.t_key}) {
    auto r = http().Post("/v1/partners", {{"code", "X"}, {"name", "x"}, {"kind", "other"}}, key);
    EXPECT_TRUE(IsProblem(r, 403));
  }
  auto list = http().Get("/v1/partners", a.admin);
  EXPECT_EQ(list.body.find("\"X\""), std::string::npos)
      << "a refused create still created the partner: " << list;
}

// ------------------------------------------------------------------ keys

TEST_F(KeyTest, CreateKeyShowsItOnceAndItWorks) {
  auto t = CreateTenant();
  CreatePartner(t.admin_key, "T", "t", "telecom");
  auto r =
      http().Post("/v1/keys", {{"role", "partner"}, {"partner", "T"}, {"label", "billing"}}, t.admin_key);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_TRUE(r.json["id"].is_number_integer()) << r;
  ASSERT_TRUE(r.json["key"].is_string()) << r;
  EXPECT_EQ(r.json["role"], "partner");
  EXPECT_EQ(r.json["partner"], "T");
  EXPECT_EQ(r.json["label"], "billing");
  const auto key = r.json["key"].get<std::string>();
  EXPECT_EQ(http().Get("/v1/tenant", key).status, 200);

  auto list = http().Get("/v1/keys", t.admin_key);
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_TRUE(list.json["items"].is_array()) << list;
  bool listed = false;
  for (const auto& k : list.json["items"]) listed = listed || k["id"] == r.json["id"];
  EXPECT_TRUE(listed) << list;
  EXPECT_EQ(list.body.find(key), std::string::npos) << "GET /v1/keys shows a secret";
  EXPECT_EQ(list.body.find(t.admin_key), std::string::npos) << "GET /v1/keys shows a secret";
}

TEST_F(KeyTest, KeysAreStoredOnlyAsHashes) {
  auto t = CreateTenant();
  const auto key = CreateKey(t.admin_key, "agent");
  auto rows = server().Sql(
      "SELECT count(*) FROM api_keys k WHERE strpos(row_to_json(k)::text, $1) > 0 OR "
      "strpos(row_to_json(k)::text, $2) > 0",
      {key, t.admin_key});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].value_or("?"), "0") << "a clear API key is stored in api_keys";
}

TEST_F(KeyTest, RevokedKeyGets401) {
  auto t = CreateTenant();
  auto r = http().Post("/v1/keys", {{"role", "agent"}, {"label", "temp"}}, t.admin_key);
  ASSERT_EQ(r.status, 201) << r;
  const auto key = r.json["key"].get<std::string>();
  ASSERT_EQ(http().Get("/v1/tenant", key).status, 200);
  auto del = http().Call("DELETE", "/v1/keys/" + std::to_string(r.json["id"].get<std::int64_t>()),
                         std::nullopt, t.admin_key);
  EXPECT_EQ(del.status, 200) << del;
  EXPECT_TRUE(IsProblem(http().Get("/v1/tenant", key), 401));
  EXPECT_EQ(http().Get("/v1/tenant", t.admin_key).status, 200) << "revoking one key revoked another";
}

TEST_F(KeyTest, CannotRevokeAnotherTenantsKey) {
  auto a = CreateTenant();
  auto b = CreateTenant();
  auto r = http().Post("/v1/keys", {{"role", "agent"}, {"label", "a's"}}, a.admin_key);
  ASSERT_EQ(r.status, 201) << r;
  auto del = http().Call("DELETE", "/v1/keys/" + std::to_string(r.json["id"].get<std::int64_t>()),
                         std::nullopt, b.admin_key);
  EXPECT_TRUE(IsProblem(del, 404));
  EXPECT_EQ(http().Get("/v1/tenant", r.json["key"].get<std::string>()).status, 200)
      << "another tenant's admin revoked the key";
}

TEST_F(KeyTest, InvalidKeyRequestsAre400) {
  auto t = CreateTenant();
  EXPECT_TRUE(
      IsProblem(http().Post("/v1/keys", {{"role", "root"}, {"label", "x"}}, t.admin_key), 400, {}, "role"));
  EXPECT_TRUE(IsProblem(http().Post("/v1/keys", {{"role", "partner"}, {"label", "x"}}, t.admin_key), 400, {},
                        "partner"));
  auto unknown =
      http().Post("/v1/keys", {{"role", "partner"}, {"partner", "NOPE"}, {"label", "x"}}, t.admin_key);
  EXPECT_TRUE(unknown.status == 400 || unknown.status == 404 || unknown.status == 422) << unknown;
  EXPECT_TRUE(IsProblem(unknown, unknown.status, {}, "partner"));
}

TEST_F(KeyTest, MissingOrUnknownKeyIs401) {
  EXPECT_TRUE(IsProblem(http().Get("/v1/tenant"), 401));
  EXPECT_TRUE(IsProblem(http().Get("/v1/tenant", "up_1_" + RandomHex(32)), 401));
  EXPECT_TRUE(IsProblem(
      http().Call("GET", "/v1/tenant", std::nullopt, {}, WithHeader("Authorization", "Basic Zm9vOmJhcg==")),
      401));
}

TEST_F(KeyTest, PartnerKeyCannotCallAdminRoutes) {
  auto a = CreateAlliance();
  EXPECT_TRUE(IsProblem(http().Post("/v1/keys", {{"role", "admin"}, {"label", "escalate"}}, a.t_key), 403));
  EXPECT_TRUE(IsProblem(http().Get("/v1/keys", a.t_key), 403));
  EXPECT_TRUE(IsProblem(http().Put("/v1/partners/T/earning-rules", DemoRetailRules(), a.t_key), 403));
  EXPECT_TRUE(IsProblem(http().Put("/v1/partners/R/earning-rules", DemoRetailRules(), a.t_key), 403));
  EXPECT_TRUE(IsProblem(http().Put("/v1/policy", {{"expiry", {{"kind", "never"}}}}, a.t_key), 403));
  EXPECT_TRUE(IsProblem(http().Call("DELETE", "/v1/keys/1", std::nullopt, a.t_key), 403));
}

TEST_F(KeyTest, AgentAndFinanceKeysCannotPostAccruals) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  for (const auto& key : {a.agent, a.finance, a.admin}) {
    auto r = http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 1000), key);
    EXPECT_TRUE(IsProblem(r, 403));
  }
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 0);
}

// ------------------------------------------------------------------ policy

TEST_F(PolicyTest, DefaultPolicyNeverExpires) {
  auto t = CreateTenant();
  auto r = http().Get("/v1/policy", t.admin_key);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["expiry"]["kind"], "never") << r;
}

TEST_F(PolicyTest, PutPolicyIsStoredAndReadBack) {
  auto t = CreateTenant();
  const json policy = {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}},
                       {"carry_over_percent", 20},
                       {"consumption", "earliest_expiry"}};
  auto put = http().Put("/v1/policy", policy, t.admin_key);
  ASSERT_EQ(put.status, 200) << put;
  auto get = http().Get("/v1/policy", t.admin_key);
  ASSERT_EQ(get.status, 200) << get;
  EXPECT_EQ(get.json["expiry"]["kind"], "calendar_years") << get;
  EXPECT_EQ(get.json["expiry"]["n"], 3) << get;
  EXPECT_EQ(get.json["carry_over_percent"], 20) << get;
  EXPECT_EQ(get.json["consumption"], "earliest_expiry") << get;
}

TEST_F(PolicyTest, InvalidPolicyIs400AndChangesNothing) {
  auto t = CreateTenant();
  ASSERT_EQ(http().Put("/v1/policy", {{"expiry", {{"kind", "months"}, {"n", 12}}}}, t.admin_key).status, 200);
  const std::vector<json> bad = {
      {{"expiry", {{"kind", "fortnights"}, {"n", 2}}}},
      {{"expiry", {{"kind", "months"}, {"n", -1}}}},
      {{"expiry", {{"kind", "months"}, {"n", 12}}}, {"carry_over_percent", 101}},
      {{"expiry", "never"}},
  };
  for (const auto& body : bad) {
    auto r = http().Put("/v1/policy", body, t.admin_key);
    EXPECT_TRUE(IsProblem(r, 400)) << body.dump();
    ASSERT_TRUE(r.json.is_object() && r.json["errors"].is_array() && !r.json["errors"].empty()) << r;
    const auto field = r.json["errors"][0]["field"].get<std::string>();
    EXPECT_TRUE(field.rfind("expiry", 0) == 0 || field == "carry_over_percent") << field;
  }
  auto get = http().Get("/v1/policy", t.admin_key);
  EXPECT_EQ(get.json["expiry"]["kind"], "months") << get;
  EXPECT_EQ(get.json["expiry"]["n"], 12) << get;
}

// Points earned in local year Y under "calendar_years, n = 3" expire at the start of Y+3 in the
// tenant's time zone (Asia/Shanghai, UTC+8, no DST).
TEST_F(PolicyTest, CalendarYearsPolicyStampsExpiryOnNewLots) {
  auto a = CreateAlliance();
  ASSERT_EQ(http().Put("/v1/policy", {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}}}, a.admin).status,
            200);
  auto m = Enrol(a.agent);
  const std::int64_t occurred = NowUnix() - 86400;
  const std::string occurred_at = FormatUtc(occurred);
  auto r =
      http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 5000, occurred_at), a.r_key);
  ASSERT_EQ(r.status, 201) << r;

  const std::time_t local = static_cast<std::time_t>(occurred + 8 * 3600);
  std::tm tm{};
  ::gmtime_r(&local, &tm);
  std::tm boundary{};
  boundary.tm_year = tm.tm_year + 3;
  boundary.tm_mon = 0;
  boundary.tm_mday = 1;
  const std::int64_t expected = static_cast<std::int64_t>(::timegm(&boundary)) - 8 * 3600;

  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 50) << b;
  ASSERT_TRUE(b["expiring"].is_array() && b["expiring"].size() == 1) << b;
  const auto at = ParseInstant(b["expiring"][0]["expires_at"].get<std::string>());
  ASSERT_TRUE(at) << b;
  EXPECT_EQ(*at, expected) << "expected " << FormatUtc(expected) << ", got "
                           << b["expiring"][0]["expires_at"];
  EXPECT_EQ(b["expiring"][0]["points"], 50) << b;
}

TEST_F(PolicyTest, WithoutPolicyPointsNeverExpire) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 700), a.r_key).status,
            201);
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 7) << b;
  EXPECT_TRUE(b["expiring"].is_array() && b["expiring"].empty()) << b;
}

TEST_F(PolicyTest, LateAccrualWhosePointsHaveExpiredIsAcceptedButNotAvailable) {
  auto a = CreateAlliance();
  ASSERT_EQ(http().Put("/v1/policy", {{"expiry", {{"kind", "calendar_years"}, {"n", 1}}}}, a.admin).status,
            200);
  auto m = Enrol(a.agent);
  auto r = http().Post("/v1/accruals",
                       AmountEvent(NewEventId(), m.card_no, "retail", 10000, "2021-03-01T10:00:00+08:00"),
                       a.r_key);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["points"], 100) << r;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 0) << "points that expired on 2022-01-01 are available: " << b;
  EXPECT_TRUE(b["expiring"].empty()) << b;
}

}  // namespace
}  // namespace unipoints::testing
