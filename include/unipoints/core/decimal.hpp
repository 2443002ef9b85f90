#pragma once
// Exact decimals and the two places where points meet them: money (points × price per point, rounded
// once to the currency's minor unit) and earning (points for an amount, floored once). No floating
// point anywhere: a Decimal6 is an int64 count of millionths, products are exact in __int128.

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace unipoints::core {

// A signed decimal with up to 6 fractional digits: value = micros / 1'000'000.
// Range: -9223372036854.775808 .. 9223372036854.775807.
struct Decimal6 {
  static constexpr std::int64_t kScale = 1'000'000;
  static constexpr int kMaxFractionDigits = 6;

  std::int64_t micros = 0;

  static constexpr Decimal6 One() { return Decimal6{kScale}; }

  // Strict grammar, the JSON number grammar without exponent: -?(0|[1-9][0-9]*)(\.[0-9]{1,6})?
  // Accepts "2", "1.5", "0.010000", "-3.25", "-0" (which is zero).
  // Rejects "", " 1", "1 ", "+1", ".5", "5." (a digit is required on both sides of the point),
  // "01" (superfluous leading zero), "1e3", "1.0000001" (7 fractional digits, even if zero),
  // and values whose micros do not fit int64.
  static std::optional<Decimal6> Parse(std::string_view text);

  // Always exactly 6 fractional digits: "0.010000", "-1.500000", "2.000000".
  std::string ToString() const;
  // Trailing fractional zeros (and a bare point) trimmed: "1.5", "2", "0.01", "-0.25".
  std::string ToShortString() const;

  auto operator<=>(const Decimal6&) const = default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 bug
};

// The amount of money for `points` at `price_per_point` (in currency major units), in the currency's
// minor unit (10^minor_units per major unit, 0 <= minor_units <= 9): points × price × 10^minor_units,
// rounded half away from zero once. Symmetric, so a negative settlement line is the exact negation
// of the positive one. Throws std::overflow_error if |result| > INT64_MAX (so the negation of a
// result always exists), std::invalid_argument for minor_units out of range.
std::int64_t AmountMinor(std::int64_t points, Decimal6 price_per_point, int minor_units);

// floor(a × b × Π factors / divisor), computed exactly as one rational number (no intermediate
// rounding), for a >= 0, b >= 0, every factor >= 0 and divisor >= 1 (otherwise throws
// std::invalid_argument). std::nullopt if the result, or an intermediate that cannot be reduced
// away, does not fit (the result must fit int64).
std::optional<std::int64_t> MultiplyFloor(std::int64_t a, std::int64_t b, std::span<const Decimal6> factors,
                                          std::int64_t divisor);

}  // namespace unipoints::core
