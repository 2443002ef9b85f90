#pragma once
// The integration-test harness: a fresh database and the real `unipoints serve` binary per suite,
// a small synchronous HTTP client over Boost.Beast, and helpers that build a tenant's world over the
// public API. Everything a test asserts goes over HTTP (or, where the issue demands it, checks what
// the database stores).

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace unipoints::testing {

using nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;
using Env = std::vector<std::pair<std::string, std::string>>;

// Why the whole suite is skipped (no database and not in CI); empty when the tests run.
const std::string& SkipReason();
void SetSkipReason(std::string reason);

// ------------------------------------------------------------------ HTTP

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  nlohmann::json json;  // parsed when the content type is JSON (application/json or +json), else null

  // The header's value, or "" when absent (case-insensitive name).
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  std::string ContentType() const { return Header("content-type"); }
};

std::ostream& operator<<(std::ostream& os, const Response& r);

struct CallOptions {
  Headers headers;                          // extra request headers (replacing one of the same name)
  Headers repeated_headers;                 // sent besides any header of the same name
  std::optional<std::string> raw_body;      // sent as is instead of the JSON body
  std::optional<std::string> content_type;  // overrides the Content-Type (or sets one for raw bodies)
  std::chrono::milliseconds timeout{120'000};
};

// A raw body with this Content-Type (nullopt: none).
CallOptions RawBody(std::string body,
                    std::optional<std::string> content_type = std::string("application/json"));
// One extra request header.
CallOptions WithHeader(std::string name, std::string value);

// A keep-alive HTTP/1.1 client bound to one host:port. Synchronous from the caller's point of view.
// A connection the server closed is noticed before reuse; an idempotent GET whose reused connection
// fails is retried once on a new connection (never a write).
class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Response Call(std::string_view method, std::string_view target,
                const std::optional<json>& body = std::nullopt, const std::string& key = {},
                const CallOptions& options = {});

  Response Get(std::string_view target, const std::string& key = {}) {
    return Call("GET", target, std::nullopt, key);
  }
  Response Post(std::string_view target, const json& body, const std::string& key) {
    return Call("POST", target, body, key);
  }
  Response Put(std::string_view target, const json& body, const std::string& key) {
    return Call("PUT", target, body, key);
  }

