#include "unipoints/http/problem.hpp"

#include <nlohmann/json.hpp>

namespace unipoints::http {

nlohmann::json ProblemBody(const core::DomainError& error) {
  return ProblemBody(error.code(), error.detail(), error.errors(), error.extensions());
}

nlohmann::json ProblemBody(core::ErrorCode code, const std::string& detail,
                           const std::vector<core::FieldError>& errors, const nlohmann::json& extensions) {
  const auto& info = core::Describe(code);
  nlohmann::json body = {
      {"type", "https://unipoints.dev/problems/" + std::string(info.name)},
      {"title", std::string(info.title)},
      {"status", info.http_status},
      {"code", std::string(info.name)},
      {"detail", detail},
  };
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : errors) list.push_back({{"field", e.field}, {"message", e.message}});
  body["errors"] = std::move(list);
  if (extensions.is_object()) {
    for (const auto& [k, v] : extensions.items()) {
      if (!body.contains(k)) body[k] = v;
    }
  }
  return body;
}

namespace {

Response ProblemResponse(core::ErrorCode code, nlohmann::json body) {
  const auto& info = core::Describe(code);
  Response r = JsonResponse(static_cast<boost::beast::http::status>(info.http_status), body);
  r.content_type = "application/problem+json";
  if (info.http_status == 503) r.headers.emplace_back("Retry-After", "1");
  if (info.http_status == 429) {
    const auto& wait = body.contains("retry_after") ? body["retry_after"] : nlohmann::json();
    r.headers.emplace_back("Retry-After",
                           wait.is_number_integer() ? std::to_string(wait.get<std::int64_t>()) : "1");
  }
  return r;
}

}  // namespace

Response Problem(core::ErrorCode code, const std::string& detail,
                 const std::vector<core::FieldError>& errors) {
  return ProblemResponse(code, ProblemBody(code, detail, errors));
}

// With the error's extensions (e.g. the shortfall of a refused approval).
Response Problem(const core::DomainError& error) { return ProblemResponse(error.code(), ProblemBody(error)); }

}  // namespace unipoints::http
