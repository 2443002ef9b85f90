#include "unipoints/core/card_number.hpp"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace unipoints::core {
namespace {

TEST(CardNumberTest, ComputesKnownLuhnCheckDigits) {
  EXPECT_EQ(LuhnCheckDigit("7992739871"), '3');       // the textbook example 79927398713
  EXPECT_EQ(LuhnCheckDigit("411111111111111"), '1');  // 4111 1111 1111 1111
  EXPECT_EQ(LuhnCheckDigit("0"), '0');
  EXPECT_EQ(LuhnCheckDigit(""), '0');
}

TEST(CardNumberTest, AcceptsValidNumbers) {
  EXPECT_TRUE(IsValidCardNumber("4111111111111111"));
  EXPECT_TRUE(IsValidCardNumber("5555555555554444"));
  EXPECT_TRUE(IsValidCardNumber(MakeCardNumber("88000000000004")));
}

TEST(CardNumberTest, DetectsSingleDigitError) {
  const std::string valid =
      MakeCardNumber(CardBodyFromNumber(1'234'567'890'123ULL, kCardPrefix, kCardBodyLength));
  ASSERT_TRUE(IsValidCardNumber(valid));
  for (std::size_t position = 0; position < valid.size(); ++position) {
    for (char digit = '0'; digit <= '9'; ++digit) {
      if (digit == valid[position]) {
        continue;
      }
      std::string changed = valid;
      changed[position] = digit;
      EXPECT_FALSE(IsValidCardNumber(changed)) << changed;
    }
  }
}

TEST(CardNumberTest, DetectsAdjacentTransposition) {
  const std::string valid = MakeCardNumber("881234567890123");
  for (std::size_t position = 0; position + 1 < valid.size(); ++position) {
    std::string swapped = valid;
    std::swap(swapped[position], swapped[position + 1]);
    // Luhn misses only 09 <-> 90.
    const bool undetectable = (valid[position] == '0' && valid[position + 1] == '9') ||
                              (valid[position] == '9' && valid[position + 1] == '0');
    if (swapped == valid || undetectable) {
      continue;
    }
    EXPECT_FALSE(IsValidCardNumber(swapped)) << swapped;
  }
}

TEST(CardNumberTest, RejectsWrongLengthAndNonDigits) {
  EXPECT_FALSE(IsValidCardNumber(""));
  EXPECT_FALSE(IsValidCardNumber(MakeCardNumber("8800000000")));           // 11 digits
  EXPECT_TRUE(IsValidCardNumber(MakeCardNumber("88000000000")));           // 12 digits
  EXPECT_TRUE(IsValidCardNumber(MakeCardNumber("880000000000000000")));    // 19 digits
  EXPECT_FALSE(IsValidCardNumber(MakeCardNumber("8800000000000000000")));  // 20 digits
  EXPECT_FALSE(IsValidCardNumber("4111 1111 1111 1111"));
  EXPECT_FALSE(IsValidCardNumber("4111-1111-1111-1111"));
  EXPECT_FALSE(IsValidCardNumber("411111111111111a"));
  EXPECT_FALSE(IsValidCardNumber(" 4111111111111111"));
}

TEST(CardNumberTest, IssuedNumbersHaveSixteenDigitsAndThePrefix) {
  const std::string number = MakeCardNumber(CardBodyFromNumber(42, kCardPrefix, kCardBodyLength));
  EXPECT_EQ(number.size(), kCardNumberLength);
  EXPECT_EQ(number.substr(0, 2), "88");
  EXPECT_EQ(number.substr(0, 15), "880000000000042");
  EXPECT_TRUE(IsValidCardNumber(number));

  const std::string largest = CardBodyFromNumber(9'999'999'999'999ULL, kCardPrefix, kCardBodyLength);
  EXPECT_EQ(largest, "889999999999999");
  EXPECT_THROW(CardBodyFromNumber(10'000'000'000'000ULL, kCardPrefix, kCardBodyLength),
               std::invalid_argument);
}

TEST(CardNumberTest, RejectsNonDigitInputsToBuilders) {
  EXPECT_THROW(LuhnCheckDigit("12a4"), std::invalid_argument);
  EXPECT_THROW(MakeCardNumber("12 4"), std::invalid_argument);
  EXPECT_THROW(CardBodyFromNumber(1, "8A", 15), std::invalid_argument);
  EXPECT_THROW(CardBodyFromNumber(1, "8888", 3), std::invalid_argument);
  EXPECT_EQ(CardBodyFromNumber(0, "88", 4), "8800");
}

}  // namespace
}  // namespace unipoints::core
