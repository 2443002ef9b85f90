#include "unipoints/http/server.hpp"

#include <chrono>
#include <list>
#include <mutex>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <pqxx/except>

#include "unipoints/core/error.hpp"
#include "unipoints/http/problem.hpp"

namespace unipoints::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes; nullopt on a broken escape. `plus_is_space` for query strings.
std::optional<std::string> Decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// Decoded path and query text must be UTF-8 without control characters before it goes anywhere.
bool CleanText(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return IsValidUtf8(s);
}

bool SafeRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// The request target as logged: at most 200 characters, and the values of query parameters that
// identify a person (identity number, phone, card number, name) replaced by '*' — the database
// keeps identity numbers only hashed, and the log must not hold them either.
std::string LoggedTarget(std::string_view target) {
  target = target.substr(0, 200);
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q + 1));
  std::string_view rest = target.substr(q + 1);
  for (bool first = true;; first = false) {
    const auto amp = rest.find('&');
    const auto param = rest.substr(0, amp);
    const auto eq = param.find('=');
    const auto name = param.substr(0, eq);
    const bool personal = name == "id_number" || name == "phone" || name == "card_no" || name == "name";
    if (!first) out += '&';
    out += personal && eq != std::string_view::npos ? std::string(name) + "=*" : std::string(param);
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return out;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string id(16, '0');
  auto v = rng();
  for (auto& c : id) {
    c = kHex[v & 15];
    v >>= 4;
  }
  return id;
}

// A streaming route's body, pulled from the connection as the handler asks for it.
class ParserBodyReader : public BodyReader {
 public:
  ParserBodyReader(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                   bhttp::request_parser<bhttp::buffer_body>& parser, std::chrono::milliseconds timeout)
      : stream_(stream), buffer_(buffer), parser_(parser), timeout_(timeout) {}

  asio::awaitable<std::size_t> Read(char* out, std::size_t size) override {
    if (failed_) throw BodyReadError("the body could not be read");
    if (!continued_) {
      continued_ = true;
      // The client waits for this before sending a large body (curl does, for uploads).
      if (beast::iequals(parser_.get()[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> go{bhttp::status::continue_, parser_.get().version()};
        stream_.expires_after(timeout_);
        auto [ec, n] = co_await bhttp::async_write(stream_, go, kTuple);
        if (ec) Fail(ec);
      }
    }
    while (!parser_.is_done()) {
      parser_.get().body().data = out;
      parser_.get().body().size = size;
      stream_.expires_after(timeout_);
      auto [ec, n] = co_await bhttp::async_read_some(stream_, buffer_, parser_, kTuple);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) Fail(ec);
      const auto got = size - parser_.get().body().size;
      if (got > 0) co_return got;
    }
    co_return 0;
  }

  bool failed() const { return failed_; }

 private:
  void Fail(const beast::error_code& ec) {
    failed_ = true;
    throw BodyReadError("reading the body failed: " + ec.message());
  }

  beast::tcp_stream& stream_;
  beast::flat_buffer& buffer_;
  bhttp::request_parser<bhttp::buffer_body>& parser_;
  std::chrono::milliseconds timeout_;
  bool continued_ = false;
  bool failed_ = false;
};

}  // namespace

struct Server::Impl {
  struct SessionSlot {
    tcp::socket* socket = nullptr;
    asio::strand<asio::io_context::executor_type>* strand = nullptr;
    bool busy = false;
  };

  const config::Config& config;
  const Router& router;
  Authenticator authenticate;
  Metrics& metrics;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::signal_set signals{ioc, SIGINT, SIGTERM};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::list<SessionSlot> sessions;
  std::atomic<int> active{0};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;

  Impl(const config::Config& c, const Router& r, Authenticator a, Metrics& m)
      : config(c), router(r), authenticate(std::move(a)), metrics(m) {}