  int connects() const;  // connections opened so far
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether `r` is an RFC 9457 problem with this status (and code, and first-or-any error field when
// given), with every member the contract names.
::testing::AssertionResult IsProblem(const Response& r, int status, std::string_view code = {},
                                     std::string_view field = {});

// ------------------------------------------------------------------ server

struct CliResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

class TestServer;

struct ServerOptions {
  Env extra_env;  // added to (or overriding) the server's environment
  // Serve the database of this (started) server instead of a fresh one: a second process against
  // the same database, with the same keys. The database is left to its owner.
  const TestServer* share_database_of = nullptr;
};

// A fresh database (dropped at destruction) and the real server binary serving it.
class TestServer {
 public:
  explicit TestServer(ServerOptions options = {});
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // Creates the database and starts `unipoints serve`; waits for GET /readyz == 200 (20 s). Returns
  // an error message, empty on success.
  std::string Start();
  // SIGTERM, then waits (up to `timeout`, then SIGKILL). Returns the exit code (128 + signal if
  // killed by one, -1 if it was not running).
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Sends `sig` to the server; Wait then reaps it (exit code as for Stop, -1 on timeout).
  void Signal(int sig) const;
  int Wait(std::chrono::milliseconds timeout);
  bool running() const { return pid_ > 0; }
  // Whether the child has exited (reaps it).
  bool Exited();
  pid_t pid() const { return pid_; }
  // How the server ended, once it has ("exit code N" or "killed by signal N"); "" while running.
  const std::string& how_ended() const { return how_ended_; }

  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }
  const std::string& platform_key() const { return platform_key_; }
  const std::string& identity_hash_key() const { return identity_hash_key_; }
  const std::string& database_url() const { return database_url_; }
  const std::string& database_name() const { return database_name_; }
  const std::string& log_path() const { return log_path_; }
  std::string LogTail(std::size_t lines = 60) const;
  std::uintmax_t LogSize() const;
  // What the server logged since `offset` (at most the last `lines` lines).
  std::string LogSince(std::uintmax_t offset, std::size_t lines = 40) const;

  // Runs the binary with `args`, the server's database and identity key, plus `env`. Kills it after
  // `timeout`.
  CliResult RunCli(const std::vector<std::string>& args, const Env& env = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;

  // Runs SQL on this server's database as the superuser (tests that check what is stored).
  std::vector<std::vector<std::optional<std::string>>> Sql(const std::string& sql,
                                                           const std::vector<std::string>& params = {}) const;

 private:
  Env ServerEnv() const;

  ServerOptions options_;
  std::string host_ = "127.0.0.1";
  std::uint16_t port_ = 0;
  std::string platform_key_;
  std::string identity_hash_key_;
  std::string database_name_;
  std::string database_url_;
  std::string log_path_;
  bool database_created_ = false;
  pid_t pid_ = -1;
  std::string how_ended_;
};

// The admin (superuser) URL from UNIPOINTS_DATABASE_URL; "" when unset.
std::string AdminDatabaseUrl();
// `url` with its database name replaced (libpq URL or key=value form).
std::string WithDatabase(const std::string& url, const std::string& database);

// Runs `argv` (argv[0] is the path) with exactly `env`; captures stdout and stderr.
CliResult RunProcess(const std::vector<std::string>& argv, const Env& env, std::chrono::milliseconds timeout);

// ------------------------------------------------------------------ helpers

std::string RandomAlnum(std::size_t n);
// Percent-encodes everything but unreserved characters (for query values).
std::string UrlEncode(std::string_view text);
std::string RandomHex(std::size_t n);
bool LuhnValid(std::string_view digits);
// A 16-digit, Luhn-valid card number starting "99" (the server issues "88..."), never issued.
std::string UnissuedCardNumber();
// Seconds since the Unix epoch for an RFC 3339 instant with offset; nullopt if malformed.
std::optional<std::int64_t> ParseInstant(std::string_view text);
// RFC 3339 in UTC ("2026-01-02T03:04:05Z").
std::string FormatUtc(std::int64_t unix_seconds);
std::int64_t NowUnix();

struct Enrolled {
  std::int64_t member_id = 0;
  std::string card_no;
};

struct Tenant {
  json tenant;
  std::string admin_key;
  std::int64_t id() const { return tenant.at("id").get<std::int64_t>(); }
  std::string code() const { return tenant.at("code").get<std::string>(); }
};

// The demo alliance of issue 3: partners T (telecom: data 1 CNY = 2 points, voice 1 CNY = 1 point)
// and R (retail: 1 CNY = 1 point), rules effective from 2020-01-01, and one key per role.
struct Alliance {
  Tenant tenant;
  std::string admin;
  std::string agent;
  std::string finance;
  std::string t_key;  // partner T
  std::string r_key;  // partner R
};

json DemoTelecomRules();
json DemoRetailRules();

// The base of every suite: one server and one fresh database per suite, a fresh HTTP client per test.
class IntegrationTest : public ::testing::Test {
 public:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  // What a derived fixture's SetUpTestSuite calls to start its suite's server with other options.
  static void StartSuite(ServerOptions options);

 protected:
  void SetUp() override;
  // Fails the test during which the server died.
  void TearDown() override;

  static TestServer& server() { return *server_; }
  // Makes the database refuse (RAISE) any accrual whose event id ends in "-poison", standing for a
  // failure of one event's write the server cannot foresee; CurePoison undoes it.
  static void PoisonAccruals();
  static void CurePoison();
  HttpClient& http();
  std::unique_ptr<HttpClient> NewClient() const;

  // Unique within the run: "<prefix><n>".
  // Runs `body(thread_index, client)` on `threads` threads, each with its own connection, released
  // together.
  template <typename Body>
  void Parallel(int threads, Body body) const {
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (int i = 0; i < threads; ++i) clients.push_back(NewClient());
    std::vector<std::thread> pool;
    std::atomic<int> ready{0};
    for (int i = 0; i < threads; ++i) {
      pool.emplace_back([&, i] {
        ++ready;
        while (ready.load() < threads) std::this_thread::yield();
        body(i, *clients[i]);
      });
    }
    for (auto& t : pool) t.join();
  }

  static std::string Unique(std::string_view prefix);
  // A random 18-character identity number (letters and digits).
  static std::string NewIdNumber();
  static std::string NewEventId() { return Unique("evt-"); }

  Tenant CreateTenant(std::string_view name = "测试联盟");
  json CreatePartner(const std::string& admin, const std::string& code, const std::string& name,
                     const std::string& kind);
  std::string CreateKey(const std::string& admin, const std::string& role, const std::string& partner = {});
  json PutRules(const std::string& admin, const std::string& partner, const json& body);
  Enrolled Enrol(const std::string& key, const std::string& name = "张三", const std::string& id_number = {},
                 const std::string& phone = {});
  // Partners T and R with the demo rules, one key per role and, unless told otherwise, settlement
  // agreements both ways so that cross-redemptions are priced.
  Alliance CreateAlliance(bool with_agreements = true);

  json Balance(const std::string& key, std::int64_t member_id);
  // Every ledger entry of a member, newest first, following `next` with `limit` per page.
  std::vector<json> Ledger(const std::string& key, std::int64_t member_id, int limit = 1000);

  // {event_id, card_no, category, amount_minor, occurred_at}
  static json AmountEvent(const std::string& event_id, const std::string& card_no,
                          const std::string& category, std::int64_t amount_minor,
                          const std::string& occurred_at = "2026-06-01T10:00:00+08:00");

  static std::unique_ptr<TestServer> server_;
  static std::string setup_error_;
  static ServerOptions suite_options_;

 private:
  std::unique_ptr<HttpClient> client_;
  std::uintmax_t log_offset_ = 0;
};

}  // namespace unipoints::testing
