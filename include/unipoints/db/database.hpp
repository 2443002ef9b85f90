#pragma once
// The connection pool and the one transaction runner. HTTP coroutines call Database::Run, which
// executes the work on the pool's own threads (never on an io_context thread) and resumes the
// coroutine on its own executor when the transaction has committed or failed.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <pqxx/pqxx>

#include "unipoints/config/config.hpp"

namespace unipoints::db {

// A named SQL statement with $n parameters. Stores declare these as constants; a connection
// prepares each one the first time it runs it.
struct Query {
  const char* name;
  const char* sql;
};

class PooledConnection {
 public:
  explicit PooledConnection(std::unique_ptr<pqxx::connection> conn) : conn_(std::move(conn)) {}
  pqxx::connection& conn() { return *conn_; }
  void EnsurePrepared(const Query& q);

 private:
  std::unique_ptr<pqxx::connection> conn_;
  std::unordered_set<std::string> prepared_;
};

// One database transaction, handed to the work function.
class Tx {
 public:
  Tx(PooledConnection& conn, pqxx::transaction_base& work) : conn_(conn), work_(work) {}

  template <typename... Args>
  pqxx::result Exec(const Query& q, Args&&... args) {
    conn_.EnsurePrepared(q);
    return work_.exec_prepared(q.name, std::forward<Args>(args)...);
  }
  // Exactly one row, or nullopt.
  template <typename... Args>
  std::optional<pqxx::row> ExecOne(const Query& q, Args&&... args) {
    auto r = Exec(q, std::forward<Args>(args)...);
    if (r.empty()) return std::nullopt;
    return r[0];
  }
  pqxx::transaction_base& work() { return work_; }
  // Runs `f` under a savepoint of this transaction: if `f` throws, only its work is undone, the
  // transaction goes on, and the exception reaches the caller.
  template <typename F>
  auto Savepoint(F&& f) -> std::invoke_result_t<F&, Tx&> {
    work_.exec0("SAVEPOINT unipoints_sp");
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<F&, Tx&>>) {
        f(*this);
        work_.exec0("RELEASE SAVEPOINT unipoints_sp");
      } else {
        auto result = f(*this);
        work_.exec0("RELEASE SAVEPOINT unipoints_sp");
        return result;
      }
    } catch (const pqxx::broken_connection&) {
      throw;
    } catch (...) {
      work_.exec0("ROLLBACK TO SAVEPOINT unipoints_sp");
      work_.exec0("RELEASE SAVEPOINT unipoints_sp");
      throw;
    }
  }

 private:
  PooledConnection& conn_;
  pqxx::transaction_base& work_;
};

// A value that may be SQL NULL, for exec_prepared (libpqxx 6.4 binds a null char pointer as NULL).
inline const char* Nullable(const std::optional<std::string>& v) { return v ? v->c_str() : nullptr; }
// An optional number as a parameter's text (for Nullable).
inline std::optional<std::string> OptNumber(std::optional<std::int64_t> v) {
  return v ? std::optional(std::to_string(*v)) : std::nullopt;
}

// A PostgreSQL session-level advisory lock, held on a connection of its own (outside the pool)
// until destroyed. Jobs that span many transactions hold one so that a second process skips or waits;
// if the process dies, its connection and so its lock go with it.
class SessionLock {
 public:
  SessionLock(std::unique_ptr<PooledConnection> conn, std::int64_t key) : conn_(std::move(conn)), key_(key) {}
  ~SessionLock();
  SessionLock(const SessionLock&) = delete;
  SessionLock& operator=(const SessionLock&) = delete;

 private:
  std::unique_ptr<PooledConnection> conn_;
  std::int64_t key_;
};

struct PoolStats {
  int size;
  int in_use;
  int open;
  std::uint64_t waits;
  std::uint64_t timeouts;
};

class Database {
 public:
  explicit Database(const config::Config& config);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs `work(Tx&)` in one transaction on the calling thread, retrying on serialization
  // failure, deadlock, a unique key another transaction committed first, or a broken connection
  // before commit; never retries an in-doubt commit.
  template <typename F>
  auto RunSync(F&& work) -> std::invoke_result_t<F&, Tx&>;

  // The same on the pool's threads; the awaiting coroutine resumes on its own executor.
  template <typename F>
  auto Run(F work) -> boost::asio::awaitable<std::invoke_result_t<F&, Tx&>>;
  // For reads of one statement (each statement is its own snapshot): no BEGIN and COMMIT round
  // trips. Retried on a broken connection. Never for writes.
  template <typename F>
  auto ReadSync(F&& work) -> std::invoke_result_t<F&, Tx&>;
  template <typename F>
  auto Read(F work) -> boost::asio::awaitable<std::invoke_result_t<F&, Tx&>>;

