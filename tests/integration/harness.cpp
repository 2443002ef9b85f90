#include "harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <pqxx/pqxx>

extern char** environ;

namespace unipoints::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;

std::string& SkipReasonStorage() {
  static std::string reason;
  return reason;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::mt19937_64& Rng() {
  static std::mt19937_64 rng{
      std::random_device{}() ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  return rng;
}
std::mutex rng_mu;

std::filesystem::path ExeDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::filesystem::current_path();
  return exe.parent_path();
}

// The environment of this process without any UNIPOINTS_* variable, then `extra` (later wins).
std::vector<std::string> BuildEnv(const Env& extra) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name(entry.substr(0, eq));
    if (name.rfind("UNIPOINTS_", 0) == 0) continue;
    vars[name] = std::string(entry.substr(eq + 1));
  }
  for (const auto& [k, v] : extra) vars[k] = v;
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  }
  return "status " + std::to_string(status);
}

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("bind: " + std::string(std::strerror(errno)));
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::atomic<int> database_counter{0};
std::atomic<int> unique_counter{0};

}  // namespace

const std::string& SkipReason() { return SkipReasonStorage(); }
void SetSkipReason(std::string reason) { SkipReasonStorage() = std::move(reason); }

// ------------------------------------------------------------------ Response

std::string Response::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

bool Response::HasHeader(std::string_view name) const { return headers.count(Lower(name)) > 0; }

std::ostream& operator<<(std::ostream& os, const Response& r) {
  os << "HTTP " << r.status << " [" << r.ContentType() << "]";
  if (r.HasHeader("x-request-id")) os << " request-id=" << r.Header("x-request-id");
  constexpr std::size_t kMax = 1500;
  os << " body(" << r.body.size() << " bytes): " << r.body.substr(0, kMax);
  if (r.body.size() > kMax) os << "...";
  return os;
}

::testing::AssertionResult IsProblem(const Response& r, int status, std::string_view code,
                                     std::string_view field) {
  auto fail = [&r](const std::string& why) { return ::testing::AssertionFailure() << why << "; got " << r; };
  if (r.status != status) return fail("expected status " + std::to_string(status));
  if (r.ContentType().rfind("application/problem+json", 0) != 0)
    return fail("expected application/problem+json");
  const auto& j = r.json;
  if (!j.is_object()) return fail("problem body is not a JSON object");
  for (const char* member : {"type", "title", "detail"}) {
    if (!j.contains(member) || !j[member].is_string())
      return fail(std::string("problem lacks string '") + member + "'");
  }
  if (!j.contains("status") || !j["status"].is_number_integer() || j["status"].get<int>() != status) {
    return fail("problem 'status' must be the HTTP status");
  }
  if (!j.contains("errors") || !j["errors"].is_array()) return fail("problem lacks an 'errors' array");
  for (const auto& e : j["errors"]) {
    if (!e.is_object() || !e.contains("field") || !e["field"].is_string() || !e.contains("message") ||
        !e["message"].is_string()) {
      return fail("every errors[] item needs string 'field' and 'message'");
    }
  }
  if (!code.empty()) {
    if (!j.contains("code") || !j["code"].is_string() || j["code"].get<std::string>() != code) {
      return fail("expected code '" + std::string(code) + "'");
    }
  }
  if (!field.empty()) {
    bool found = false;
    for (const auto& e : j["errors"]) found = found || e["field"].get<std::string>() == field;
    if (!found) return fail("expected an errors[] item with field '" + std::string(field) + "'");
  }
  return ::testing::AssertionSuccess();
}

// ------------------------------------------------------------------ HttpClient

CallOptions RawBody(std::string body, std::optional<std::string> content_type) {
  CallOptions o;
  o.raw_body = std::move(body);
  o.content_type = content_type ? std::move(*content_type) : std::string();
  return o;
}

CallOptions WithHeader(std::string name, std::string value) {
  CallOptions o;
  o.headers.emplace_back(std::move(name), std::move(value));
  return o;
}

struct HttpClient::Impl {
  std::string host;
  std::uint16_t port;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  int connects = 0;

  void Run() {
    ioc.restart();
    ioc.run();
  }

