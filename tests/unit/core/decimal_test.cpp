#include "unipoints/core/decimal.hpp"

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace unipoints::core {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

Decimal6 D(std::string_view text) {
  const auto value = Decimal6::Parse(text);
  EXPECT_TRUE(value.has_value()) << text;
  return value.value_or(Decimal6{});
}

TEST(DecimalTest, ParsesIntegersFractionsAndNegatives) {
  EXPECT_EQ(D("2").micros, 2'000'000);
  EXPECT_EQ(D("1.5").micros, 1'500'000);
  EXPECT_EQ(D("0.010000").micros, 10'000);
  EXPECT_EQ(D("-3.25").micros, -3'250'000);
  EXPECT_EQ(D("0").micros, 0);
  EXPECT_EQ(D("-0").micros, 0);
  EXPECT_EQ(D("0.000001").micros, 1);
  EXPECT_EQ(D("123456.654321").micros, 123'456'654'321);
}

TEST(DecimalTest, RejectsSevenPlaces) {
  EXPECT_FALSE(Decimal6::Parse("1.0000001"));
  EXPECT_FALSE(Decimal6::Parse("1.0000000"));
  EXPECT_TRUE(Decimal6::Parse("1.000000"));
}

TEST(DecimalTest, RejectsMalformedText) {
  for (const char* text :
       {"",     " ",   " 1",    "1 ",  "+",  "+1",  "-",  ".5",    "5.", "-.5",  "1e3", "1E3",
        "0x10", "1,5", "1.2.3", "abc", "1a", "--1", "01", "-01.5", "00", "1..5", "\t1", "½"}) {
    EXPECT_FALSE(Decimal6::Parse(text)) << '"' << text << '"';
  }
}

TEST(DecimalTest, RejectsEmbeddedNul) { EXPECT_FALSE(Decimal6::Parse(std::string_view("1\0", 2))); }

TEST(DecimalTest, AcceptsTheWholeInt64RangeAndNoMore) {
  EXPECT_EQ(D("9223372036854.775807").micros, kMax);
  EXPECT_EQ(D("-9223372036854.775808").micros, kMin);
  EXPECT_FALSE(Decimal6::Parse("9223372036854.775808"));
  EXPECT_FALSE(Decimal6::Parse("-9223372036854.775809"));
  EXPECT_FALSE(Decimal6::Parse("9223372036855"));
  EXPECT_FALSE(Decimal6::Parse("99999999999999999999999999999999999999999999"));
}

TEST(DecimalTest, ToStringAlwaysHasSixPlaces) {
  EXPECT_EQ(Decimal6{10'000}.ToString(), "0.010000");
  EXPECT_EQ(Decimal6{-1'500'000}.ToString(), "-1.500000");
  EXPECT_EQ(Decimal6{2'000'000}.ToString(), "2.000000");
  EXPECT_EQ(Decimal6{0}.ToString(), "0.000000");
  EXPECT_EQ(Decimal6{-1}.ToString(), "-0.000001");
  EXPECT_EQ(Decimal6{kMax}.ToString(), "9223372036854.775807");
  EXPECT_EQ(Decimal6{kMin}.ToString(), "-9223372036854.775808");
}

TEST(DecimalTest, ToShortStringTrimsTrailingZeros) {
  EXPECT_EQ(Decimal6{1'500'000}.ToShortString(), "1.5");
  EXPECT_EQ(Decimal6{2'000'000}.ToShortString(), "2");
  EXPECT_EQ(Decimal6{10'000}.ToShortString(), "0.01");
  EXPECT_EQ(Decimal6{-250'000}.ToShortString(), "-0.25");
  EXPECT_EQ(Decimal6{0}.ToShortString(), "0");
  EXPECT_EQ(Decimal6{1'000'001}.ToShortString(), "1.000001");
}

TEST(DecimalTest, StringsRoundTrip) {
  for (std::int64_t micros : {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{10'000},
                              std::int64_t{-3'250'000}, std::int64_t{123'456'789}, kMax, kMin}) {
    EXPECT_EQ(D(Decimal6{micros}.ToString()).micros, micros);
    EXPECT_EQ(D(Decimal6{micros}.ToShortString()).micros, micros);
  }
}

TEST(DecimalTest, ComparesByValue) {
  EXPECT_EQ(D("1.5"), D("1.500000"));
  EXPECT_LT(D("-2"), D("-1.999999"));
  EXPECT_GT(D("0.000001"), D("0"));
  EXPECT_NE(D("1"), D("1.000001"));
}

TEST(MoneyTest, MultipliesPointsByPriceIntoMinorUnits) {
  // 12,345 points at 0.01 CNY each = 123.45 CNY = 12,345 fen.
  EXPECT_EQ(AmountMinor(12'345, D("0.01"), 2), 12'345);
  EXPECT_EQ(AmountMinor(500, D("0.006"), 2), 300);
  EXPECT_EQ(AmountMinor(7, D("2"), 0), 14);
  EXPECT_EQ(AmountMinor(0, D("0.01"), 2), 0);
  EXPECT_EQ(AmountMinor(1, D("0.000001"), 9), 1'000);
}

TEST(MoneyTest, RoundsHalfAwayFromZeroOnce) {
  // 1 point at 0.005 = 0.5 fen -> 1 fen; 1 point at 0.004999 -> 0 fen.
  EXPECT_EQ(AmountMinor(1, D("0.005"), 2), 1);
  EXPECT_EQ(AmountMinor(1, D("0.004999"), 2), 0);
  // 3 points at 0.0015 = 0.45 fen -> 0 (no double rounding via 0.5).
  EXPECT_EQ(AmountMinor(3, D("0.0015"), 2), 0);
  // 333 points at 0.012345 = 4.110885 CNY -> 411 fen.
  EXPECT_EQ(AmountMinor(333, D("0.012345"), 2), 411);
  EXPECT_EQ(AmountMinor(1, D("0.5"), 0), 1);
}

TEST(MoneyTest, NegativeLineIsExactNegation) {
  for (std::int64_t points : {1, 3, 7, 333, 999'999, 123'456'789}) {
    for (const char* price : {"0.005", "0.0015", "0.012345", "0.01", "1.999999"}) {
      const std::int64_t positive = AmountMinor(points, D(price), 2);
      EXPECT_EQ(AmountMinor(-points, D(price), 2), -positive) << points << " x " << price;
      EXPECT_EQ(AmountMinor(points, D(std::string("-") + price), 2), -positive) << points << " x " << price;
    }
  }
  EXPECT_EQ(AmountMinor(-1, D("0.005"), 2), -1);
}

TEST(MoneyTest, ThrowsOnOverflowInsteadOfWrapping) {
  EXPECT_THROW(AmountMinor(kMax, D("2"), 2), std::overflow_error);
  EXPECT_THROW(AmountMinor(kMin, D("1"), 0), std::overflow_error);  // |result| would be 2^63
  EXPECT_THROW(AmountMinor(kMax, D("1000"), 9), std::overflow_error);
  EXPECT_EQ(AmountMinor(kMax, D("1"), 0), kMax);
  EXPECT_EQ(AmountMinor(-kMax, D("1"), 0), -kMax);
  EXPECT_EQ(AmountMinor(kMax, D("0.01"), 2), kMax);
}

TEST(MoneyTest, RejectsUnsupportedMinorUnits) {
  EXPECT_THROW(AmountMinor(1, D("1"), -1), std::invalid_argument);
  EXPECT_THROW(AmountMinor(1, D("1"), 10), std::invalid_argument);
}

TEST(MultiplyFloorTest, FloorsTheExactProductOnce) {
  const std::vector<Decimal6> none;
  EXPECT_EQ(MultiplyFloor(1234, 2, none, 100), 24);  // 24.68
  const std::vector<Decimal6> gold{D("1.5")};
  EXPECT_EQ(MultiplyFloor(333, 1, gold, 100), 4);  // 4.995
  // 1/3 three times: rounding each step would lose points.
  const std::vector<Decimal6> thirds{D("1.333333"), D("1.5"), D("2")};
  EXPECT_EQ(MultiplyFloor(100, 1, thirds, 1), 399);  // 399.9999
  const std::vector<Decimal6> halves{D("0.5"), D("2")};
  EXPECT_EQ(MultiplyFloor(7, 1, halves, 1), 7);  // exact 7, not floor(3.5)*2 = 6
}

TEST(MultiplyFloorTest, ZeroAnywhereGivesZero) {
  const std::vector<Decimal6> zero{D("0")};
  EXPECT_EQ(MultiplyFloor(kMax, kMax, zero, 1), 0);
  EXPECT_EQ(MultiplyFloor(0, kMax, std::vector<Decimal6>{D("1000"), D("1000")}, 1), 0);
}

TEST(MultiplyFloorTest, ReducesBeforeItOverflows) {
  // a × b is close to 2^126; the divisor and factor denominators cancel exactly.
  const std::vector<Decimal6> factors{D("0.5"), D("0.25")};
  EXPECT_EQ(MultiplyFloor(kMax, 8, factors, 1), kMax);
  EXPECT_EQ(MultiplyFloor(kMax, kMax, std::vector<Decimal6>{}, kMax), kMax);
  EXPECT_EQ(MultiplyFloor(kMax, 1'000'000, std::vector<Decimal6>{D("0.000001")}, 1), kMax);
}

TEST(MultiplyFloorTest, ReturnsNulloptWhenTheResultDoesNotFit) {
  const std::vector<Decimal6> none;
  EXPECT_EQ(MultiplyFloor(kMax, 2, none, 1), std::nullopt);
  const std::vector<Decimal6> many(8, D("1000"));
  EXPECT_EQ(MultiplyFloor(kMax, kMax, many, 1), std::nullopt);
  EXPECT_EQ(MultiplyFloor(kMax, 1, std::vector<Decimal6>{D("1.000001")}, 1), std::nullopt);
}

TEST(MultiplyFloorTest, RejectsNegativeInputs) {
  const std::vector<Decimal6> none;
  EXPECT_THROW(MultiplyFloor(-1, 1, none, 1), std::invalid_argument);
  EXPECT_THROW(MultiplyFloor(1, -1, none, 1), std::invalid_argument);
  EXPECT_THROW(MultiplyFloor(1, 1, none, 0), std::invalid_argument);
  EXPECT_THROW(MultiplyFloor(1, 1, std::vector<Decimal6>{D("-1")}, 1), std::invalid_argument);
}

}  // namespace
}  // namespace unipoints::core
