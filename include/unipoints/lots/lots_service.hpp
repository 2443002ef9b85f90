#pragma once
// Lots, balances and the insert-only ledger: where points live once earned.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"

namespace unipoints::lots {

struct Credit {
  std::int64_t tenant_id = 0;
  std::int64_t member_id = 0;
  std::int64_t source_partner_id = 0;
  std::string point_type;
  std::int64_t points = 0;  // > 0
  core::Instant earned_at;
  std::optional<std::int64_t> accrual_id;
  std::string ref;  // e.g. "accrual:42"
};

struct CreditResult {
  std::int64_t lot_id = 0;
  std::int64_t repaid_debt = 0;
  std::optional<core::Instant> expires_at;  // nullopt: never
};

// Writes the lot (stamped with the policy's expiry in the tenant's time zone), repays debt first,
// appends the ledger entry and raises lifetime. The member row must be locked by the caller.
CreditResult CreditPoints(db::Tx& tx, const Credit& credit);

// Available = remaining points of unexpired lots - debt, as of `now`.
std::int64_t Available(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id, core::Instant now);

// {available, by_source, lifetime, debt, tier, expiring:[{expires_at, points}]}
nlohmann::json Balance(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id, core::Instant now);

// Newest first; `after` is the cursor of the previous page; `source_partner_id` limits to one source.
nlohmann::json Ledger(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                      std::optional<std::int64_t> after, int limit,
                      std::optional<std::int64_t> source_partner_id);

}  // namespace unipoints::lots