  void Close() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->socket().close(ignored);
      stream.reset();
    }
    buffer.clear();
  }

  void Connect(std::chrono::milliseconds timeout) {
    Close();
    stream.emplace(ioc);
    beast::error_code ec;
    stream->expires_after(timeout);
    stream->async_connect(tcp::endpoint(asio::ip::make_address(host), port),
                          [&ec](beast::error_code e) { ec = e; });
    Run();
    if (ec) {
      stream.reset();
      throw std::runtime_error("connect to " + host + ":" + std::to_string(port) + ": " + ec.message());
    }
    stream->socket().set_option(tcp::no_delay(true));
    ++connects;
  }

  // True when the server has closed (or sent something unasked on) the idle connection.
  bool Stale() {
    if (!stream) return true;
    pollfd p{};
    p.fd = stream->socket().native_handle();
    p.events = POLLIN | POLLRDHUP;
    return ::poll(&p, 1, 0) != 0;
  }

  struct Exchange {
    beast::error_code write_ec;
    beast::error_code read_ec;
    bool read_done = false;
    Response response;
    bool keep_alive = false;
  };

  // Writes the request and reads the answer concurrently, so that an early answer (413 after the
  // header) is read even when the server stops reading the body.
  Exchange Send(bhttp::request<bhttp::string_body>& req, std::chrono::milliseconds timeout) {
    Exchange x;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::uint64_t{1} << 32);
    parser.header_limit(1 << 20);
    if (req.method() == bhttp::verb::head) parser.skip(true);  // a HEAD answer has no body
    bool wrote = false;
    bool read = false;
    stream->expires_after(timeout);
    bhttp::async_write(*stream, req, [&](beast::error_code ec, std::size_t) {
      x.write_ec = ec;
      wrote = true;
    });
    bhttp::async_read(*stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
      x.read_ec = ec;
      read = true;
      if (!wrote) {
        beast::error_code ignored;
        stream->socket().cancel(ignored);
      }
    });
    Run();
    stream->expires_never();
    x.read_done = read && !x.read_ec;
    if (x.read_done) {
      auto& res = parser.get();
      x.response.status = res.result_int();
      for (const auto& field : res) {
        auto name = Lower(std::string(field.name_string()));
        auto& slot = x.response.headers[name];
        slot = slot.empty() ? std::string(field.value()) : slot + ", " + std::string(field.value());
      }
      x.response.body = res.body();
      const auto type = Lower(x.response.ContentType());
      if (type.find("json") != std::string::npos) {
        x.response.json = nlohmann::json::parse(x.response.body, nullptr, false);
        if (x.response.json.is_discarded()) x.response.json = nullptr;
      }
      x.keep_alive = res.keep_alive() && !x.write_ec;
    }
    return x;
  }
};

HttpClient::HttpClient(std::string host, std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}

HttpClient::~HttpClient() { impl_->Close(); }

int HttpClient::connects() const { return impl_->connects; }

void HttpClient::Close() { impl_->Close(); }

Response HttpClient::Call(std::string_view method, std::string_view target, const std::optional<json>& body,
                          const std::string& key, const CallOptions& options) {
  auto& I = *impl_;
  const auto verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) throw std::invalid_argument("unknown HTTP method " + std::string(method));
  bhttp::request<bhttp::string_body> req{verb, std::string(target), 11};
  req.set(bhttp::field::host, I.host + ":" + std::to_string(I.port));
  req.set(bhttp::field::user_agent, "unipoints-integration-tests");
  req.set(bhttp::field::accept, "application/json");
  if (!key.empty()) req.set(bhttp::field::authorization, "Bearer " + key);
  if (options.raw_body) {
    req.body() = *options.raw_body;
  } else if (body) {
    req.body() = body->dump();
    req.set(bhttp::field::content_type, "application/json; charset=utf-8");
  }
  if (options.content_type) {
    if (options.content_type->empty()) {
      req.erase(bhttp::field::content_type);
    } else {
      req.set(bhttp::field::content_type, *options.content_type);
    }
  }
  for (const auto& [name, value] : options.headers) req.set(name, value);
  for (const auto& [name, value] : options.repeated_headers) req.insert(name, value);
  req.keep_alive(true);
  req.prepare_payload();

  bool reused = I.stream.has_value();
  if (reused && I.Stale()) {
    I.Close();
    reused = false;
  }
  if (!I.stream) I.Connect(std::min<std::chrono::milliseconds>(options.timeout, 10s));
  auto x = I.Send(req, options.timeout);
  if (!x.read_done && reused && verb == bhttp::verb::get) {
    // The server closed the kept-alive connection under us: a GET is safe to send again, once.
    I.Connect(std::min<std::chrono::milliseconds>(options.timeout, 10s));
    x = I.Send(req, options.timeout);
  }
  if (!x.read_done) {
    I.Close();
    throw std::runtime_error(std::string(method) + " " + std::string(target).substr(0, 200) +
                             ": no response (read: " + x.read_ec.message() +
                             ", write: " + x.write_ec.message() + ")");
  }
  if (!x.keep_alive) I.Close();
  return std::move(x.response);
}

