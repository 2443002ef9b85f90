#pragma once
// Maps method + path to a handler. Patterns are literal segments and {name} parameters.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include "unipoints/http/request.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

struct Route {
  boost::beast::http::verb method;
  std::string pattern;               // e.g. "/v1/members/{id}/balance"
  std::vector<tenancy::Role> roles;  // empty: no key needed
  std::string summary;               // for /openapi.json
  Handler handler;
  std::vector<std::string> segments;  // pattern split on '/'
  bool streaming = false;             // reads its body itself (Request::body), without a size limit
};

struct Match {
  const Route* route = nullptr;  // null: see method_mismatch
  bool method_mismatch = false;  // the path exists with another method (405)
  std::map<std::string, std::string> params;
  std::vector<boost::beast::http::verb> allowed;  // the methods the path has (HEAD where GET is)
};

class Router {
 public:
  void Add(boost::beast::http::verb method, std::string pattern, std::vector<tenancy::Role> roles,
           std::string summary, Handler handler);
  // A route whose handler reads the body as it arrives (feeds): no max_body_bytes.
  void AddStreaming(boost::beast::http::verb method, std::string pattern, std::vector<tenancy::Role> roles,
                    std::string summary, Handler handler);
  // `path` as sent (percent-encoded): split on '/', then each segment decoded. HEAD finds GET's route.
  Match Find(boost::beast::http::verb method, const std::string& path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace unipoints::http
