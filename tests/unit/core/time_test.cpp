#include "unipoints/core/time.hpp"

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace unipoints::core {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;
using std::chrono::seconds;

Instant At(std::string_view text) {
  const auto instant = ParseRfc3339(text);
  EXPECT_TRUE(instant.has_value()) << text;
  return instant.value_or(Instant{});
}

// 2026-10-05T08:30:00Z
constexpr std::int64_t kOctober5Micros = 1'791'189'000'000'000;

TEST(TimeTest, ParsesUtc) {
  EXPECT_EQ(ToUnixMicros(At("2026-10-05T08:30:00Z")), kOctober5Micros);
  EXPECT_EQ(ToUnixMicros(At("1970-01-01T00:00:00Z")), 0);
}

TEST(TimeTest, ParsesOffsetToUtc) {
  EXPECT_EQ(At("2026-10-05T16:30:00+08:00"), At("2026-10-05T08:30:00Z"));
  EXPECT_EQ(At("2026-10-05T03:00:00-05:30"), At("2026-10-05T08:30:00Z"));
  EXPECT_EQ(At("2027-01-01T00:00:00+08:00"), At("2026-12-31T16:00:00Z"));
  EXPECT_EQ(At("2026-10-05T08:30:00-00:00"), At("2026-10-05T08:30:00Z"));
}

TEST(TimeTest, AcceptsLowercaseSeparators) {
  EXPECT_EQ(At("2026-10-05t08:30:00z"), At("2026-10-05T08:30:00Z"));
}

TEST(TimeTest, ParsesFractionsUpToMicroseconds) {
  EXPECT_EQ(ToUnixMicros(At("2026-10-05T08:30:00.5Z")), kOctober5Micros + 500'000);
  EXPECT_EQ(ToUnixMicros(At("2026-10-05T08:30:00.000001Z")), kOctober5Micros + 1);
  EXPECT_EQ(ToUnixMicros(At("2026-10-05T08:30:00.123456+00:00")), kOctober5Micros + 123'456);
  EXPECT_FALSE(ParseRfc3339("2026-10-05T08:30:00.1234567Z"));
  EXPECT_FALSE(ParseRfc3339("2026-10-05T08:30:00.Z"));
}

TEST(TimeTest, RejectsFebruary30) {
  EXPECT_FALSE(ParseRfc3339("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-02-29T00:00:00Z"));
  EXPECT_TRUE(ParseRfc3339("2028-02-29T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2100-02-29T00:00:00Z"));
  EXPECT_TRUE(ParseRfc3339("2000-02-29T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-04-31T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-00-01T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-01-00T00:00:00Z"));
}

TEST(TimeTest, RejectsOutOfRangeTimesAndOffsets) {
  EXPECT_FALSE(ParseRfc3339("2026-10-05T24:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-10-05T23:60:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-10-05T23:59:60Z"));
  EXPECT_FALSE(ParseRfc3339("2026-10-05T08:30:00+24:00"));
  EXPECT_FALSE(ParseRfc3339("2026-10-05T08:30:00+08:60"));
}

TEST(TimeTest, RejectsMissingOffsetAndOtherShapes) {
  for (const char* text : {"",
                           "2026-10-05",
                           "2026-10-05T08:30:00",
                           "2026-10-05T08:30Z",
                           "2026-10-05 08:30:00Z",
                           "2026-10-05T08:30:00Zjunk",
                           " 2026-10-05T08:30:00Z",
                           "2026-10-05T08:30:00Z ",
                           "2026-10-05T08:30:00+0800",
                           "2026-10-05T08:30:00+08",
                           "2026-10-05T08:30:00+8:00",
                           "2026-10-05T08:30:00+08:00:00",
                           "26-10-05T08:30:00Z",
                           "2026-1-05T08:30:00Z",
                           "2026/10/05T08:30:00Z",
                           "2026-10-05T8:30:00Z",
                           "+2026-10-05T08:30:00Z",
                           "2026-10-05T08:30:00UTC",
                           "2026-10-05T08:30:00.+08:00",
                           "2026-10-05T08:30:00,5Z",
                           "2026-10-05T08:30:00+08:00Z"}) {
    EXPECT_FALSE(ParseRfc3339(text)) << '"' << text << '"';
  }
}

TEST(TimeTest, FormatsUtcWithFractionOnlyWhenNeeded) {
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(kOctober5Micros)), "2026-10-05T08:30:00Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(kOctober5Micros + 250'000)), "2026-10-05T08:30:00.250000Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(kOctober5Micros + 1)), "2026-10-05T08:30:00.000001Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(-1)), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatRfc3339(At("2026-12-31T23:59:59.999999+08:00")), "2026-12-31T15:59:59.999999Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(253'402'300'799'999'999)), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(253'402'300'800'000'000)), "10000-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(-62'167'219'200'000'000)), "0000-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(-62'167'219'200'000'001)), "-001-12-31T23:59:59.999999Z");
}

TEST(TimeTest, RefusesInstantsOutsideYearsOneTo9999InUtc) {
  EXPECT_FALSE(ParseRfc3339("0000-01-01T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("0001-01-01T00:30:00+01:00"));
  EXPECT_TRUE(ParseRfc3339("0001-01-01T00:00:00Z"));
  EXPECT_TRUE(ParseRfc3339("9999-12-31T23:59:59.999999Z"));
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:30:00-01:00"));
}

TEST(TimeTest, FormatAndParseRoundTrip) {
  for (std::int64_t micros :
       {std::int64_t{0}, kOctober5Micros, kOctober5Micros + 7, std::int64_t{-86'400'000'001},
        std::int64_t{253'402'300'799'999'999} /* 9999-12-31T23:59:59.999999Z */}) {
    EXPECT_EQ(ToUnixMicros(At(FormatRfc3339(FromUnixMicros(micros)))), micros);
  }
}

TEST(TimeTest, ParsesAndFormatsPeriods) {
  const auto period = ParsePeriod("2026-10");
  ASSERT_TRUE(period);
  EXPECT_EQ(period->year, 2026);
  EXPECT_EQ(period->month, 10u);
  EXPECT_EQ(period->ToString(), "2026-10");
  EXPECT_EQ((Period{2026, 1}).ToString(), "2026-01");
  for (const char* text :
       {"", "2026-1", "2026-13", "2026-00", "2026-10-01", "2026/10", "26-10", " 2026-10", "2026-1a"}) {
    EXPECT_FALSE(ParsePeriod(text)) << '"' << text << '"';
  }
}

TEST(TimeTest, PeriodsStepAcrossYearsAndOrder) {
  EXPECT_EQ((Period{2026, 12}).Next(), (Period{2027, 1}));
  EXPECT_EQ((Period{2026, 1}).Prev(), (Period{2025, 12}));
  EXPECT_EQ((Period{2026, 5}).Next().Prev(), (Period{2026, 5}));
  EXPECT_LT((Period{2025, 12}), (Period{2026, 1}));
  EXPECT_LT((Period{2026, 2}), (Period{2026, 10}));
}

TEST(TimeTest, UnixMicrosRoundTrip) {
  EXPECT_EQ(ToUnixMicros(FromUnixMicros(-42)), -42);
  EXPECT_EQ(FromUnixMicros(1'000'000), Instant{seconds{1}});
}

TEST(ClockTest, FixedClockMovesOnlyWhenTold) {
  FixedClock clock(At("2026-12-01T00:00:00+08:00"));
  const Clock& as_clock = clock;
  EXPECT_EQ(as_clock.Now(), At("2026-11-30T16:00:00Z"));
  clock.Advance(hours{1} + minutes{2} + microseconds{3});
  EXPECT_EQ(clock.Now(), At("2026-11-30T17:02:00.000003Z"));
  clock.Set(At("2027-01-01T00:00:00Z"));
  EXPECT_EQ(clock.Now(), At("2027-01-01T00:00:00Z"));
}

TEST(ClockTest, FixedClockIsSafeToAdvanceFromManyThreads) {
  FixedClock clock(FromUnixMicros(0));
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < 1000; ++i) {
        clock.Advance(microseconds{1});
        (void)clock.Now();
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(ToUnixMicros(clock.Now()), 8000);
}

TEST(ClockTest, SettableClockFreezesOrMovesOnFromTheInstantSet) {
  SettableClock clock;
  const auto real = SystemClock().Now();
  EXPECT_LT(std::chrono::abs(clock.Now() - real), seconds{5});  // unset: the system clock
  clock.Set(At("2027-01-01T00:00:00+08:00"), true);
  EXPECT_TRUE(clock.frozen());
  EXPECT_EQ(clock.Now(), At("2026-12-31T16:00:00Z"));
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(clock.Now(), At("2026-12-31T16:00:00Z"));
  clock.Set(At("2030-06-01T12:00:00Z"), false);
  EXPECT_FALSE(clock.frozen());
  const auto moved = clock.Now() - At("2030-06-01T12:00:00Z");
  EXPECT_GE(moved, microseconds{0});
  EXPECT_LT(moved, seconds{5});
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_GT(clock.Now() - At("2030-06-01T12:00:00Z"), moved);
}

TEST(ClockTest, SystemClockIsNearTheRealTime) {
  SystemClock clock;
  const auto before = std::chrono::system_clock::now();
  const Instant now = clock.Now();
  const auto after = std::chrono::system_clock::now();
  EXPECT_GE(now, std::chrono::floor<microseconds>(before));
  EXPECT_LE(now, std::chrono::ceil<microseconds>(after));
}

}  // namespace
}  // namespace unipoints::core