// ------------------------------------------------------------------ processes

CliResult RunProcess(const std::vector<std::string>& argv_in, const Env& env,
                     std::chrono::milliseconds timeout) {
  CliResult result;
  std::vector<std::string> argv_strings = argv_in;
  std::vector<std::string> env_strings = BuildEnv(env);
  auto argv = CStrings(argv_strings);
  auto envp = CStrings(env_strings);
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  bool killed = false;
  char buf[65536];
  while (open_fds > 0) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(std::min<std::int64_t>(left.count(), 200)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = DecodeWaitStatus(status);
  if (killed) result.err += "\n[harness: killed after " + std::to_string(timeout.count()) + " ms]";
  return result;
}

// ------------------------------------------------------------------ database URLs

std::string AdminDatabaseUrl() {
  const char* v = std::getenv("UNIPOINTS_DATABASE_URL");
  return v == nullptr ? std::string() : std::string(v);
}

std::string WithDatabase(const std::string& url, const std::string& database) {
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (url.rfind(scheme, 0) != 0) continue;
    const auto rest_at = scheme.size();
    const auto query_at = url.find('?', rest_at);
    const auto slash_at = url.find('/', rest_at);
    const std::string query = query_at == std::string::npos ? std::string() : url.substr(query_at);
    const auto authority_end = std::min(slash_at, query_at == std::string::npos ? url.size() : query_at);
    return url.substr(0, authority_end) + "/" + database + query;
  }
  // key=value form: a later keyword wins.
  return url + " dbname=" + database;
}

// ------------------------------------------------------------------ TestServer

TestServer::TestServer(ServerOptions options) : options_(std::move(options)) {}

TestServer::~TestServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  if (database_created_ && std::getenv("UNIPOINTS_IT_KEEP_DB") == nullptr) {
    try {
      pqxx::connection c(AdminDatabaseUrl());
      pqxx::nontransaction w(c);
      w.exec("DROP DATABASE IF EXISTS " + w.quote_name(database_name_) + " WITH (FORCE)");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "harness: could not drop database %s: %s\n", database_name_.c_str(), e.what());
    }
  }
}

Env TestServer::ServerEnv() const {
  Env env = {{"UNIPOINTS_DATABASE_URL", database_url_},
             {"UNIPOINTS_LISTEN", host_ + ":" + std::to_string(port_)},
             {"UNIPOINTS_PLATFORM_KEY", platform_key_},
             {"UNIPOINTS_IDENTITY_HASH_KEY", identity_hash_key_},
             {"UNIPOINTS_LOG_LEVEL", "warn"}};
  for (const auto& kv : options_.extra_env) env.push_back(kv);
  return env;
}

std::string TestServer::LogTail(std::size_t lines) const {
  std::ifstream in(log_path_);
  if (!in) return "(no server log at " + log_path_ + ")";
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out = "--- last lines of " + log_path_ + " ---\n";
  for (const auto& l : tail) out += l + "\n";
  return out;
}

std::uintmax_t TestServer::LogSize() const {
  std::error_code ec;
  auto size = std::filesystem::file_size(log_path_, ec);
  return ec ? 0 : size;
}

std::string TestServer::LogSince(std::uintmax_t offset, std::size_t lines) const {
  std::ifstream in(log_path_);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& l : tail) out += l + "\n";
  return out;
}

bool TestServer::Exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    how_ended_ = DescribeWaitStatus(status);
    return true;
  }
  return false;
}

