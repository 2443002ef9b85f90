// Per-key token buckets: a burst at once, then the sustained rate; the wait a refusal names.

#include <gtest/gtest.h>

#include "unipoints/tenancy/rate_limiter.hpp"

namespace unipoints::tenancy {
namespace {

using std::chrono::milliseconds;

TEST(RateLimiterTest, ABurstAtOnceThenTheSustainedRate) {
  RateLimiter limiter;
  const RateLimit limit{2, 3};
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Admit(7, limit, t0), 0) << i;
  EXPECT_EQ(limiter.Admit(7, limit, t0), 1);  // a token comes back after 0.5 s: wait 1 s
  EXPECT_EQ(limiter.Admit(7, limit, t0 + milliseconds(400)), 1);
  EXPECT_EQ(limiter.Admit(7, limit, t0 + milliseconds(500)), 0);
  EXPECT_EQ(limiter.Admit(7, limit, t0 + milliseconds(500)), 1);
  // A quiet spell refills up to the burst, no more.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Admit(7, limit, t0 + std::chrono::seconds(60)), 0) << i;
  EXPECT_EQ(limiter.Admit(7, limit, t0 + std::chrono::seconds(60)), 1);
}

TEST(RateLimiterTest, KeysHaveBucketsOfTheirOwn) {
  RateLimiter limiter;
  const RateLimit limit{1, 1};
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(limiter.Admit(1, limit, t0), 0);
  EXPECT_EQ(limiter.Admit(1, limit, t0), 1);
  EXPECT_EQ(limiter.Admit(2, limit, t0), 0);
}

TEST(RateLimiterTest, TheWaitCoversASlowRate) {
  RateLimiter limiter;
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  // One request a second after a burst of one: waits are whole seconds, at least one.
  EXPECT_EQ(limiter.Admit(3, {1, 1}, t0), 0);
  EXPECT_EQ(limiter.Admit(3, {1, 1}, t0 + milliseconds(100)), 1);
  EXPECT_EQ(limiter.Admit(3, {1, 1}, t0 + milliseconds(1000)), 0);
}

TEST(RateLimiterTest, AChangedLimitAppliesAtOnce) {
  RateLimiter limiter;
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(limiter.Admit(9, {100, 100}, t0), 0);  // 99 tokens left
  // Lowered to a burst of 2: the tokens kept are capped at it.
  EXPECT_EQ(limiter.Admit(9, {1, 2}, t0), 0);
  EXPECT_EQ(limiter.Admit(9, {1, 2}, t0), 0);
  EXPECT_EQ(limiter.Admit(9, {1, 2}, t0), 1);
}

TEST(RateLimiterTest, AnEarlierInstantFromAnotherThreadAddsNothing) {
  RateLimiter limiter;
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(limiter.Admit(4, {1, 1}, t0), 0);
  EXPECT_EQ(limiter.Admit(4, {1, 1}, t0 - std::chrono::seconds(5)), 1);
  EXPECT_EQ(limiter.Admit(4, {1, 1}, t0 + milliseconds(999)), 1);
  EXPECT_EQ(limiter.Admit(4, {1, 1}, t0 + milliseconds(1000)), 0);
}

}  // namespace
}  // namespace unipoints::tenancy
