#include "unipoints/db/database.hpp"

#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "unipoints/core/error.hpp"

namespace unipoints::db {

void PooledConnection::EnsurePrepared(const Query& q) {
  if (prepared_.contains(q.name)) return;
  conn_->prepare(q.name, q.sql);
  prepared_.insert(q.name);
}

Database::Database(const config::Config& config)
    : config_(config), workers_(static_cast<std::size_t>(config.db_pool_size)) {}

Database::~Database() { Stop(); }

void Database::Stop() {
  workers_.join();
  std::lock_guard lock(mu_);
  idle_.clear();
}

std::unique_ptr<PooledConnection> Database::Connect() {
  std::string url = config_.database_url;
  // libpq accepts both URLs and key=value strings; add our own connect timeout and statement timeout.
  const bool is_url = url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
  const std::string timeout_s =
      std::to_string(std::max<std::int64_t>(1, config_.db_connect_timeout_ms / 1000));
  if (is_url) {
    url += (url.find('?') == std::string::npos ? "?" : "&");
    url += "connect_timeout=" + timeout_s + "&application_name=unipoints";
  } else {
    url += " connect_timeout=" + timeout_s + " application_name=unipoints";
  }
  auto conn = std::make_unique<pqxx::connection>(url);
  pqxx::nontransaction nt(*conn);
  nt.exec_params("SELECT set_config('statement_timeout', $1, false), set_config('TimeZone', 'UTC', false)",
                 std::to_string(config_.statement_timeout_ms));
  return std::make_unique<PooledConnection>(std::move(conn));
}

void Database::ThrowUnavailable(const std::string& why) {
  throw core::DomainError(core::ErrorCode::kServiceUnavailable, "The database is unavailable: " + why);
}

Database::Lease Database::Acquire() {
  std::unique_lock lock(mu_);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.db_acquire_timeout_ms);
  while (idle_.empty() && open_ >= config_.db_pool_size) {
    ++waits_;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= config_.db_pool_size) {
      ++timeouts_;
      lock.unlock();
      ThrowUnavailable("no connection free within db_acquire_timeout_ms");
    }
  }
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    ++in_use_;
    return Lease(*this, std::move(c));
  }
  ++open_;
  ++in_use_;
  lock.unlock();
  try {
    return Lease(*this, Connect());
  } catch (const std::exception& e) {
    {
      std::lock_guard relock(mu_);
      --open_;
      --in_use_;
    }
    cv_.notify_one();
    spdlog::warn("database connect failed: {}", e.what());
    ThrowUnavailable("cannot connect");
  }
}

void Database::Release(std::unique_ptr<PooledConnection> conn, bool discard) {
  {
    std::lock_guard lock(mu_);
    --in_use_;
    if (discard || !conn || !conn->conn().is_open()) {
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  cv_.notify_one();
}

void Database::BackoffBeforeRetry(int attempt) {
  thread_local std::mt19937 rng{std::random_device{}()};
  const int cap_ms = std::min(200, 2 << std::min(attempt, 6));
  std::uniform_int_distribution<int> dist(0, cap_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(dist(rng)));
}

SessionLock::~SessionLock() {
  try {
    pqxx::nontransaction nt(conn_->conn());
    nt.exec_params("SELECT pg_advisory_unlock($1)", key_);
  } catch (const std::exception& e) {
    // Closing the connection (next) releases the lock anyway.
    spdlog::warn("advisory unlock failed: {}", e.what());
  }
}

std::unique_ptr<SessionLock> Database::LockOn(std::int64_t key, bool wait) {
  std::unique_ptr<PooledConnection> conn;
  try {
    conn = Connect();
  } catch (const std::exception& e) {
    ThrowUnavailable(e.what());
  }
  for (;;) {
    bool got = false;
    {
      pqxx::nontransaction nt(conn->conn());
      got = nt.exec_params("SELECT pg_try_advisory_lock($1)", key)[0][0].as<bool>();
    }
    if (got) return std::make_unique<SessionLock>(std::move(conn), key);
    if (!wait) return nullptr;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::unique_ptr<SessionLock> Database::TryLock(std::int64_t key) { return LockOn(key, false); }

std::unique_ptr<SessionLock> Database::Lock(std::int64_t key) { return LockOn(key, true); }

bool Database::Ping() {
  try {
    RunSync([](Tx& tx) { tx.work().exec("SELECT 1"); });
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

PoolStats Database::Stats() const {
  std::lock_guard lock(mu_);
  return PoolStats{config_.db_pool_size, in_use_, open_, waits_, timeouts_};
}

}  // namespace unipoints::db
