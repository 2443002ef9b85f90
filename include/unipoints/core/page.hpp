#pragma once
// One page of a list (API.md: `?limit=` and `?after=<cursor>`, answered as {items, next}).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace unipoints::core {

struct PageRequest {
  std::optional<std::int64_t> after;  // the cursor of the previous page's last item
  int limit = 50;
};

// `items` as read with LIMIT limit + 1: the extra item, if any, is dropped and says that there is
// a next page, whose cursor is the last kept item's `cursor_field` (a number) as a string.
inline nlohmann::json PageOf(nlohmann::json items, int limit, const char* cursor_field) {
  nlohmann::json next = nullptr;
  if (items.size() > static_cast<std::size_t>(limit)) {
    items.erase(items.begin() + limit, items.end());
    next = std::to_string(items.back().at(cursor_field).get<std::int64_t>());
  }
  return {{"items", std::move(items)}, {"next", std::move(next)}};
}

}  // namespace unipoints::core
