#include "unipoints/core/decimal.hpp"

#include <limits>
#include <stdexcept>

namespace unipoints::core {
namespace {

__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 Uint128;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Uint128 Pow10(int exponent) {
  Uint128 result = 1;
  for (int i = 0; i < exponent; ++i) {
    result *= 10;
  }
  return result;
}

Uint128 Gcd(Uint128 a, Uint128 b) {
  while (b != 0) {
    const Uint128 rest = a % b;
    a = b;
    b = rest;
  }
  return a;
}

// Divides both (non-zero) values by their greatest common divisor.
void ReduceBoth(Uint128& x, Uint128& y) {
  const Uint128 g = Gcd(x, y);
  if (g > 1) {
    x /= g;
    y /= g;
  }
}

}  // namespace

std::optional<Decimal6> Decimal6::Parse(std::string_view text) {
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && text[i] == '-') {
    negative = true;
    ++i;
  }

  const std::size_t int_begin = i;
  while (i < text.size() && IsDigit(text[i])) {
    ++i;
  }
  const std::size_t int_digits = i - int_begin;
  if (int_digits == 0) {
    return std::nullopt;
  }
  if (int_digits > 1 && text[int_begin] == '0') {
    return std::nullopt;
  }
  // INT64_MAX micros has 13 integer digits; 19 digits still fit an unsigned __int128 after scaling.
  if (int_digits > 19) {
    return std::nullopt;
  }

  Uint128 magnitude = 0;
  for (std::size_t k = int_begin; k < i; ++k) {
    magnitude = magnitude * 10 + static_cast<unsigned>(text[k] - '0');
  }
  magnitude *= static_cast<Uint128>(kScale);

  if (i < text.size()) {
    if (text[i] != '.') {
      return std::nullopt;
    }
    ++i;
    const std::size_t frac_begin = i;
    while (i < text.size() && IsDigit(text[i])) {
      ++i;
    }
    const std::size_t frac_digits = i - frac_begin;
    if (frac_digits == 0 || frac_digits > static_cast<std::size_t>(kMaxFractionDigits)) {
      return std::nullopt;
    }
    if (i != text.size()) {
      return std::nullopt;
    }
    std::uint64_t fraction = 0;
    for (std::size_t k = frac_begin; k < i; ++k) {
      fraction = fraction * 10 + static_cast<unsigned>(text[k] - '0');
    }
    for (std::size_t k = frac_digits; k < static_cast<std::size_t>(kMaxFractionDigits); ++k) {
      fraction *= 10;
    }
    magnitude += fraction;
  }

  const Uint128 limit = static_cast<Uint128>(kInt64Max) + (negative ? 1 : 0);
  if (magnitude > limit) {
    return std::nullopt;
  }
  const Int128 signed_value = negative ? -static_cast<Int128>(magnitude) : static_cast<Int128>(magnitude);
  return Decimal6{static_cast<std::int64_t>(signed_value)};
}

std::string Decimal6::ToString() const {
  const bool negative = micros < 0;
  // Unsigned negation is well defined for INT64_MIN too.
  const std::uint64_t magnitude =
      negative ? std::uint64_t{0} - static_cast<std::uint64_t>(micros) : static_cast<std::uint64_t>(micros);
  const std::uint64_t scale = static_cast<std::uint64_t>(kScale);
  std::string fraction = std::to_string(magnitude % scale);
  fraction.insert(0, static_cast<std::size_t>(kMaxFractionDigits) - fraction.size(), '0');
  std::string out;
  out.reserve(28);
  if (negative) {
    out.push_back('-');
  }
  out += std::to_string(magnitude / scale);
  out.push_back('.');
  out += fraction;
  return out;
}

std::string Decimal6::ToShortString() const {
  std::string out = ToString();
  while (out.back() == '0') {
    out.pop_back();
  }
  if (out.back() == '.') {
    out.pop_back();
  }
  return out;
}

std::int64_t AmountMinor(std::int64_t points, Decimal6 price_per_point, int minor_units) {
  if (minor_units < 0 || minor_units > 9) {
    throw std::invalid_argument("AmountMinor: minor_units must be within 0..9");
  }
  // |points × micros| <= 2^126: always fits a signed __int128.
  const Int128 product = static_cast<Int128>(points) * price_per_point.micros;
  const bool negative = product < 0;
  Uint128 magnitude = negative ? static_cast<Uint128>(-product) : static_cast<Uint128>(product);

  constexpr int kPriceDigits = Decimal6::kMaxFractionDigits;
  if (minor_units >= kPriceDigits) {
    // Exact: scaling up never rounds. Above INT64_MAX the scaled value cannot come back into range.
    if (magnitude > static_cast<Uint128>(kInt64Max)) {
      throw std::overflow_error("AmountMinor: amount overflows");
    }
    magnitude *= Pow10(minor_units - kPriceDigits);
  } else {
    const Uint128 divisor = Pow10(kPriceDigits - minor_units);
    const Uint128 remainder = magnitude % divisor;
    magnitude /= divisor;
    if (remainder * 2 >= divisor) {
      ++magnitude;  // half away from zero, applied to the magnitude
    }
  }
  if (magnitude > static_cast<Uint128>(kInt64Max)) {
    throw std::overflow_error("AmountMinor: amount overflows");
  }
  const auto result = static_cast<std::int64_t>(magnitude);
  return negative ? -result : result;
}

std::optional<std::int64_t> MultiplyFloor(std::int64_t a, std::int64_t b, std::span<const Decimal6> factors,
                                          std::int64_t divisor) {
  if (a < 0 || b < 0 || divisor < 1) {
    throw std::invalid_argument("MultiplyFloor: a and b must be >= 0 and divisor >= 1");
  }
  for (const Decimal6& factor : factors) {
    if (factor.micros < 0) {
      throw std::invalid_argument("MultiplyFloor: factors must be >= 0");
    }
  }

  // The value is kept as the fraction numerator / denominator in lowest terms; each factor is reduced
  // against it before multiplying, so the intermediates stay as small as the exact value allows.
  Uint128 numerator = static_cast<Uint128>(a) * static_cast<Uint128>(b);  // < 2^126
  Uint128 denominator = static_cast<Uint128>(divisor);
  if (numerator == 0) {
    return 0;
  }
  ReduceBoth(numerator, denominator);

  for (const Decimal6& factor : factors) {
    if (factor.micros == 0) {
      return 0;
    }
    Uint128 factor_numerator = static_cast<Uint128>(factor.micros);
    Uint128 factor_denominator = static_cast<Uint128>(Decimal6::kScale);
    ReduceBoth(factor_numerator, factor_denominator);
    ReduceBoth(numerator, factor_denominator);
    ReduceBoth(factor_numerator, denominator);
    if (__builtin_mul_overflow(numerator, factor_numerator, &numerator)) {
      return std::nullopt;
    }
    if (__builtin_mul_overflow(denominator, factor_denominator, &denominator)) {
      return std::nullopt;
    }
  }

  const Uint128 quotient = numerator / denominator;  // floor: everything is non-negative
  if (quotient > static_cast<Uint128>(kInt64Max)) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(quotient);
}

}  // namespace unipoints::core
