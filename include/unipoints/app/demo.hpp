#pragma once
// The demo alliance: a telecom (T) and a retail chain (R) with rules, members, cards and points.

#include <string>

#include <nlohmann/json.hpp>

#include "unipoints/config/config.hpp"
#include "unipoints/db/database.hpp"

namespace unipoints::app {

// Creates the demo tenant "demo" if missing (or reuses it) and writes one key per role to
// `keys_file`. Returns {tenant, keys, members}. Idempotent: a second run reuses what exists and
// keeps the keys in `keys_file` while they still work.
nlohmann::json SeedDemo(db::Database& db, const config::Config& config, const std::string& keys_file);

}  // namespace unipoints::app
