#include "unipoints/http/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace unipoints::http {
namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool IsParam(const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A path segment with its %XX escapes decoded: segments are split before decoding, so an id
// holding '/' is named as %2F. A segment that would decode to a control character is kept as sent
// (the server refuses such paths first; a NUL would cut a value short on its way to the database).
std::string DecodeParam(const std::string& raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    int hi = 0;
    int lo = 0;
    if (raw[i] == '%' && i + 2 < raw.size() && (hi = HexValue(raw[i + 1])) >= 0 &&
        (lo = HexValue(raw[i + 2])) >= 0) {
      const auto byte = static_cast<unsigned char>(hi * 16 + lo);
      if (byte < 0x20 || byte == 0x7f) return raw;
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      out.push_back(raw[i]);
    }
  }
  return out;
}

}  // namespace

void Router::Add(boost::beast::http::verb method, std::string pattern, std::vector<tenancy::Role> roles,
                 std::string summary, Handler handler) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::logic_error("route must start with /: " + pattern);
  auto segments = Split(pattern);
  for (const auto& r : routes_) {
    if (r.method == method && r.pattern == pattern) throw std::logic_error("duplicate route " + pattern);
  }
  routes_.push_back(Route{method, std::move(pattern), std::move(roles), std::move(summary),
                          std::move(handler), std::move(segments)});
}

void Router::AddStreaming(boost::beast::http::verb method, std::string pattern,
                          std::vector<tenancy::Role> roles, std::string summary, Handler handler) {
  Add(method, std::move(pattern), std::move(roles), std::move(summary), std::move(handler));
  routes_.back().streaming = true;
}

Match Router::Find(boost::beast::http::verb method, const std::string& path) const {
  Match result;
  if (path.empty() || path.front() != '/') return result;
  auto parts = Split(path);
  for (auto& part : parts) part = DecodeParam(part);
  using boost::beast::http::verb;
  const verb wanted = method == verb::head ? verb::get : method;
  auto allow = [&result](verb v) {
    if (std::find(result.allowed.begin(), result.allowed.end(), v) == result.allowed.end()) {
      result.allowed.push_back(v);
    }
  };
  for (const auto& r : routes_) {
    if (r.segments.size() != parts.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      if (IsParam(r.segments[i])) {
        if (parts[i].empty())
          ok = false;
        else
          params[r.segments[i].substr(1, r.segments[i].size() - 2)] = parts[i];
      } else {
        ok = r.segments[i] == parts[i];
      }
    }
    if (!ok) continue;
    allow(r.method);
    if (r.method == verb::get) allow(verb::head);
    if (r.method != wanted) {
      result.method_mismatch = true;
      continue;
    }
    // Prefer literal matches over parameter matches when both fit (e.g. /v1/accruals/batch).
    if (result.route != nullptr) {
      int lit_old = 0, lit_new = 0;
      for (const auto& s : result.route->segments) lit_old += IsParam(s) ? 0 : 1;
      for (const auto& s : r.segments) lit_new += IsParam(s) ? 0 : 1;
      if (lit_new <= lit_old) continue;
    }
    result.route = &r;
    result.params = std::move(params);
  }
  if (!result.allowed.empty()) allow(verb::options);  // answered for every path that exists
  if (result.route != nullptr) result.method_mismatch = false;
  return result;
}

}  // namespace unipoints::http
