// The server's own schedule: shortly after start (and every scheduler_interval_ms after), each
// tenant gets a draft run of its previous month, once.

#include <ctime>
#include <thread>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

// The previous month in Asia/Shanghai (UTC+8).
std::string PreviousPeriod() {
  std::time_t t = std::time(nullptr) + 8 * 3600;
  std::tm tm{};
  gmtime_r(&t, &tm);
  int year = tm.tm_year + 1900, month = tm.tm_mon;  // tm_mon is 0-based: this is the previous month
  if (month == 0) {
    month = 12;
    --year;
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", year, month);
  return buf;
}

TEST(SchedulerTest, DraftsThePreviousMonthOfEveryTenantOnce) {
  if (!SkipReason().empty()) GTEST_SKIP() << SkipReason();
  TestServer server(ServerOptions{{{"UNIPOINTS_SCHEDULER_INTERVAL_MS", "200"}}});
  ASSERT_EQ(server.Start(), "");
  HttpClient http(server.host(), server.port());
  auto created = http.Post(
      "/v1/tenants",
      {{"code", "SCHED"}, {"name", "定时联盟"}, {"currency", "CNY"}, {"time_zone", "Asia/Shanghai"}},
      server.platform_key());
  ASSERT_EQ(created.status, 201) << created;
  const auto admin = created.json["admin_key"].get<std::string>();
  const auto target = "/v1/settlements/" + PreviousPeriod();
  Response run;
  for (int i = 0; i < 100; ++i) {
    run = http.Get(target, admin);
    if (run.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(run.status, 200) << run;
  EXPECT_EQ(run.json["status"], "draft") << run;
  // Later wake-ups leave the draft alone: it is made once, not recomputed on every tick.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  auto rows = server.Sql("SELECT count(*) FROM settlement_runs");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].value_or(""), "1");
  auto computed = server.Sql("SELECT computed_at::text FROM settlement_runs");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(server.Sql("SELECT computed_at::text FROM settlement_runs"), computed);
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace unipoints::testing
