#pragma once
// Adjustments: an agent credits or debits a member's points with a reason. Above the tenant's
// adjustment_approval_threshold (in absolute points) an adjustment waits until a second key
// approves it; the requesting key cannot approve its own.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::spending {

inline constexpr std::int64_t kMaxAdjustmentPoints = 1'000'000'000;

struct AdjustmentInput {
  std::string request_id;
  std::int64_t member_id = 0;
  std::int64_t points = 0;  // signed, non-zero: > 0 credit, < 0 debit
  std::string reason;
  std::optional<std::string> source;      // partner code: a credit's source, a debit's only source
  std::optional<std::string> point_type;  // of a credit's lot; default bonus
  nlohmann::json canonical;               // the body as sent, for the idempotency hash
};

// Reads and validates the body (all field errors into `f`).
AdjustmentInput ParseAdjustment(const nlohmann::json& body, http::Fields& f);

// Records the adjustment and applies it at once when |points| is within the threshold. The answer
// has status "applied" (with balance and points_by_source) or "pending_approval". 422
// unknown_member, unknown_partner, source_required (a credit with no source and no issuing
// partner), insufficient_points (a debit, with {shortfall, available}).
nlohmann::json RequestAdjustment(db::Tx& tx, const tenancy::Principal& who, const AdjustmentInput& in,
                                 core::Instant now);

// Applies a pending adjustment. 404 unknown, 409 not_pending, 403 self_approval, 422
// insufficient_points (the adjustment stays pending).
nlohmann::json ApproveAdjustment(db::Tx& tx, const tenancy::Principal& who, std::int64_t adjustment_id,
                                 core::Instant now);

nlohmann::json GetAdjustment(db::Tx& tx, std::int64_t tenant_id, std::int64_t adjustment_id);  // 404
// Newest first; `after` is the previous page's `next`.
nlohmann::json ListAdjustments(db::Tx& tx, std::int64_t tenant_id, const std::optional<std::string>& status,
                               std::optional<std::int64_t> member_id, std::optional<std::int64_t> after,
                               int limit);

}  // namespace unipoints::spending
