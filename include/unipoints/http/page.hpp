#pragma once
// Keyset pagination shared by every list: fetch limit + 1 rows ordered by an id descending, answer
// {items, next} where next is the cursor for `?after=` (null on the last page).

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace unipoints::http {

// `rows` came from a query with LIMIT limit + 1 whose column 0 is the (bigint) cursor.
template <typename RowToJson>
nlohmann::json Page(const pqxx::result& rows, int limit, RowToJson&& to_json) {
  nlohmann::json items = nlohmann::json::array();
  nlohmann::json next = nullptr;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (static_cast<int>(i) == limit) {
      next = std::to_string(rows[i - 1][0].as<std::int64_t>());
      break;
    }
    items.push_back(to_json(rows[i]));
  }
  return {{"items", std::move(items)}, {"next", std::move(next)}};
}

// An optional number as a text parameter (nullopt binds NULL through db::Nullable).
inline std::optional<std::string> OptText(std::optional<std::int64_t> v) {
  return v ? std::optional(std::to_string(*v)) : std::nullopt;
}

}  // namespace unipoints::http