std::string TestServer::Start() {
  const auto admin = AdminDatabaseUrl();
  if (admin.empty()) return "UNIPOINTS_DATABASE_URL is not set";
  if (::access(UNIPOINTS_BINARY, X_OK) != 0)
    return std::string("server binary not found: ") + UNIPOINTS_BINARY;
  if (options_.share_database_of != nullptr && database_name_.empty()) {
    const auto& owner = *options_.share_database_of;
    database_name_ = owner.database_name_;
    database_url_ = owner.database_url_;
    platform_key_ = owner.platform_key_;
    identity_hash_key_ = owner.identity_hash_key_;
    log_path_ = owner.log_path_ + ".second";
  }
  if (!database_created_ && database_name_.empty()) {
    database_name_ = "unipoints_it_" + std::to_string(::getpid()) + "_" + std::to_string(++database_counter);
    try {
      pqxx::connection c(admin);
      pqxx::nontransaction w(c);
      w.exec("DROP DATABASE IF EXISTS " + w.quote_name(database_name_) + " WITH (FORCE)");
      w.exec("CREATE DATABASE " + w.quote_name(database_name_));
    } catch (const std::exception& e) {
      return "cannot create database " + database_name_ + " on UNIPOINTS_DATABASE_URL: " + e.what();
    }
    database_created_ = true;
    database_url_ = WithDatabase(admin, database_name_);
    platform_key_ = RandomAlnum(32);
    identity_hash_key_ = RandomHex(64);
    auto dir = ExeDir() / "integration-logs";
    std::filesystem::create_directories(dir);
    log_path_ = (dir / (database_name_ + ".log")).string();
  }

  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = FreePort();
    std::vector<std::string> argv_strings = {UNIPOINTS_BINARY, "serve"};
    std::vector<std::string> env_strings = BuildEnv(ServerEnv());
    auto argv = CStrings(argv_strings);
    auto envp = CStrings(env_strings);
    const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) return "cannot open " + log_path_ + ": " + std::strerror(errno);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(log_fd);
      return std::string("fork: ") + std::strerror(errno);
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(126);
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
      int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(log_fd);
    pid_ = pid;

    const auto deadline = std::chrono::steady_clock::now() + 20s;
    bool ready = false;
    bool died = false;
    int last_status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Exited()) {
        died = true;
        break;
      }
      try {
        HttpClient probe(host_, port_);
        CallOptions o;
        o.timeout = 2s;
        auto r = probe.Call("GET", "/readyz", std::nullopt, {}, o);
        last_status = r.status;
        if (r.status == 200) {
          ready = true;
          break;
        }
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(50ms);
    }
    if (ready) return {};
    if (died) {
      const auto tail = LogTail(40);
      last_error = "server exited during start-up (" + how_ended_ + ")\n" + tail;
      if (tail.find("in use") != std::string::npos) continue;  // lost the port race: try another
      return last_error;
    }
    Stop(5s);
    return "server not ready within 20 s (last /readyz status " + std::to_string(last_status) + ")\n" +
           LogTail(40);
  }
  return last_error;
}

void TestServer::Signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

int TestServer::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t got = ::waitpid(pid_, &status, WNOHANG);
    if (got == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(10ms);
  }
  pid_ = -1;
  how_ended_ = DescribeWaitStatus(status);
  return DecodeWaitStatus(status);
}

int TestServer::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t got = ::waitpid(pid_, &status, WNOHANG);
    if (got == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  pid_ = -1;
  how_ended_ = DescribeWaitStatus(status);
  return DecodeWaitStatus(status);
}

CliResult TestServer::RunCli(const std::vector<std::string>& args, const Env& env,
                             std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {UNIPOINTS_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  Env full = {{"UNIPOINTS_DATABASE_URL", database_url_},
              {"UNIPOINTS_IDENTITY_HASH_KEY", identity_hash_key_},
              {"UNIPOINTS_LOG_LEVEL", "warn"}};
  for (const auto& kv : env) full.push_back(kv);
  return RunProcess(argv, full, timeout);
}

std::vector<std::vector<std::optional<std::string>>> TestServer::Sql(
    const std::string& sql, const std::vector<std::string>& params) const {
  pqxx::connection c(database_url_);
  pqxx::nontransaction w(c);
  auto r = w.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
  std::vector<std::vector<std::optional<std::string>>> out;
  for (const auto& row : r) {
    std::vector<std::optional<std::string>> values;
    for (const auto& f : row) {
      values.push_back(f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str()));
    }
    out.push_back(std::move(values));
  }
  return out;
}

