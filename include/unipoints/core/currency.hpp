#pragma once
// ISO 4217 currencies the platform accepts, with their minor units.

#include <optional>
#include <string_view>

namespace unipoints::core {

// Digits after the decimal point (CNY 2, JPY 0, KWD 3); nullopt for an unknown code.
std::optional<int> CurrencyMinorUnits(std::string_view code);

}  // namespace unipoints::core
