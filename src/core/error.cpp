#include "unipoints/core/error.hpp"

namespace unipoints::core {

const ErrorInfo& Describe(ErrorCode code) {
  static const ErrorInfo kValidation{"validation_failed", 400, "The request has invalid fields"};
  static const ErrorInfo kMalformedJson{"malformed_json", 400, "The body is not valid JSON"};
  static const ErrorInfo kMalformed{"malformed_request", 400, "The request is malformed"};
  static const ErrorInfo kUnauthorized{"unauthorized", 401, "No valid API key"};
  static const ErrorInfo kForbidden{"forbidden", 403, "This key may not do that"};
  static const ErrorInfo kNotFound{"not_found", 404, "Not found"};
  static const ErrorInfo kMethod{"method_not_allowed", 405, "Method not allowed"};
  static const ErrorInfo kNotAcceptable{"not_acceptable", 406, "None of the accepted media types is offered"};
  static const ErrorInfo kIdem{"idempotency_conflict", 409, "The id was already used with a different body"};
  static const ErrorInfo kExists{"already_exists", 409, "It already exists"};
  static const ErrorInfo kConflict{"conflict", 409, "Conflict"};
  static const ErrorInfo kRunNotFinal{"run_not_final", 409, "The settlement run is not final"};
  static const ErrorInfo kAlreadyAnswered{"already_answered", 409,
                                          "The statement was already answered otherwise"};
  static const ErrorInfo kTooLarge{"payload_too_large", 413, "The body is too large"};
  static const ErrorInfo kMedia{"unsupported_media_type", 415, "Unsupported content type"};
  static const ErrorInfo kRate{"rate_limited", 429, "Too many requests"};
  static const ErrorInfo kUnknownCard{"unknown_card", 422, "No such card"};
  static const ErrorInfo kUnknownMember{"unknown_member", 422, "No such member"};
  static const ErrorInfo kCardLost{"card_lost", 422, "The card was reported lost"};
  static const ErrorInfo kCardNotActive{"card_not_active", 422, "The card is not active"};
  static const ErrorInfo kMemberInactive{"member_inactive", 422, "The member is not active"};
  static const ErrorInfo kUnknownCategory{"unknown_category", 422, "No earning rule for this category"};
  static const ErrorInfo kNoRules{"no_earning_rules", 422, "The partner has no earning rules in force"};
  static const ErrorInfo kUnknownPartner{"unknown_partner", 422, "No such partner"};
  static const ErrorInfo kPartnerInactive{"partner_inactive", 422, "The partner is not active"};
  static const ErrorInfo kInsufficient{"insufficient_points", 422, "Not enough points"};
  static const ErrorInfo kUnknownReward{"unknown_reward", 422, "No such reward"};
  static const ErrorInfo kRewardUnavailable{"reward_unavailable", 422, "The reward is withdrawn"};
  static const ErrorInfo kOptionNotOffered{"option_not_offered", 422, "The reward has no such price option"};
  static const ErrorInfo kOutOfStock{"out_of_stock", 422, "Not enough stock"};
  static const ErrorInfo kOutsideSaleWindow{"outside_sale_window", 422, "The reward is not on sale now"};
  static const ErrorInfo kCancelWindowClosed{"cancel_window_closed", 422, "Too late to cancel"};
  static const ErrorInfo kReversalExceeds{"reversal_exceeds_accrual", 422,
                                          "More than the accrual can be reversed"};
  static const ErrorInfo kSourceRequired{"source_required", 422, "Name the partner the points come from"};
  static const ErrorInfo kSelfApproval{"self_approval", 403, "A second person must approve"};
  static const ErrorInfo kAlreadyCancelled{"already_cancelled", 409, "Already cancelled"};
  static const ErrorInfo kNotPending{"not_pending", 409, "Not waiting for approval"};
  static const ErrorInfo kNoAgreement{"no_settlement_agreement", 422,
                                      "No settlement agreement in force for a cross-redemption"};
  static const ErrorInfo kPeriodNotEnded{"period_not_ended", 409, "The period has not ended yet"};
  static const ErrorInfo kEarlierPeriodOpen{"earlier_period_open", 409, "An earlier period is still a draft"};
  static const ErrorInfo kPeriodFinal{"period_final", 409, "The period is final"};
  static const ErrorInfo kNoTierScheme{"no_tier_scheme", 409,
                                       "The tenant has no tier scheme (PUT /v1/tiers)"};
  static const ErrorInfo kFeedInProgress{"feed_in_progress", 409,
                                         "This Feed-Id is being posted by another request"};
  static const ErrorInfo kFeedMismatch{"feed_mismatch", 409,
                                       "The body does not begin with what this Feed-Id already applied"};
  static const ErrorInfo kUnavailable{"service_unavailable", 503, "The database is unavailable"};
  static const ErrorInfo kInternal{"internal_error", 500, "Internal error"};
  switch (code) {
    case ErrorCode::kValidationFailed:
      return kValidation;
    case ErrorCode::kMalformedJson:
      return kMalformedJson;
    case ErrorCode::kMalformedRequest:
      return kMalformed;
    case ErrorCode::kUnauthorized:
      return kUnauthorized;
    case ErrorCode::kForbidden:
      return kForbidden;
    case ErrorCode::kNotFound:
      return kNotFound;
    case ErrorCode::kMethodNotAllowed:
      return kMethod;
    case ErrorCode::kNotAcceptable:
      return kNotAcceptable;
    case ErrorCode::kIdempotencyConflict:
      return kIdem;
    case ErrorCode::kAlreadyExists:
      return kExists;
    case ErrorCode::kConflict:
      return kConflict;
    case ErrorCode::kRunNotFinal:
      return kRunNotFinal;
    case ErrorCode::kAlreadyAnswered:
      return kAlreadyAnswered;
    case ErrorCode::kPayloadTooLarge:
      return kTooLarge;
    case ErrorCode::kUnsupportedMediaType:
      return kMedia;
    case ErrorCode::kRateLimited:
      return kRate;
    case ErrorCode::kUnknownCard:
      return kUnknownCard;
    case ErrorCode::kUnknownMember:
      return kUnknownMember;
    case ErrorCode::kCardLost:
      return kCardLost;
    case ErrorCode::kCardNotActive:
      return kCardNotActive;
    case ErrorCode::kMemberInactive:
      return kMemberInactive;
    case ErrorCode::kUnknownCategory:
      return kUnknownCategory;
    case ErrorCode::kNoEarningRules:
      return kNoRules;
    case ErrorCode::kUnknownPartner:
      return kUnknownPartner;
    case ErrorCode::kPartnerInactive:
      return kPartnerInactive;
    case ErrorCode::kInsufficientPoints:
      return kInsufficient;
    case ErrorCode::kUnknownReward:
      return kUnknownReward;
    case ErrorCode::kRewardUnavailable:
      return kRewardUnavailable;
    case ErrorCode::kOptionNotOffered:
      return kOptionNotOffered;
    case ErrorCode::kOutOfStock:
      return kOutOfStock;
    case ErrorCode::kOutsideSaleWindow:
      return kOutsideSaleWindow;
    case ErrorCode::kCancelWindowClosed:
      return kCancelWindowClosed;
    case ErrorCode::kReversalExceedsAccrual:
      return kReversalExceeds;
    case ErrorCode::kSourceRequired:
      return kSourceRequired;
    case ErrorCode::kSelfApproval:
      return kSelfApproval;
    case ErrorCode::kAlreadyCancelled:
      return kAlreadyCancelled;
    case ErrorCode::kNotPending:
      return kNotPending;
    case ErrorCode::kNoSettlementAgreement:
      return kNoAgreement;
    case ErrorCode::kPeriodNotEnded:
      return kPeriodNotEnded;
    case ErrorCode::kEarlierPeriodOpen:
      return kEarlierPeriodOpen;
    case ErrorCode::kPeriodFinal:
      return kPeriodFinal;
    case ErrorCode::kNoTierScheme:
      return kNoTierScheme;
    case ErrorCode::kFeedInProgress:
      return kFeedInProgress;
    case ErrorCode::kFeedMismatch:
      return kFeedMismatch;
    case ErrorCode::kServiceUnavailable:
      return kUnavailable;
    case ErrorCode::kInternal:
      return kInternal;
  }
  return kInternal;
}

void ThrowField(std::string field, std::string message) {
  std::string detail = field + ": " + message;
  throw DomainError(ErrorCode::kValidationFailed, std::move(detail),
                    {{std::move(field), std::move(message)}});
}

}  // namespace unipoints::core