// ------------------------------------------------------------------ helpers

std::string RandomAlnum(std::size_t n) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::lock_guard lock(rng_mu);
  std::uniform_int_distribution<std::size_t> pick(0, sizeof kChars - 2);
  std::string out(n, 'x');
  for (auto& c : out) c = kChars[pick(Rng())];
  return out;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string RandomHex(std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::lock_guard lock(rng_mu);
  std::uniform_int_distribution<int> pick(0, 15);
  std::string out(n, '0');
  for (auto& c : out) c = kHex[pick(Rng())];
  return out;
}

bool LuhnValid(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (*it < '0' || *it > '9') return false;
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

std::string UnissuedCardNumber() {
  std::string body = "99";
  {
    std::lock_guard lock(rng_mu);
    std::uniform_int_distribution<int> digit(0, 9);
    while (body.size() < 15) body += static_cast<char>('0' + digit(Rng()));
  }
  for (char check = '0'; check <= '9'; ++check) {
    if (LuhnValid(body + check)) return body + check;
  }
  throw std::logic_error("no Luhn digit");
}

std::optional<std::int64_t> ParseInstant(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  auto num = [&t](std::size_t at, std::size_t len) -> std::optional<int> {
    if (at + len > t.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') || t[13] != ':' ||
      t[16] != ':') {
    return std::nullopt;
  }
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), s = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  std::size_t i = 19;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  }
  if (i >= t.size()) return std::nullopt;
  int offset = 0;
  if (t[i] == 'Z' || t[i] == 'z') {
    if (i + 1 != t.size()) return std::nullopt;
  } else if (t[i] == '+' || t[i] == '-') {
    auto oh = num(i + 1, 2), om = num(i + 4, 2);
    if (!oh || !om || t.size() != i + 6 || t[i + 3] != ':') return std::nullopt;
    offset = (*oh * 60 + *om) * 60 * (t[i] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = *y - 1900;
  tm.tm_mon = *mo - 1;
  tm.tm_mday = *d;
  tm.tm_hour = *h;
  tm.tm_min = *mi;
  tm.tm_sec = *s;
  return static_cast<std::int64_t>(::timegm(&tm)) - offset;
}

std::string FormatUtc(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json DemoTelecomRules() {
  return {
      {"effective_from", "2020-01-01T00:00:00+08:00"},
      {"rules",
       {{{"category", "data"}, {"points_per_unit", 2}, {"unit_minor", 100}, {"point_type", "consumption"}},
        {{"category", "voice"}, {"points_per_unit", 1}, {"unit_minor", 100}, {"point_type", "consumption"}}}},
      {"promotions", json::array()}};
}

json DemoRetailRules() {
  return {{"effective_from", "2020-01-01T00:00:00+08:00"},
          {"rules", {{{"category", "retail"}, {"points_per_unit", 1}, {"unit_minor", 100}}}},
          {"promotions", json::array()}};
}

// ------------------------------------------------------------------ IntegrationTest

std::unique_ptr<TestServer> IntegrationTest::server_;
std::string IntegrationTest::setup_error_;
ServerOptions IntegrationTest::suite_options_;

void IntegrationTest::SetUpTestSuite() { StartSuite({}); }

void IntegrationTest::StartSuite(ServerOptions options) {
  suite_options_ = std::move(options);
  setup_error_.clear();
  if (!SkipReason().empty()) return;
  server_ = std::make_unique<TestServer>(suite_options_);
  setup_error_ = server_->Start();
  if (!setup_error_.empty()) ADD_FAILURE() << "could not start the server: " << setup_error_;
}

void IntegrationTest::TearDownTestSuite() {
  if (!server_) return;
  if (server_->running()) {
    const int code = server_->Stop();
    EXPECT_EQ(code, 0) << "the server did not stop gracefully on SIGTERM\n" << server_->LogTail();
  }
  server_.reset();
}

void IntegrationTest::SetUp() {
  if (!SkipReason().empty()) GTEST_SKIP() << SkipReason();
  ASSERT_TRUE(server_ != nullptr && setup_error_.empty()) << "no server: " << setup_error_;
  if (!server_->running() || server_->Exited()) {
    // An earlier test stopped the server on purpose, or it died during that test (which failed for
    // it): this test gets a fresh server and database.
    std::fprintf(stderr, "[ harness  ] starting a fresh server (the last one ended: %s)\n",
                 server_->how_ended().c_str());
    server_ = std::make_unique<TestServer>(suite_options_);
    setup_error_ = server_->Start();
    ASSERT_TRUE(setup_error_.empty()) << "could not restart the server: " << setup_error_;
  }
  log_offset_ = server_->LogSize();
}

void IntegrationTest::TearDown() {
  if (!SkipReason().empty() || !server_ || !setup_error_.empty()) return;
  if (HasFailure()) {
    const auto logged = server_->LogSince(log_offset_);
    if (!logged.empty()) {
      std::fprintf(stderr, "[ harness  ] the server logged during this test (%s):\n%s",
                   server_->log_path().c_str(), logged.c_str());
    }
  }
  if (server_->how_ended().empty() && HasFailure()) {
    // A crash takes a moment to reap: give it one before blaming a later test.
    for (int i = 0; i < 50 && !server_->Exited(); ++i) std::this_thread::sleep_for(10ms);
  }
  if (server_->how_ended().empty() && server_->Exited()) {
    ADD_FAILURE() << "the server died during this test (" << server_->how_ended() << ")\n"
                  << server_->LogTail();
  }
}

HttpClient& IntegrationTest::http() {
  if (!client_) client_ = NewClient();
  return *client_;
}

std::unique_ptr<HttpClient> IntegrationTest::NewClient() const {
  return std::make_unique<HttpClient>(server_->host(), server_->port());
}

std::string IntegrationTest::Unique(std::string_view prefix) {
  return std::string(prefix) + std::to_string(::getpid() % 100000) + "x" + std::to_string(++unique_counter);
}

std::string IntegrationTest::NewIdNumber() {
  std::string id = "110101";
  std::lock_guard lock(rng_mu);
  std::uniform_int_distribution<int> digit(0, 9);
  while (id.size() < 17) id += static_cast<char>('0' + digit(Rng()));
  return id + "X";
}

namespace {
[[noreturn]] void Unexpected(const std::string& what, const Response& r) {
  std::ostringstream os;
  os << what << ": unexpected answer " << r;
  throw std::runtime_error(os.str());
}
}  // namespace

Tenant IntegrationTest::CreateTenant(std::string_view name) {
  const json body = {{"code", Unique("TEN")},
                     {"name", std::string(name)},
                     {"currency", "CNY"},
                     {"time_zone", "Asia/Shanghai"}};
  auto r = http().Post("/v1/tenants", body, server_->platform_key());
  if (r.status != 201 || !r.json.is_object() || !r.json.contains("tenant") || !r.json.contains("admin_key")) {
    Unexpected("POST /v1/tenants", r);
  }
  return Tenant{r.json["tenant"], r.json["admin_key"].get<std::string>()};
}

json IntegrationTest::CreatePartner(const std::string& admin, const std::string& code,
                                    const std::string& name, const std::string& kind) {
  auto r = http().Post("/v1/partners", {{"code", code}, {"name", name}, {"kind", kind}}, admin);
  if (r.status != 201 || !r.json.is_object()) Unexpected("POST /v1/partners " + code, r);
  return r.json;
}

std::string IntegrationTest::CreateKey(const std::string& admin, const std::string& role,
                                       const std::string& partner) {
  json body = {{"role", role}, {"label", "it " + role}};
  if (!partner.empty()) body["partner"] = partner;
  auto r = http().Post("/v1/keys", body, admin);
  if (r.status != 201 || !r.json.is_object() || !r.json.contains("key") || !r.json["key"].is_string()) {
    Unexpected("POST /v1/keys " + role, r);
  }
  return r.json["key"].get<std::string>();
}

json IntegrationTest::PutRules(const std::string& admin, const std::string& partner, const json& body) {
  auto r = http().Put("/v1/partners/" + partner + "/earning-rules", body, admin);
  if ((r.status != 200 && r.status != 201) || !r.json.is_object())
    Unexpected("PUT earning-rules " + partner, r);
  return r.json;
}

Enrolled IntegrationTest::Enrol(const std::string& key, const std::string& name, const std::string& id_number,
                                const std::string& phone) {
  json body = {{"name", name},
               {"gender", "female"},
               {"id_type", "resident_id"},
               {"id_number", id_number.empty() ? NewIdNumber() : id_number}};
  body["phone"] = phone.empty() ? "138" + std::to_string(10000000 + (++unique_counter % 89999999)) : phone;
  auto r = http().Post("/v1/members", body, key);
  if (r.status != 201 || !r.json.is_object() || !r.json.contains("member_id") ||
      !r.json.contains("card_no") || !r.json["member_id"].is_number_integer() ||
      !r.json["card_no"].is_string()) {
    Unexpected("POST /v1/members", r);
  }
  return Enrolled{r.json["member_id"].get<std::int64_t>(), r.json["card_no"].get<std::string>()};
}

Alliance IntegrationTest::CreateAlliance(bool with_agreements) {
  Alliance a;
  a.tenant = CreateTenant("电信零售联盟");
  a.admin = a.tenant.admin_key;
  CreatePartner(a.admin, "T", "省电信", "telecom");
  CreatePartner(a.admin, "R", "区域连锁超市", "retail");
  PutRules(a.admin, "T", DemoTelecomRules());
  PutRules(a.admin, "R", DemoRetailRules());
  if (with_agreements) {
    // Cross-redemptions need an agreement in force: T's points honoured by R, and the reverse.
    for (const auto& [payer, payee, price] :
         {std::tuple{"T", "R", "0.010000"}, std::tuple{"R", "T", "0.008000"}}) {
      auto r = http().Put("/v1/settlement-agreements",
                          {{"payer", payer},
                           {"payee", payee},
                           {"price_per_point", price},
                           {"cycle", "monthly"},
                           {"effective_from", "2020-01-01T00:00:00+08:00"}},
                          a.admin);
      if (r.status != 201) Unexpected("PUT /v1/settlement-agreements", r);
    }
  }
  a.agent = CreateKey(a.admin, "agent");
  a.finance = CreateKey(a.admin, "finance");
  a.t_key = CreateKey(a.admin, "partner", "T");
  a.r_key = CreateKey(a.admin, "partner", "R");
  return a;
}

json IntegrationTest::Balance(const std::string& key, std::int64_t member_id) {
  auto r = http().Get("/v1/members/" + std::to_string(member_id) + "/balance", key);
  if (r.status != 200 || !r.json.is_object()) Unexpected("GET balance", r);
  return r.json;
}

std::vector<json> IntegrationTest::Ledger(const std::string& key, std::int64_t member_id, int limit) {
  std::vector<json> out;
  std::string after;
  for (int page = 0; page < 10000; ++page) {
    std::string target =
        "/v1/members/" + std::to_string(member_id) + "/ledger?limit=" + std::to_string(limit);
    if (!after.empty()) target += "&after=" + UrlEncode(after);
    auto r = http().Get(target, key);
    if (r.status != 200 || !r.json.is_object() || !r.json.contains("items") || !r.json["items"].is_array()) {
      Unexpected("GET " + target, r);
    }
    for (const auto& item : r.json["items"]) out.push_back(item);
    const auto& next = r.json.value("next", json());
    if (next.is_null()) return out;
    after = next.is_string() ? next.get<std::string>() : next.dump();
  }
  throw std::runtime_error("ledger pagination did not end");
}

json IntegrationTest::AmountEvent(const std::string& event_id, const std::string& card_no,
                                  const std::string& category, std::int64_t amount_minor,
                                  const std::string& occurred_at) {
  return {{"event_id", event_id},
          {"card_no", card_no},
          {"category", category},
          {"amount_minor", amount_minor},
          {"occurred_at", occurred_at}};
}

void IntegrationTest::PoisonAccruals() {
  server().Sql(
      "CREATE OR REPLACE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$"
      " BEGIN IF NEW.event_id LIKE '%-poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$");
  server().Sql(
      "CREATE TRIGGER test_poison BEFORE INSERT ON accruals FOR EACH ROW EXECUTE FUNCTION test_poison()");
}

void IntegrationTest::CurePoison() { server().Sql("DROP TRIGGER test_poison ON accruals"); }

}  // namespace unipoints::testing
