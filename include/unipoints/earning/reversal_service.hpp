#pragma once
// Reversals: a partner takes back all or part of an accrual it posted (a POS return, a billing
// correction). Points come from the accrual's own lot first, then from the member's other live
// lots earliest expiry first; what the member no longer has becomes debt that later accruals repay.
// A reversal never fails for lack of balance.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::earning {

// Bounds that keep the proportional arithmetic exact (products are taken in 128 bits).
inline constexpr std::int64_t kMaxReversalPoints = 1'000'000'000'000'000;

struct ReversalInput {
  std::string event_id;  // of the accrual, from the path
  std::string reversal_id;
  std::optional<std::int64_t> amount_minor;
  std::optional<std::int64_t> points;
  std::string reason;
  nlohmann::json canonical;  // body plus event_id, for the idempotency hash
};

// Reads and validates the body (all field errors into `f`).
ReversalInput ParseReversal(const nlohmann::json& body, const std::string& event_id, http::Fields& f);

// The points a reversal by amount takes, cumulative-proportional so partial reversals add up
// exactly: floor(accrual_points × (reversed_amount + amount) / accrual_amount) − reversed_points,
// where reversed_* are the earlier reversals by amount of the same accrual.
std::int64_t ProportionalPoints(std::int64_t accrual_points, std::int64_t accrual_amount,
                                std::int64_t reversed_amount, std::int64_t reversed_points,
                                std::int64_t amount);

// Reverses the key's partner's accrual `in.event_id` (404 when it has none by that id); returns the
// 201 body {reversal_id, accrual_id, event_id, member_id, points_reversed, debt, points_by_source,
// balance}. 422 reversal_exceeds_accrual when more than the accrual would be reversed in total.
nlohmann::json Reverse(db::Tx& tx, const tenancy::Principal& who, const ReversalInput& in, core::Instant now);

}  // namespace unipoints::earning
