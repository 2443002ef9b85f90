#pragma once
// The single mapping from error codes to HTTP status and RFC 9457 problem+json bodies.

#include <vector>

#include "unipoints/core/error.hpp"
#include "unipoints/http/request.hpp"

namespace unipoints::http {

Response Problem(core::ErrorCode code, const std::string& detail,
                 const std::vector<core::FieldError>& errors = {});
Response Problem(const core::DomainError& error);
nlohmann::json ProblemBody(core::ErrorCode code, const std::string& detail,
                           const std::vector<core::FieldError>& errors = {},
                           const nlohmann::json& extensions = nullptr);
nlohmann::json ProblemBody(const core::DomainError& error);

}  // namespace unipoints::http
