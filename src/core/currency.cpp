#include "unipoints/core/currency.hpp"

#include <array>
#include <utility>

namespace unipoints::core {

std::optional<int> CurrencyMinorUnits(std::string_view code) {
  static constexpr std::array<std::pair<std::string_view, int>, 40> kCurrencies{{
      {"AED", 2}, {"AUD", 2}, {"BHD", 3}, {"BRL", 2}, {"CAD", 2}, {"CHF", 2}, {"CLP", 0}, {"CNY", 2},
      {"CZK", 2}, {"DKK", 2}, {"EUR", 2}, {"GBP", 2}, {"HKD", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2},
      {"INR", 2}, {"ISK", 0}, {"JOD", 3}, {"JPY", 0}, {"KRW", 0}, {"KWD", 3}, {"MOP", 2}, {"MXN", 2},
      {"MYR", 2}, {"NOK", 2}, {"NZD", 2}, {"OMR", 3}, {"PHP", 2}, {"PLN", 2}, {"RUB", 2}, {"SAR", 2},
      {"SEK", 2}, {"SGD", 2}, {"THB", 2}, {"TRY", 2}, {"TWD", 2}, {"USD", 2}, {"VND", 0}, {"ZAR", 2},
  }};
  for (const auto& [c, units] : kCurrencies) {
    if (c == code) return units;
  }
  return std::nullopt;
}

}  // namespace unipoints::core
