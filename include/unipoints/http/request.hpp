#pragma once
// What a route handler receives and returns.

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json_fwd.hpp>

#include "unipoints/tenancy/principal.hpp"

namespace unipoints::http {

using RawRequest = boost::beast::http::request<boost::beast::http::string_body>;

// The body of a streaming route, read as the handler goes (never held whole in memory).
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Up to `size` bytes into `out`; 0 once the body has ended. Throws BodyReadError when the
  // client went away, sent a broken body or was too slow (read_timeout_ms per read).
  virtual boost::asio::awaitable<std::size_t> Read(char* out, std::size_t size) = 0;
};

class BodyReadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Request {
  const RawRequest& raw;
  std::string path;                               // decoded path without the query
  std::multimap<std::string, std::string> query;  // decoded query parameters
  std::map<std::string, std::string> params;      // {name} segments of the matched route
  std::string request_id;
  std::optional<tenancy::Principal> principal;  // set when the route requires a key
  BodyReader* body = nullptr;                   // set for streaming routes (raw has no body then)

  const tenancy::Principal& who() const { return *principal; }
  std::optional<std::string> Query(const std::string& name) const;
  const std::string& Param(const std::string& name) const { return params.at(name); }
  std::string_view Header(std::string_view name) const;
};

struct Response {
  boost::beast::http::status status = boost::beast::http::status::ok;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Serialises JSON as UTF-8 (never throwing on odd bytes) into a response.
Response JsonResponse(boost::beast::http::status status, const nlohmann::json& body);

// Deepest JSON nesting a body may have.
inline constexpr int kMaxJsonDepth = 64;

// Strict UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Parses a JSON body: 415 unless the content type is application/json, 400 for malformed JSON,
// invalid UTF-8 or nesting deeper than kMaxJsonDepth, 400 when the top level is not an object.
nlohmann::json ParseJsonObject(const Request& req);
// The same checks for one JSON text of any kind (400 kMalformedJson naming "body").
nlohmann::json ParseJsonText(std::string_view text);

// A numeric path parameter; 404 when it is not a positive integer.
std::int64_t IdParam(const Request& req, const std::string& name);

// ?after=: the cursor from a previous page's `next` (a positive integer); 400 when malformed.
std::optional<std::int64_t> ListCursor(const Request& req);

// ?limit= within [1, max], default 50.
int ListLimit(const Request& req, int max_limit);
// A positive integer query parameter (an id), or nullopt when absent; a 400 naming `name` otherwise.
std::optional<std::int64_t> IdQuery(const Request& req, const std::string& name, const char* message);

}  // namespace unipoints::http
