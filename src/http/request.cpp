#include "unipoints/http/request.hpp"

#include <boost/beast/http/field.hpp>
#include <nlohmann/json.hpp>

#include "unipoints/core/error.hpp"

namespace unipoints::http {

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

std::optional<std::string> Request::Query(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::string_view Request::Header(std::string_view name) const {
  auto it = raw.find(name);
  if (it == raw.end()) return {};
  return it->value();
}

Response JsonResponse(boost::beast::http::status status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

nlohmann::json ParseJsonText(std::string_view text) {
  nlohmann::json body;
  // Nesting is bounded while parsing: the library's copy, dump and compare recurse per level.
  bool too_deep = false;
  auto limit_depth = [&too_deep](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth) {
      too_deep = true;
      throw std::length_error("too deep");
    }
    return true;
  };
  try {
    body = nlohmann::json::parse(text, limit_depth);
  } catch (const std::length_error&) {
    if (!too_deep) throw;
    throw core::DomainError(core::ErrorCode::kMalformedJson,
                            "The body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels",
                            {{"body", "nested too deeply"}});
  } catch (const nlohmann::json::parse_error& e) {
    std::string msg = e.what();
    throw core::DomainError(core::ErrorCode::kMalformedJson, "The body is not valid UTF-8 JSON: " + msg,
                            {{"body", "invalid JSON at byte " + std::to_string(e.byte)}});
  } catch (const nlohmann::json::out_of_range&) {
    // A number beyond what a double holds (1e400, a 400-digit integer): no field takes one.
    throw core::DomainError(core::ErrorCode::kMalformedJson, "The body holds a number too large to read",
                            {{"body", "number out of range"}});
  }
  return body;
}

nlohmann::json ParseJsonObject(const Request& req) {
  auto ct = req.Header("Content-Type");
  std::string type(ct.substr(0, ct.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (req.raw.body().empty() && ct.empty()) {
    return nlohmann::json::object();  // a POST with an empty body needs no Content-Type
  }
  if (type != "application/json" && type.find("+json") == std::string::npos) {
    throw core::DomainError(core::ErrorCode::kUnsupportedMediaType,
                            "Send the body as application/json, not '" + std::string(ct) + "'",
                            {{"Content-Type", "must be application/json"}});
  }
  const auto encoding = req.Header("Content-Encoding");
  if (!encoding.empty() && encoding != "identity") {
    // Only feeds take a compressed body; read as JSON, gzip bytes would be "malformed JSON".
    throw core::DomainError(
        core::ErrorCode::kUnsupportedMediaType,
        "Send the body uncompressed (no Content-Encoding), not '" + std::string(encoding) + "'",
        {{"Content-Encoding", "must be absent"}});
  }
  auto body = ParseJsonText(req.raw.body());
  if (!body.is_object()) {
    throw core::DomainError(core::ErrorCode::kMalformedJson, "The body must be a JSON object",
                            {{"body", "must be a JSON object"}});
  }
  return body;
}

std::int64_t IdParam(const Request& req, const std::string& name) {
  const auto& s = req.Param(name);
  std::int64_t v = 0;
  bool ok = !s.empty() && s.size() <= 18;
  for (char c : s) {
    if (c < '0' || c > '9')
      ok = false;
    else if (ok)
      v = v * 10 + (c - '0');
  }
  if (!ok || v <= 0)
    throw core::DomainError(core::ErrorCode::kNotFound, "No " + name + " '" + s.substr(0, 40) + "'");
  return v;
}

std::optional<std::int64_t> ListCursor(const Request& req) {
  auto after = req.Query("after");
  if (!after) return std::nullopt;
  std::int64_t v = 0;
  bool ok = !after->empty() && after->size() <= 18;
  for (char c : *after) {
    if (c < '0' || c > '9')
      ok = false;
    else if (ok)
      v = v * 10 + (c - '0');
  }
  if (!ok) core::ThrowField("after", "must be a cursor from a previous page's 'next'");
  return v;
}

std::optional<std::int64_t> IdQuery(const Request& req, const std::string& name, const char* message) {
  auto v = req.Query(name);
  if (!v) return std::nullopt;
  std::int64_t n = 0;
  bool ok = !v->empty() && v->size() <= 18;
  for (char c : *v) {
    if (c < '0' || c > '9')
      ok = false;
    else if (ok)
      n = n * 10 + (c - '0');
  }
  if (!ok || n <= 0) core::ThrowField(name, message);
  return n;
}

int ListLimit(const Request& req, int max_limit) {
  auto v = req.Query("limit");
  if (!v) return 50;
  int n = 0;
  bool ok = !v->empty() && v->size() <= 7;
  for (char c : *v) {
    if (c < '0' || c > '9')
      ok = false;
    else if (ok)
      n = n * 10 + (c - '0');
  }
  if (!ok || n < 1 || n > max_limit) {
    core::ThrowField("limit", "must be an integer from 1 to " + std::to_string(max_limit));
  }
  return n;
}

}  // namespace unipoints::http
