#include "unipoints/http/router.hpp"

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
  const auto parts = Split(path);
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
    if (r.method != method) {
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
  if (result.route != nullptr) result.method_mismatch = false;
  return result;
}

}  // namespace unipoints::http
