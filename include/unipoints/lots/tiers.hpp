#pragma once
// Tiers: levels with thresholds on qualifying points earned over a window, re-graded on a yearly or
// quarterly cadence (see jobs.hpp), with a history per member. Earning multipliers follow the tier
// a member held when the event occurred.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/members/members_service.hpp"

namespace unipoints::lots {

// PUT /v1/tiers {window_months, cadence, levels:[{code, min_points}]}: levels in increasing
// min_points starting at 0, unique codes. Takes effect at the next re-grade.
nlohmann::json PutTiers(db::Tx& tx, std::int64_t tenant_id, const nlohmann::json& body, core::Instant now);
// The scheme, or {levels: [], ...} when none is set.
nlohmann::json GetTiers(db::Tx& tx, std::int64_t tenant_id);

// {tier, tier_since, items:[{id, at, from, to, qualifying_points, job_id}], next}, newest first.
nlohmann::json TierHistory(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                           std::optional<std::int64_t> after, int limit);

}  // namespace unipoints::lots
