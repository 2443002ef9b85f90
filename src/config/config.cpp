#include "unipoints/config/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

namespace unipoints::config {
namespace {

using nlohmann::json;

std::optional<std::string> RealEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string EnvName(const std::string& field) {
  std::string out = "UNIPOINTS_";
  for (char c : field) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// One setting: how to read it from JSON or from an environment string, with bounds.
class Reader {
 public:
  Reader(const json& file, EnvLookup env) : file_(file), env_(env) {}

  void Str(const std::string& field, std::string& out) {
    if (auto e = env_(EnvName(field).c_str())) {
      out = *e;
    } else if (file_.contains(field)) {
      if (!file_[field].is_string()) throw ConfigError(field + ": must be a string");
      out = file_[field].get<std::string>();
    }
  }

  template <typename T>
  void Int(const std::string& field, T& out, std::int64_t min, std::int64_t max) {
    std::int64_t value = static_cast<std::int64_t>(out);
    if (auto e = env_(EnvName(field).c_str())) {
      std::size_t used = 0;
      try {
        value = std::stoll(*e, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != e->size()) {
        throw ConfigError(field + " (" + EnvName(field) + "): must be an integer, got '" + *e + "'");
      }
    } else if (file_.contains(field)) {
      if (!file_[field].is_number_integer()) throw ConfigError(field + ": must be an integer");
      value = file_[field].get<std::int64_t>();
    }
    if (value < min || value > max) {
      throw ConfigError(field + ": must be between " + std::to_string(min) + " and " + std::to_string(max) +
                        ", got " + std::to_string(value));
    }
    out = static_cast<T>(value);
  }

 private:
  const json& file_;
  EnvLookup env_;
};

void ParseListen(const std::string& listen, Config& c) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= listen.size()) {
    throw ConfigError("listen: must be host:port, got '" + listen + "'");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = listen.substr(colon + 1);
  long value = 0;
  for (char ch : port) {
    if (ch < '0' || ch > '9') throw ConfigError("listen: port must be a number, got '" + port + "'");
    value = value * 10 + (ch - '0');
    if (value > 65535) break;
  }
  if (value > 65535) throw ConfigError("listen: port must be 0..65535, got '" + port + "'");
  c.listen_host = host.empty() ? "0.0.0.0" : host;
  c.listen_port = static_cast<std::uint16_t>(value);
}

bool IsHex(const std::string& s) {
  for (char ch : s) {
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return false;
  }
  return true;
}

}  // namespace

Config Load(const std::optional<std::string>& file, bool require_serving) {
  return Load(file, require_serving, &RealEnv);
}

Config Load(const std::optional<std::string>& file, bool require_serving, EnvLookup env) {
  json doc = json::object();
  if (file) {
    std::ifstream in(*file);
    if (!in) throw ConfigError("config file: cannot read '" + *file + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    doc = json::parse(ss.str(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      throw ConfigError("config file: '" + *file + "' is not a JSON object");
    }
  }
  Config c;
  Reader r(doc, env);
  r.Str("database_url", c.database_url);
  std::string listen = c.listen_host + ":" + std::to_string(c.listen_port);
  r.Str("listen", listen);
  ParseListen(listen, c);
  r.Str("platform_key", c.platform_key);
  r.Str("identity_hash_key", c.identity_hash_key);
  r.Str("log_level", c.log_level);
  r.Str("statement_font_path", c.statement_font_path);
  r.Int("io_threads", c.io_threads, 1, 64);
  r.Int("db_pool_size", c.db_pool_size, 0, 256);
  if (c.db_pool_size == 0) {
    c.db_pool_size = std::clamp(2 * static_cast<int>(std::thread::hardware_concurrency()), 4, 32);
  }
  r.Int("db_acquire_timeout_ms", c.db_acquire_timeout_ms, 1, 600000);
  r.Int("db_connect_timeout_ms", c.db_connect_timeout_ms, 100, 600000);
  r.Int("statement_timeout_ms", c.statement_timeout_ms, 100, 3600000);
  r.Int("tx_max_retries", c.tx_max_retries, 0, 100);
  r.Int("max_body_bytes", c.max_body_bytes, 1024, std::int64_t{1} << 32);
  r.Int("max_header_bytes", c.max_header_bytes, 1024, 1024 * 1024);
  r.Int("max_connections", c.max_connections, 1, 100000);
  r.Int("read_timeout_ms", c.read_timeout_ms, 100, 3600000);
  r.Int("write_timeout_ms", c.write_timeout_ms, 100, 3600000);
  r.Int("idle_timeout_ms", c.idle_timeout_ms, 100, 3600000);
  r.Int("shutdown_grace_ms", c.shutdown_grace_ms, 0, 3600000);
  r.Int("scheduler_interval_ms", c.scheduler_interval_ms, 0, 86400000);
  r.Int("expiry_chunk_lots", c.expiry_chunk_lots, 1, 1000000);
  r.Int("expiry_workers", c.expiry_workers, 1, 16);
  r.Str("clock", c.clock);
  r.Int("key_cache_ttl_ms", c.key_cache_ttl_ms, 0, 86400000);
  r.Int("group_commit_max_events", c.group_commit_max_events, 1, 10000);
  r.Int("group_commit_window_us", c.group_commit_window_us, 0, 1000000);
  r.Int("group_commit_writers", c.group_commit_writers, 1, 64);
  r.Int("balance_read_max_members", c.balance_read_max_members, 1, 10000);
  r.Int("balance_readers", c.balance_readers, 1, 64);
  r.Int("redemption_group_max", c.redemption_group_max, 1, 1000);
  r.Int("redemption_writers", c.redemption_writers, 1, 64);
  r.Int("feed_chunk_lines", c.feed_chunk_lines, 1, 100000);
  r.Int("feed_parts", c.feed_parts, 1, 16);
  r.Int("feed_max_listed_rejects", c.feed_max_listed_rejects, 0, 100000000);
  r.Int("feed_wait_ms", c.feed_wait_ms, 0, 3600000);
  r.Int("max_batch_events", c.max_batch_events, 1, 1000000);
  r.Int("max_list_limit", c.max_list_limit, 1, 100000);

  if (c.database_url.empty()) {
    throw ConfigError("database_url (UNIPOINTS_DATABASE_URL): required");
  }
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  bool level_ok = false;
  for (const char* l : kLevels) level_ok = level_ok || c.log_level == l;
  if (!level_ok) throw ConfigError("log_level: must be one of trace debug info warn error critical off");
  if (c.clock != "system" && c.clock != "settable") {
    throw ConfigError("clock (UNIPOINTS_CLOCK): must be system or settable");
  }
  if (!c.platform_key.empty() && c.platform_key.size() < 16) {
    throw ConfigError("platform_key (UNIPOINTS_PLATFORM_KEY): must be at least 16 characters");
  }
  if (!c.identity_hash_key.empty() && (c.identity_hash_key.size() < 32 || !IsHex(c.identity_hash_key))) {
    throw ConfigError("identity_hash_key (UNIPOINTS_IDENTITY_HASH_KEY): must be at least 32 hex characters");
  }
  if (require_serving && c.identity_hash_key.empty()) {
    throw ConfigError(
        "identity_hash_key (UNIPOINTS_IDENTITY_HASH_KEY): required (hex secret for identity numbers)");
  }
  return c;
}

}  // namespace unipoints::config
