#pragma once
// The one registry of error codes. Every refusal the server gives is a DomainError carrying one
// of these codes; http/problem.cpp is the only place that maps a code to a status and a body.

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace unipoints::core {

enum class ErrorCode {
  // 400
  kValidationFailed,
  kMalformedJson,
  kMalformedRequest,
  // 401 / 403 / 404 / 405 / 406
  kUnauthorized,
  kForbidden,
  kNotFound,
  kMethodNotAllowed,
  kNotAcceptable,
  // 409
  kIdempotencyConflict,
  kAlreadyExists,
  kConflict,
  kRunNotFinal,
  kAlreadyAnswered,
  // 413 / 415 / 429
  kPayloadTooLarge,
  kUnsupportedMediaType,
  kRateLimited,
  // 422: business refusals
  kUnknownCard,
  kUnknownMember,
  kCardLost,
  kCardNotActive,
  kMemberInactive,
  kUnknownCategory,
  kNoEarningRules,
  kUnknownPartner,
  kPartnerInactive,
  kInsufficientPoints,
  kUnknownReward,
  kRewardUnavailable,
  kOptionNotOffered,
  kOutOfStock,
  kOutsideSaleWindow,
  kCancelWindowClosed,
  kReversalExceedsAccrual,
  kSourceRequired,
  kSelfApproval,
  kAlreadyCancelled,
  kNotPending,
  kNoSettlementAgreement,
  kPeriodNotEnded,
  kEarlierPeriodOpen,
  kPeriodFinal,
  kNoTierScheme,
  kFeedInProgress,
  kFeedMismatch,
  // 503 / 500
  kServiceUnavailable,
  kInternal,
};

struct ErrorInfo {
  std::string_view name;  // stable machine name, e.g. "card_lost"; the problem "type" ends with it
  int http_status;
  std::string_view title;  // short human summary
};

const ErrorInfo& Describe(ErrorCode code);

struct FieldError {
  std::string field;  // JSON pointer-ish path, e.g. "events[3].amount_minor"
  std::string message;
};

// A refusal with a stable code. Thrown by services and routes, caught once at the HTTP boundary.
class DomainError : public std::runtime_error {
 public:
  DomainError(ErrorCode code, std::string detail, std::vector<FieldError> errors = {},
              nlohmann::json extensions = nullptr)
      : std::runtime_error(detail),
        code_(code),
        detail_(std::move(detail)),
        errors_(std::move(errors)),
        extensions_(std::move(extensions)) {}

  ErrorCode code() const { return code_; }
  const std::string& detail() const { return detail_; }
  const std::vector<FieldError>& errors() const { return errors_; }
  // Extra members of the problem body, e.g. {"shortfall": {"T": 200}}; null when none.
  const nlohmann::json& extensions() const { return extensions_; }

 private:
  ErrorCode code_;
  std::string detail_;
  std::vector<FieldError> errors_;
  nlohmann::json extensions_;
};

// Shorthand for the most common refusal: one bad field.
[[noreturn]] void ThrowField(std::string field, std::string message);

}  // namespace unipoints::core
