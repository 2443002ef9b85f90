#pragma once
// Shared set-up for settlement tests: points from a partner, a reward priced by one option,
// a redemption, and the running month in which their lines are booked.

#include <ctime>
#include <string>

#include "harness.hpp"

namespace unipoints::testing {

// The running month in Asia/Shanghai (UTC+8, no daylight saving), where the lines are booked.
inline std::string CurrentPeriod() {
  std::time_t t = std::time(nullptr) + 8 * 3600;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100);
  return buf;
}

class SettlementFixture : public IntegrationTest {
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
};

}  // namespace unipoints::testing
