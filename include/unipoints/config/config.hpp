#pragma once
// The server's configuration: loaded once from an optional JSON file plus UNIPOINTS_* environment
// overrides, validated, then passed around as an immutable value.

#include <cstdint>
#include <optional>
#include <string>

namespace unipoints::config {

struct Config {
  std::string database_url;
  std::string listen_host = "0.0.0.0";
  std::uint16_t listen_port = 8080;
  std::string platform_key;       // empty: tenants are created only from the CLI
  std::string identity_hash_key;  // hex secret for keyed hashes of identity numbers
  std::string log_level = "info";

  int io_threads = 2;
  // Connections (and threads running their transactions); 0: twice the CPU cores, 4 to 32. On a
  // box whose database shares the cores more connections only queue inside PostgreSQL (2 cores:
  // balance reads 16,000/s with 4 connections, 12,000/s with 16 and a p99 ten times longer).
  int db_pool_size = 0;
  std::int64_t db_acquire_timeout_ms = 5000;
  std::int64_t db_connect_timeout_ms = 5000;
  std::int64_t statement_timeout_ms = 30000;
  int tx_max_retries = 8;

  std::int64_t max_body_bytes = 16 * 1024 * 1024;
  std::int64_t max_header_bytes = 16 * 1024;
  int max_connections = 1024;
  std::int64_t read_timeout_ms = 30000;
  std::int64_t write_timeout_ms = 30000;
  std::int64_t idle_timeout_ms = 60000;
  std::int64_t shutdown_grace_ms = 15000;

  // How often the server's scheduler looks for due jobs (settlement drafts); 0 turns it off.
  std::int64_t scheduler_interval_ms = 60000;
  // Lots per transaction of the expiry job: small enough never to hold up accruals for long.
  int expiry_chunk_lots = 2000;
  // Connections the expiry job uses in parallel (each on its own share of members).
  int expiry_workers = 2;
  // "system", or "settable": PUT /v1/ops/clock (platform key) moves the server's business clock.
  // For tests and rehearsals of a year end; never in production.
  std::string clock = "system";
  // A TrueType (or .ttc) font with CJK glyphs, embedded in PDF statements.
  std::string statement_font_path = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc";

  // How long an API key, once looked up, authenticates without the database (0: always look up).
  // Revocations empty every process's cache at once (LISTEN unipoints_keys).
  std::int64_t key_cache_ttl_ms = 60000;

  // Group commit of single accruals: concurrent POST /v1/accruals are gathered into one
  // transaction of at most group_commit_max_events, waiting at most group_commit_window_us after
  // the first one arrived (0: take what is queued at once), on group_commit_writers connections.
  int group_commit_max_events = 32;
  std::int64_t group_commit_window_us = 500;
  // Three, one fewer than the 2-core default pool (4 took every connection: ~5% fewer events/s).
  int group_commit_writers = 3;

  // Grouped balance reads: balance_readers threads each read what is queued, up to
  // balance_read_max_members balances, in one statement.
  int balance_read_max_members = 64;
  int balance_readers = 2;

  // Grouped redemptions: redemption_writers threads each run what is queued, up to
  // redemption_group_max requests, one after another in one transaction.
  int redemption_group_max = 16;
  int redemption_writers = 4;

  // Lines of a billing feed applied per transaction.
  int feed_chunk_lines = 5000;
  // Each chunk split by member into this many parts, written on as many connections at once.
  int feed_parts = 3;
  // Rejected lines listed per feed (GET /v1/feeds/{id}/rejects); more are counted, not listed.
  int feed_max_listed_rejects = 100000;
  // How long a post of a Feed-Id that another request is posting waits for it to end (then it
  // resumes the feed, skipping what that post applied) before answering 409 feed_in_progress.
  int feed_wait_ms = 30000;

  int max_batch_events = 10000;
  int max_list_limit = 1000;
};

// Thrown when configuration is invalid; what() names the field.
class ConfigError : public std::exception {
 public:
  explicit ConfigError(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// Reads `file` (when given) and then the environment (UNIPOINTS_<FIELD in upper case>, plus
// UNIPOINTS_LISTEN as host:port). `require_serving` also demands what only `serve` needs.
Config Load(const std::optional<std::string>& file, bool require_serving);

// Same, with an explicit environment lookup (for tests).
using EnvLookup = std::optional<std::string> (*)(const char* name);
Config Load(const std::optional<std::string>& file, bool require_serving, EnvLookup env);

}  // namespace unipoints::config