  // Runs `work()` (which opens its own transactions with RunSync: a job of many transactions) on
  // the pool's threads; the awaiting coroutine resumes on its own executor with the result.
  template <typename F>
  auto Offload(F work) -> boost::asio::awaitable<std::invoke_result_t<F&>>;
  // The advisory lock `key` on a dedicated connection; nullptr when another session holds it.
  std::unique_ptr<SessionLock> TryLock(std::int64_t key);
  // The same, waiting (polling every 100 ms) while another session holds it.
  std::unique_ptr<SessionLock> Lock(std::int64_t key);
  // A connection of its own, outside the pool (listeners).
  std::unique_ptr<PooledConnection> ConnectDedicated() { return Connect(); }
  // True when a connection can be had and answers.
  bool Ping();
  PoolStats Stats() const;
  void Stop();

 private:
  class Lease {
   public:
    Lease(Database& db, std::unique_ptr<PooledConnection> c) : db_(db), conn_(std::move(c)) {}
    ~Lease() { db_.Release(std::move(conn_), discard_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    PooledConnection& operator*() { return *conn_; }
    void Discard() { discard_ = true; }

   private:
    Database& db_;
    std::unique_ptr<PooledConnection> conn_;
    bool discard_ = false;
  };

  Lease Acquire();
  void Release(std::unique_ptr<PooledConnection> conn, bool discard);
  std::unique_ptr<PooledConnection> Connect();
  std::unique_ptr<SessionLock> LockOn(std::int64_t key, bool wait);
  [[noreturn]] void ThrowUnavailable(const std::string& why);
  void BackoffBeforeRetry(int attempt);

  const config::Config& config_;
  boost::asio::thread_pool workers_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PooledConnection>> idle_;
  int open_ = 0;
  int in_use_ = 0;
  std::uint64_t waits_ = 0;
  std::uint64_t timeouts_ = 0;
};

template <typename F>
auto Database::RunSync(F&& work) -> std::invoke_result_t<F&, Tx&> {
  for (int attempt = 0;; ++attempt) {
    Lease lease = Acquire();
    try {
      pqxx::work w((*lease).conn());
      Tx tx(*lease, w);
      if constexpr (std::is_void_v<std::invoke_result_t<F&, Tx&>>) {
        work(tx);
        w.commit();
        return;
      } else {
        auto result = work(tx);
        w.commit();
        return result;
      }
    } catch (const pqxx::in_doubt_error&) {
      lease.Discard();
      throw;  // the commit may or may not have happened: never retry blindly
    } catch (const pqxx::transaction_rollback&) {
      // serialization failure or deadlock: the transaction rolled back, safe to retry
      if (attempt >= config_.tx_max_retries) throw;
    } catch (const pqxx::unique_violation&) {
      // another transaction committed the same key first (writes that check for their keys and
      // insert them without ON CONFLICT): run again, and the work sees it
      if (attempt >= config_.tx_max_retries) throw;
    } catch (const pqxx::broken_connection& e) {
      lease.Discard();
      if (attempt >= config_.tx_max_retries) ThrowUnavailable(e.what());
    }
    BackoffBeforeRetry(attempt);
  }
}

template <typename F>
auto Database::ReadSync(F&& work) -> std::invoke_result_t<F&, Tx&> {
  for (int attempt = 0;; ++attempt) {
    Lease lease = Acquire();
    try {
      pqxx::nontransaction n((*lease).conn());
      Tx tx(*lease, n);
      return work(tx);
    } catch (const pqxx::broken_connection& e) {
      lease.Discard();
      if (attempt >= config_.tx_max_retries) ThrowUnavailable(e.what());
    }
    BackoffBeforeRetry(attempt);
  }
}

template <typename F>
auto Database::Read(F work) -> boost::asio::awaitable<std::invoke_result_t<F&, Tx&>> {
  return Offload([this, work = std::move(work)]() mutable { return ReadSync(work); });
}

template <typename F>
auto Database::Run(F work) -> boost::asio::awaitable<std::invoke_result_t<F&, Tx&>> {
  return Offload([this, work = std::move(work)]() mutable { return RunSync(work); });
}

template <typename F>
auto Database::Offload(F work) -> boost::asio::awaitable<std::invoke_result_t<F&>> {
  using R = std::invoke_result_t<F&>;
  namespace asio = boost::asio;
  if constexpr (std::is_void_v<R>) {
    co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr)>(
        [this, work = std::move(work)](auto handler) mutable {
          auto ex = asio::get_associated_executor(handler);
          asio::post(workers_, [work = std::move(work), handler = std::move(handler), ex]() mutable {
            std::exception_ptr error;
            try {
              work();
            } catch (...) {
              error = std::current_exception();
            }
            asio::post(ex, [handler = std::move(handler), error]() mutable { handler(error); });
          });
        },
        asio::use_awaitable);
  } else {
    auto result = co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                                void(std::exception_ptr, std::optional<R>)>(
        [this, work = std::move(work)](auto handler) mutable {
          auto ex = asio::get_associated_executor(handler);
          asio::post(workers_, [work = std::move(work), handler = std::move(handler), ex]() mutable {
            std::exception_ptr error;
            std::optional<R> value;
            try {
              value.emplace(work());
            } catch (...) {
              error = std::current_exception();
            }
            asio::post(ex, [handler = std::move(handler), error, value = std::move(value)]() mutable {
              handler(error, std::move(value));
            });
          });
        },
        asio::use_awaitable);
    co_return std::move(*result);
  }
}

}  // namespace unipoints::db
