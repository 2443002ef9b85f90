// The command line: `tenant create`, `migrate`, `--help` on each command, and refusal of invalid
// configuration with a message naming the field.

#include <filesystem>
#include <fstream>
#include <map>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class CliTest : public IntegrationTest {};

std::string Show(const CliResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout ---\n" + r.out.substr(0, 2000) +
         "\n--- stderr ---\n" + r.err.substr(0, 2000);
}

TEST_F(CliTest, TenantCreatePrintsTenantAndAWorkingAdminKey) {
  const auto code = Unique("CLI");
  auto r = server().RunCli({"tenant", "create", "--code", code, "--name", "命令行联盟", "--currency", "CNY",
                            "--time-zone", "Asia/Shanghai"});
  ASSERT_EQ(r.exit_code, 0) << Show(r);
  auto out = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(out.is_object()) << "stdout must be one JSON object\n" << Show(r);
  ASSERT_TRUE(out.contains("tenant") && out["tenant"].is_object()) << Show(r);
  EXPECT_EQ(out["tenant"]["code"], code);
  EXPECT_EQ(out["tenant"]["name"], "命令行联盟");
  EXPECT_EQ(out["tenant"]["currency"], "CNY");
  EXPECT_EQ(out["tenant"]["time_zone"], "Asia/Shanghai");
  EXPECT_TRUE(out["tenant"]["id"].is_number_integer()) << Show(r);
  ASSERT_TRUE(out.contains("admin_key") && out["admin_key"].is_string()) << Show(r);

  // The key works against the running server on the same database.
  const auto admin = out["admin_key"].get<std::string>();
  auto me = http().Get("/v1/tenant", admin);
  ASSERT_EQ(me.status, 200) << me;
  EXPECT_EQ(me.json["code"], code);
  EXPECT_EQ(me.json["id"], out["tenant"]["id"]);
  EXPECT_EQ(http().Post("/v1/partners", {{"code", "T"}, {"name", "t"}, {"kind", "telecom"}}, admin).status,
            201);
}

TEST_F(CliTest, TenantCreateWithTakenCodeFails) {
  const auto code = Unique("CLIDUP");
  auto first = server().RunCli({"tenant", "create", "--code", code, "--name", "n", "--currency", "CNY",
                                "--time-zone", "Asia/Shanghai"});
  ASSERT_EQ(first.exit_code, 0) << Show(first);
  auto second = server().RunCli({"tenant", "create", "--code", code, "--name", "n", "--currency", "CNY",
                                 "--time-zone", "Asia/Shanghai"});
  EXPECT_NE(second.exit_code, 0) << Show(second);
  EXPECT_EQ(second.out.find("admin_key"), std::string::npos) << Show(second);
}

TEST_F(CliTest, TenantCreateRejectsInvalidArguments) {
  auto missing = server().RunCli({"tenant", "create", "--name", "n"});
  EXPECT_NE(missing.exit_code, 0) << Show(missing);
  EXPECT_NE(missing.err.find("code"), std::string::npos) << Show(missing);
  auto bad_zone = server().RunCli({"tenant", "create", "--code", Unique("Z"), "--name", "n", "--currency",
                                   "CNY", "--time-zone", "Nowhere/Atlantis"});
  EXPECT_NE(bad_zone.exit_code, 0) << Show(bad_zone);
  EXPECT_NE(bad_zone.err.find("time_zone"), std::string::npos) << Show(bad_zone);
}

