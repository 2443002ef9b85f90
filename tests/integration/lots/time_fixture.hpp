#pragma once
// Tests of time run against a server whose business clock is settable (PUT /v1/ops/clock) and whose
// scheduler only runs when asked (POST /v1/ops/scheduler/run): no test sleeps for a boundary.

#include <string>

#include "harness.hpp"

namespace unipoints::testing {

inline const Env kSettableClockEnv = {{"UNIPOINTS_CLOCK", "settable"},
                                      {"UNIPOINTS_SCHEDULER_INTERVAL_MS", "0"}};

class TimeTest : public IntegrationTest {
 public:
  static void SetUpTestSuite() { StartSuite(ServerOptions{kSettableClockEnv}); }

 protected:
  // Freezes the server's clock at `now` (RFC 3339).
  void SetClock(const std::string& now) {
    auto r = http().Put("/v1/ops/clock", {{"now", now}, {"frozen", true}}, server().platform_key());
    ASSERT_EQ(r.status, 200) << r;
  }
  json RunScheduler() {
    auto r = http().Post("/v1/ops/scheduler/run", json::object(), server().platform_key());
    EXPECT_EQ(r.status, 200) << r;
    return r.json;
  }
  // POST /v1/jobs/expiry (as of now unless given); the run's counts.
  json Expire(const std::string& admin, const std::string& as_of = {}) {
    json body = json::object();
    if (!as_of.empty()) body["as_of"] = as_of;
    auto r = http().Post("/v1/jobs/expiry", body, admin);
    EXPECT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.json.value("status", ""), "done") << r;
    return r.json.value("counts", json::object());
  }
  void PutPolicy(const std::string& admin, const json& policy) {
    auto r = http().Put("/v1/policy", policy, admin);
    ASSERT_EQ(r.status, 200) << r;
  }
  // Direct points from a partner; the accrual's answer.
  json Points(const std::string& key, std::int64_t member, std::int64_t points,
              const std::string& occurred_at, const std::string& point_type = "bonus") {
    auto r = http().Post("/v1/accruals",
                         {{"event_id", NewEventId()},
                          {"member_id", member},
                          {"points", points},
                          {"point_type", point_type},
                          {"occurred_at", occurred_at}},
                         key);
    EXPECT_EQ(r.status, 201) << r;
    return r.json;
  }
  // `unipoints verify` on this suite's database passes.
  void ExpectVerified() {
    auto v = server().RunCli({"verify"});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  }
};

}  // namespace unipoints::testing
