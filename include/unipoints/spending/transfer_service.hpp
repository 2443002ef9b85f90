#pragma once
// Transfers: a member gives points to another member of the same tenant. The giver's lots are
// taken earliest expiry first and each piece becomes a lot of the receiver with the same source
// partner, point type, earning time and expiry.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::spending {

inline constexpr std::int64_t kMaxTransferPoints = 1'000'000'000'000;

struct TransferInput {
  std::string request_id;
  std::int64_t from_member = 0;
  std::int64_t to_member = 0;
  std::int64_t points = 0;
  nlohmann::json canonical;  // the body as sent, for the idempotency hash
};

// Reads and validates the body (all field errors into `f`); to_member must differ from from_member.
TransferInput ParseTransfer(const nlohmann::json& body, http::Fields& f);

// Moves the points; returns the 201 body {transfer_id, request_id, from_member, to_member, points,
// points_by_source}. 422 unknown_member / member_inactive (either side), insufficient_points with
// {shortfall, available}.
nlohmann::json Transfer(db::Tx& tx, const tenancy::Principal& who, const TransferInput& in,
                        core::Instant now);

}  // namespace unipoints::spending