TEST_F(CliTest, HelpOnEveryCommand) {
  const std::vector<std::vector<std::string>> commands = {
      {"--help"},         {"serve", "--help"},  {"migrate", "--help"}, {"tenant", "create", "--help"},
      {"demo", "--help"}, {"expire", "--help"}, {"regrade", "--help"}};
  for (const auto& args : commands) {
    auto r = server().RunCli(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << "\n" << Show(r);
    EXPECT_NE(r.out.find("sage"), std::string::npos) << "no usage text\n" << Show(r);
  }
  auto top = server().RunCli({"--help"});
  for (const char* word : {"serve", "migrate", "tenant create", "demo", "expire", "regrade"}) {
    EXPECT_NE(top.out.find(word), std::string::npos) << word << "\n" << Show(top);
  }
}

TEST_F(CliTest, ExpireAndRegradeRunTheTenantsJobsAndPrintTheRun) {
  auto a = CreateAlliance();
  const auto code = a.tenant.code();
  auto m = Enrol(a.agent);
  ASSERT_EQ(http().Put("/v1/policy", {{"expiry", {{"kind", "calendar_years"}, {"n", 1}}}}, a.admin).status,
            200);
  // Earned in 2020, expired at the end of 2020: the job expires it (as of now, the real clock).
  ASSERT_EQ(http()
                .Post("/v1/accruals",
                      {{"event_id", NewEventId()},
                       {"member_id", m.member_id},
                       {"points", 70},
                       {"point_type", "bonus"},
                       {"occurred_at", "2020-05-01T10:00:00+08:00"}},
                      a.t_key)
                .status,
            201);
  auto expire = server().RunCli({"expire", "--tenant", code});
  ASSERT_EQ(expire.exit_code, 0) << Show(expire);
  auto run = json::parse(expire.out);
  EXPECT_EQ(run["kind"], "expiry") << run;
  EXPECT_EQ(run["trigger"], "cli") << run;
  EXPECT_EQ(run["counts"]["points_expired"], 70) << run;
  EXPECT_EQ(json::parse(server().RunCli({"expire", "--tenant", code}).out)["counts"]["points_expired"], 0);
  // Not without a tier scheme; then one pass over every member.
  auto none = server().RunCli({"regrade", "--tenant", code});
  EXPECT_EQ(none.exit_code, 1) << Show(none);
  EXPECT_NE(none.err.find("tier"), std::string::npos) << Show(none);
  ASSERT_EQ(
      http()
          .Put("/v1/tiers",
               {{"window_months", 12},
                {"cadence", "yearly"},
                {"levels", {{{"code", "normal"}, {"min_points", 0}}, {{"code", "vip"}, {"min_points", 1}}}}},
               a.admin)
          .status,
      200);
  auto regrade = server().RunCli({"regrade", "--tenant", code});
  ASSERT_EQ(regrade.exit_code, 0) << Show(regrade);
  EXPECT_EQ(json::parse(regrade.out)["counts"]["members"], 1) << regrade.out;
  // Bad arguments change nothing and say why.
  auto future = server().RunCli({"expire", "--tenant", code, "--as-of", "2999-01-01T00:00:00Z"});
  EXPECT_EQ(future.exit_code, 2) << Show(future);
  auto unknown = server().RunCli({"expire", "--tenant", "NO-SUCH-TENANT"});
  EXPECT_EQ(unknown.exit_code, 1) << Show(unknown);
  auto jobs = http().Get("/v1/jobs", a.admin);
  EXPECT_EQ(jobs.json["items"].size(), 3u) << jobs;
}

TEST_F(CliTest, UnknownCommandFails) {
  auto r = server().RunCli({"frobnicate"});
  EXPECT_NE(r.exit_code, 0) << Show(r);
}

TEST_F(CliTest, MigrateIsIdempotent) {
  auto r = server().RunCli({"migrate"});
  EXPECT_EQ(r.exit_code, 0) << Show(r);
  EXPECT_EQ(http().Get("/readyz").status, 200);
}

TEST_F(CliTest, DemoCreatesTheDemoAllianceIdempotently) {
  const auto dir = std::filesystem::temp_directory_path() / Unique("unipoints-demo-");
  std::filesystem::create_directories(dir);
  const auto keys_file = (dir / "demo-keys.json").string();
  auto first = server().RunCli({"demo", "--keys-file", keys_file});
  ASSERT_EQ(first.exit_code, 0) << Show(first);
  std::ifstream in(keys_file);
  ASSERT_TRUE(in.good()) << "no keys file at " << keys_file;
  const auto file = json::parse(in, nullptr, false);
  ASSERT_TRUE(file.is_object()) << keys_file << " is not JSON";
  ASSERT_TRUE(file.contains("keys") && file["keys"].is_object()) << file.dump(2);
  ASSERT_TRUE(file.contains("members") && file["members"].is_array() && !file["members"].empty())
      << file.dump(2);
  const auto& keys = file["keys"];
  for (const char* role : {"admin", "agent", "finance"}) {
    ASSERT_TRUE(keys.contains(role) && keys[role].is_string()) << role << ": " << keys.dump(2);
    EXPECT_EQ(http().Get("/v1/tenant", keys[role].get<std::string>()).status, 200) << role;
  }
  // One key per partner T and R, whatever the file calls them.
  std::string t_key;
  for (const auto& [name, key] : keys.items()) {
    if (name.find('T') != std::string::npos && name.find("partner") != std::string::npos) t_key = key;
  }
  ASSERT_FALSE(t_key.empty()) << "no partner key for T in " << keys.dump(2);

  const auto partners = http().Get("/v1/partners", keys["admin"].get<std::string>());
  ASSERT_EQ(partners.status, 200) << partners;
  std::map<std::string, std::string> kinds;
  for (const auto& p : partners.json["items"])
    kinds[p["code"].get<std::string>()] = p["kind"].get<std::string>();
  EXPECT_EQ(kinds["T"], "telecom");
  EXPECT_EQ(kinds["R"], "retail");

  // The demo telecom rules: data 1 CNY = 2 points, voice 1 CNY = 1 point.
  const auto card = file["members"][0]["card_no"].get<std::string>();
  auto data = http().Post("/v1/accruals",
                          AmountEvent(NewEventId(), card, "data", 1234, FormatUtc(NowUnix() - 60)), t_key);
  ASSERT_EQ(data.status, 201) << data;
  EXPECT_EQ(data.json["points"], 24);
  auto voice = http().Post("/v1/accruals",
                           AmountEvent(NewEventId(), card, "voice", 1234, FormatUtc(NowUnix() - 60)), t_key);
  ASSERT_EQ(voice.status, 201) << voice;
  EXPECT_EQ(voice.json["points"], 12);

  // A demo made before tiers were part of it gets them on the next run, with the same keys.
  server().Sql("DELETE FROM tier_policies WHERE tenant_id = (SELECT id FROM tenants WHERE code = 'demo')");
  auto second = server().RunCli({"demo", "--keys-file", keys_file});
  EXPECT_EQ(second.exit_code, 0) << Show(second);
  auto tiers = http().Get("/v1/tiers", keys["admin"].get<std::string>());
  ASSERT_EQ(tiers.status, 200) << tiers;
  EXPECT_FALSE(tiers.json["levels"].empty()) << tiers;
  EXPECT_EQ(http().Get("/v1/tenant", keys["admin"].get<std::string>()).status, 200)
      << "the demo's keys changed";
  auto search = http().Get("/v1/members?card_no=" + card, keys["agent"].get<std::string>());
  ASSERT_EQ(search.status, 200) << search;
  EXPECT_EQ(search.json["items"].size(), 1u) << "a second demo run duplicated members: " << search;
  std::filesystem::remove_all(dir);
}

TEST_F(CliTest, InvalidConfigurationStopsStartUpNamingTheField) {
  struct Case {
    const char* var;
    const char* value;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"UNIPOINTS_MAX_BODY_BYTES", "lots", "max_body_bytes"},
      {"UNIPOINTS_LISTEN", "no-port-here", "listen"},
      {"UNIPOINTS_LOG_LEVEL", "chatty", "log_level"},
      {"UNIPOINTS_IDENTITY_HASH_KEY", "not-hex", "identity_hash_key"},
  };
  for (const auto& c : cases) {
    auto r = server().RunCli(
        {"serve"},
        {{c.var, c.value},
         {"UNIPOINTS_LISTEN", c.var == std::string("UNIPOINTS_LISTEN") ? c.value : "127.0.0.1:1"}},
        std::chrono::seconds(15));
    EXPECT_NE(r.exit_code, 0) << c.var << "\n" << Show(r);
    EXPECT_EQ(r.err.find("[harness: killed"), std::string::npos) << c.var << ": the server started anyway";
    EXPECT_NE((r.out + r.err).find(c.field), std::string::npos) << c.var << "\n" << Show(r);
  }
}

}  // namespace
}  // namespace unipoints::testing
