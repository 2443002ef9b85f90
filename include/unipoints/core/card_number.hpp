#pragma once
// Card numbers. unipoints issues 16-digit numbers: the prefix "88", 13 digits taken from a number
// (zero-padded), and a Luhn check digit, e.g. MakeCardNumber(CardBodyFromNumber(42, "88", 15)).
// Validation accepts any all-digit number of 12..19 digits with a valid Luhn check digit, so cards
// imported from a partner's own numbering keep working.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace unipoints::core {

inline constexpr std::string_view kCardPrefix = "88";
inline constexpr std::size_t kCardNumberLength = 16;
inline constexpr std::size_t kCardBodyLength = kCardNumberLength - 1;  // without the check digit
inline constexpr std::size_t kMinCardNumberLength = 12;
inline constexpr std::size_t kMaxCardNumberLength = 19;

// The Luhn check digit ('0'..'9') to append to `digits_without_check`.
// Throws std::invalid_argument if it contains anything but ASCII digits.
char LuhnCheckDigit(std::string_view digits_without_check);

// True iff `card_number` is 12..19 ASCII digits and its last digit is the Luhn check digit of the rest.
bool IsValidCardNumber(std::string_view card_number);

// `body` followed by its Luhn check digit. Throws std::invalid_argument if body is not all digits.
std::string MakeCardNumber(std::string_view body);

// `prefix` followed by `n` zero-padded to body_length - prefix.size() digits (no check digit).
// Throws std::invalid_argument if prefix is not all digits, is longer than body_length, or n does not
// fit in the remaining digits. Deterministic: the caller chooses n (a sequence or random draw).
std::string CardBodyFromNumber(std::uint64_t n, std::string_view prefix, std::size_t body_length);

}  // namespace unipoints::core
