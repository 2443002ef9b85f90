#include "unipoints/core/card_number.hpp"

#include <algorithm>
#include <stdexcept>

namespace unipoints::core {
namespace {

bool AllDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

char LuhnCheckDigit(std::string_view digits_without_check) {
  if (!AllDigits(digits_without_check)) {
    throw std::invalid_argument("LuhnCheckDigit: digits only");
  }
  // Walking from the right, the digit next to the (future) check digit is doubled, then every other one.
  int sum = 0;
  const std::size_t size = digits_without_check.size();
  for (std::size_t from_right = 0; from_right < size; ++from_right) {
    int digit = digits_without_check[size - 1 - from_right] - '0';
    if (from_right % 2 == 0) {
      digit *= 2;
      if (digit > 9) {
        digit -= 9;
      }
    }
    sum += digit;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool IsValidCardNumber(std::string_view card_number) {
  if (card_number.size() < kMinCardNumberLength || card_number.size() > kMaxCardNumberLength) {
    return false;
  }
  if (!AllDigits(card_number)) {
    return false;
  }
  return LuhnCheckDigit(card_number.substr(0, card_number.size() - 1)) == card_number.back();
}

std::string MakeCardNumber(std::string_view body) {
  std::string number(body);
  number.push_back(LuhnCheckDigit(body));
  return number;
}

std::string CardBodyFromNumber(std::uint64_t n, std::string_view prefix, std::size_t body_length) {
  if (!AllDigits(prefix)) {
    throw std::invalid_argument("CardBodyFromNumber: prefix must be digits");
  }
  if (prefix.size() > body_length) {
    throw std::invalid_argument("CardBodyFromNumber: prefix too long");
  }
  const std::string digits = std::to_string(n);
  const std::size_t width = body_length - prefix.size();
  if (digits.size() > width) {
    throw std::invalid_argument("CardBodyFromNumber: number does not fit");
  }
  std::string body(prefix);
  body.append(width - digits.size(), '0');
  body += digits;
  return body;
}

}  // namespace unipoints::core
