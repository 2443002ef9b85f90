#pragma once
// The HTTP listener: one coroutine per connection, keep-alive, per-request read and write timeouts,
// a maximum body size, a bounded number of connections, and graceful stop on SIGINT/SIGTERM.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/awaitable.hpp>

#include "unipoints/config/config.hpp"
#include "unipoints/http/metrics.hpp"
#include "unipoints/http/router.hpp"

namespace unipoints::http {

// Resolves the bearer key of a request to a principal allowed on the route, or throws a
// DomainError (401/403).
using Authenticator = std::function<boost::asio::awaitable<tenancy::Principal>(const Request&, const Route&)>;

class Server {
 public:
  Server(const config::Config& config, const Router& router, Authenticator authenticate, Metrics& metrics);
  ~Server();

  // Binds, serves on config.io_threads threads and returns once stopped by a signal (or Stop()),
  // after in-flight requests have been answered.
  void Run();
  void Stop();
  bool stopping() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace unipoints::http