  void Bind() {
    tcp::endpoint ep{asio::ip::make_address(config.listen_host), config.listen_port};
    acceptor.open(ep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(asio::socket_base::max_listen_connections);
    spdlog::info("listening on {}:{}", config.listen_host, acceptor.local_endpoint().port());
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        spdlog::warn("accept failed: {}", ec.message());
        asio::steady_timer t(ioc, 50ms);  // e.g. out of file descriptors: back off
        co_await t.async_wait(kTuple);
        continue;
      }
      if (active.load() >= config.max_connections) {
        metrics.Add("unipoints_http_connections_refused_total", "", 1);
        asio::co_spawn(ioc, RefuseBusy(std::move(socket)), asio::detached);
        continue;
      }
      ++active;
      auto strand = std::make_shared<asio::strand<asio::io_context::executor_type>>(asio::make_strand(ioc));
      asio::co_spawn(*strand, Session(std::move(socket), strand), [this](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            spdlog::error("session ended by exception: {}", ex.what());
          }
        }
        if (--active == 0 && stopping) Finish();
      });
    }
  }

  asio::awaitable<void> RefuseBusy(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    stream.expires_after(1s);
    bhttp::response<bhttp::string_body> res{bhttp::status::service_unavailable, 11};
    res.set(bhttp::field::content_type, "application/problem+json");
    res.set(bhttp::field::retry_after, "1");
    res.keep_alive(false);
    res.body() = ProblemBody(core::ErrorCode::kServiceUnavailable, "Too many open connections").dump();
    res.prepare_payload();
    co_await bhttp::async_write(stream, res, kTuple);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  asio::awaitable<void> Session(tcp::socket socket,
                                std::shared_ptr<asio::strand<asio::io_context::executor_type>> strand) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    std::list<SessionSlot>::iterator slot;
    {
      std::lock_guard lock(mu);
      slot = sessions.insert(sessions.end(), SessionSlot{&stream.socket(), strand.get(), false});
    }
    for (;;) {
      if (stopping) break;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(static_cast<std::uint64_t>(config.max_body_bytes));
      parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
      stream.expires_after(
          std::chrono::milliseconds(buffer.size() > 0 ? config.read_timeout_ms : config.idle_timeout_ms));
      // Header first so an idle keep-alive wait uses the idle timeout and the rest the read timeout.
      auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
      if (!ec && IsStreaming(parser.get())) {
        {
          std::lock_guard lock(mu);
          slot->busy = true;
        }
        if (!co_await Stream(stream, buffer, parser)) break;
        {
          std::lock_guard lock(mu);
          slot->busy = false;
        }
        continue;
      }
      if (!ec && !parser.is_done()) {
        stream.expires_after(std::chrono::milliseconds(config.read_timeout_ms));
        std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      }
      {
        std::lock_guard lock(mu);
        slot->busy = true;
      }
      if (ec) {
        std::optional<Response> early;
        if (ec == bhttp::error::body_limit) {
          early = Problem(core::ErrorCode::kPayloadTooLarge,
                          "The body exceeds " + std::to_string(config.max_body_bytes) + " bytes",
                          {{"body", "larger than max_body_bytes"}});
        } else if (ec == bhttp::error::header_limit) {
          early = Problem(core::ErrorCode::kMalformedRequest, "The request headers are too large");
        } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                   ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
          early = Problem(core::ErrorCode::kMalformedRequest, "Malformed HTTP request: " + ec.message());
        }
        if (early) {
          auto id = NewRequestId();
          early->headers.emplace_back("X-Request-Id", id);
          co_await Write(stream, *early, false, 11);
          spdlog::info("- - {} {} 0.000ms id={}", static_cast<int>(early->status), ec.message(), id);
        }
        break;
      }
      auto req = parser.release();
      const bool keep_alive = req.keep_alive() && !stopping;
      auto started = std::chrono::steady_clock::now();
      std::string route_name = "unmatched";
      std::string request_id;
      Response res = co_await Handle(req, route_name, request_id);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const int status = static_cast<int>(res.status);
      metrics.ObserveRequest(std::string(req.method_string()), route_name, status, seconds);
      spdlog::info("{} {} {} {:.3f}ms id={}", std::string(req.method_string()), LoggedTarget(req.target()),
                   status, seconds * 1000, request_id);
      const bool again = keep_alive && !stopping;
      if (!co_await Write(stream, res, again, req.version(), req.method() == bhttp::verb::head)) break;
      {
        std::lock_guard lock(mu);
        slot->busy = false;
      }
      if (!again) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    std::lock_guard lock(mu);
    sessions.erase(slot);
  }

  bool IsStreaming(const RawRequest& head) const {
    std::string_view target = head.target();
    auto path = Decode(target.substr(0, target.find('?')), false);
    if (!path) return false;
    auto match = router.Find(head.method(), std::string(target.substr(0, target.find('?'))));
    return match.route != nullptr && match.route->streaming;
  }

  // A request to a streaming route: the handler reads the body through a BodyReader. The
  // connection is kept only when the body was read to its end. Returns whether to go on.
  asio::awaitable<bool> Stream(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                               bhttp::request_parser<bhttp::string_body>& header_parser) {
    bhttp::request_parser<bhttp::buffer_body> parser(std::move(header_parser));
    parser.body_limit(boost::none);
    RawRequest head;
    head.base() = parser.get().base();
    ParserBodyReader reader(stream, buffer, parser, std::chrono::milliseconds(config.read_timeout_ms));
    auto started = std::chrono::steady_clock::now();
    std::string route_name = "unmatched";
    std::string request_id;
    Response res = co_await Handle(head, route_name, request_id, &reader);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const int status = static_cast<int>(res.status);
    metrics.ObserveRequest(std::string(head.method_string()), route_name, status, seconds);
    spdlog::info("{} {} {} {:.3f}ms id={}", std::string(head.method_string()), LoggedTarget(head.target()),
                 status, seconds * 1000, request_id);
    if (reader.failed()) co_return false;  // the client is gone or sent a broken body
    const bool again = parser.is_done() && head.keep_alive() && !stopping;
    if (!co_await Write(stream, res, again, head.version(), head.method() == bhttp::verb::head))
      co_return false;
    co_return again;
  }

  // Writes `r`; for a HEAD request only its header (with the Content-Length GET would have).
  asio::awaitable<bool> Write(beast::tcp_stream& stream, const Response& r, bool keep_alive, unsigned version,
                              bool head_only = false) {
    bhttp::response<bhttp::string_body> res{r.status, version};
    res.set(bhttp::field::server, "unipoints");
    if (!r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    res.body() = r.body;
    // No Content-Length on a 204 (RFC 9110 8.6).
    if (r.status != bhttp::status::no_content) res.prepare_payload();
    stream.expires_after(std::chrono::milliseconds(config.write_timeout_ms));
    if (head_only) {
      bhttp::response_serializer<bhttp::string_body> sr{res};
      auto [ec, n] = co_await bhttp::async_write_header(stream, sr, kTuple);
      co_return !ec;
    }
    auto [ec, n] = co_await bhttp::async_write(stream, res, kTuple);
    co_return !ec;
  }

  asio::awaitable<Response> Handle(const RawRequest& raw, std::string& route_name, std::string& request_id,
                                   BodyReader* body = nullptr) {
    auto incoming = raw["X-Request-Id"];
    request_id = SafeRequestId(incoming) ? std::string(incoming) : NewRequestId();
    Response res;
    try {
      res = co_await Dispatch(raw, route_name, request_id, body);
    } catch (const core::DomainError& e) {
      res = Problem(e);
    } catch (const pqxx::broken_connection& e) {
      res = Problem(core::ErrorCode::kServiceUnavailable, "The database is unavailable");
    } catch (const BodyReadError& e) {
      res =
          Problem(core::ErrorCode::kMalformedRequest, std::string("The body could not be read: ") + e.what());
    } catch (const std::exception& e) {
      spdlog::error("request {} failed: {}", request_id, e.what());
      res = Problem(core::ErrorCode::kInternal, "Internal error; quote request id " + request_id);
    }
    res.headers.emplace_back("X-Request-Id", request_id);
    co_return res;
  }

  asio::awaitable<Response> Dispatch(const RawRequest& raw, std::string& route_name,
                                     const std::string& request_id, BodyReader* body) {
    std::string_view target = raw.target();
    auto qpos = target.find('?');
    auto path = Decode(target.substr(0, qpos), false);
    if (!path || path->empty() || path->front() != '/') {
      throw core::DomainError(core::ErrorCode::kMalformedRequest, "The request target is not a valid path");
    }
    if (!CleanText(*path)) {
      throw core::DomainError(core::ErrorCode::kMalformedRequest, "The path is not valid UTF-8 text",
                              {{"path", "must be UTF-8 without control characters"}});
    }
    Request req{raw, std::move(*path), {}, {}, request_id, std::nullopt, body};
    if (qpos != std::string_view::npos) {
      std::string_view q = target.substr(qpos + 1);
      while (!q.empty()) {
        auto amp = q.find('&');
        auto part = q.substr(0, amp);
        auto eq = part.find('=');
        auto key = Decode(part.substr(0, eq), true);
        auto value = Decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1), true);
        if (!key || !value) {
          throw core::DomainError(core::ErrorCode::kMalformedRequest,
                                  "The query string has a broken % escape");
        }
        if (!CleanText(*key) || !CleanText(*value)) {
          const std::string name = CleanText(*key) ? *key : std::string("query");
          throw core::DomainError(core::ErrorCode::kValidationFailed,
                                  "Query parameter is not valid UTF-8 text",
                                  {{name, "must be UTF-8 without control characters"}});
        }
        if (!key->empty()) req.query.emplace(std::move(*key), std::move(*value));
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
      }
    }
    // The router splits the path as sent and decodes each segment (an id may hold an escaped '/').
    auto match = router.Find(raw.method(), std::string(target.substr(0, qpos)));
    if (match.route == nullptr) {
      if (match.method_mismatch) {
        std::string allow;
        for (const auto v : match.allowed)
          allow += (allow.empty() ? "" : ", ") + std::string(bhttp::to_string(v));
        if (raw.method() == bhttp::verb::options) {
          Response res;
          res.status = bhttp::status::no_content;
          res.content_type.clear();
          res.headers.emplace_back("Allow", allow);
          co_return res;
        }
        auto res = Problem(core::DomainError(core::ErrorCode::kMethodNotAllowed,
                                             std::string(raw.method_string()) + " is not allowed on " +
                                                 req.path + " (allowed: " + allow + ")"));
        res.headers.emplace_back("Allow", allow);
        co_return res;
      }
      throw core::DomainError(core::ErrorCode::kNotFound, "No route for " + req.path);
    }
    route_name = match.route->pattern;
    req.params = std::move(match.params);
    if (!match.route->roles.empty()) req.principal = co_await authenticate(req, *match.route);
    co_return co_await match.route->handler(req);
  }

  void BeginStop() {
    if (stopping.exchange(true)) return;
    spdlog::info("stopping: finishing in-flight requests");
    beast::error_code ignored;
    acceptor.close(ignored);
    signals.cancel();
    {
      std::lock_guard lock(mu);
      for (auto& s : sessions) {
        if (s.busy) continue;
        auto* sock = s.socket;
        asio::post(*s.strand, [sock] {
          beast::error_code ec;
          sock->cancel(ec);
        });
      }
    }
    if (active == 0) Finish();
    // Hard deadline for sessions that never finish.
    auto timer =
        std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(config.shutdown_grace_ms));
    timer->async_wait([this, timer](beast::error_code) {
      if (active > 0) spdlog::warn("shutdown grace period over with {} connections open", active.load());
      ioc.stop();
    });
  }

  void Finish() {
    asio::post(ioc, [this] { ioc.stop(); });
  }
};

Server::Server(const config::Config& config, const Router& router, Authenticator authenticate,
               Metrics& metrics)
    : impl_(std::make_unique<Impl>(config, router, std::move(authenticate), metrics)) {}

Server::~Server() = default;

bool Server::stopping() const { return impl_->stopping; }

void Server::Stop() {
  asio::post(impl_->ioc, [this] { impl_->BeginStop(); });
}

void Server::Run() {
  auto& I = *impl_;
  I.Bind();
  I.signals.async_wait([&I](beast::error_code ec, int sig) {
    if (!ec) {
      spdlog::info("signal {} received", sig);
      I.BeginStop();
    }
  });
  asio::co_spawn(I.ioc, I.Accept(), asio::detached);
  std::vector<std::thread> threads;
  for (int i = 1; i < I.config.io_threads; ++i) threads.emplace_back([&I] { I.ioc.run(); });
  I.ioc.run();
  for (auto& t : threads) t.join();
  spdlog::info("stopped");
}

}  // namespace unipoints::http
