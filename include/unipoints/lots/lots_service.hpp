#pragma once
// Lots, balances and the insert-only ledger: where points live once earned.

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
  std::string ref;                      // e.g. "accrual:42"
  std::string ledger_kind = "accrual";  // or "adjustment"
  core::Instant at{};                   // the ledger entry's time: the business clock's now
};

struct CreditResult {
  std::int64_t lot_id = 0;
  std::int64_t repaid_debt = 0;
  std::optional<core::Instant> expires_at;  // nullopt: never
};

// Writes the lot (stamped with the policy's expiry in the tenant's time zone), repays debt first,
// appends the ledger entry and raises lifetime. The member row must be locked by the caller.
CreditResult CreditPoints(db::Tx& tx, const Credit& credit);

// A lot that can be spent now.
struct LiveLot {
  std::int64_t id = 0;
  std::int64_t source_partner_id = 0;
  std::string source_code;
  std::int64_t remaining = 0;
  std::optional<core::Instant> expires_at;
  std::string point_type;
  core::Instant earned_at;
};

// Points taken from one lot.
struct Piece {
  std::int64_t lot_id = 0;
  std::int64_t source_partner_id = 0;
  std::string source_code;
  std::int64_t points = 0;
};

// A live lot from columns at..at+6 of `r`: id, source id, source code, remaining, expiry µs (or
// NULL), point type, earned µs.
LiveLot ReadLiveLot(const pqxx::row& r, int at);

// The member's spendable lots, earliest expiry first, locked until the transaction ends. The
// member row must already be locked.
std::vector<LiveLot> LockLiveLots(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                                  core::Instant now);

// Plans taking `points` from `lots` (only lots of `source_partner_id` when given), earliest
// expiry first, and deducts them from `lots`. Returns fewer points than asked when short.
std::vector<Piece> PlanTake(std::vector<LiveLot>& lots, std::optional<std::int64_t> source_partner_id,
                            std::int64_t points);

// Writes planned pieces: lot remainders, the consumption record under `ref` (so it can be put
// back exactly), and the member's held total.
void ApplyTake(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id, const std::vector<Piece>& pieces,
               const std::string& ref);

// Puts back every piece `ref` took into the same lots; returns them.
std::vector<Piece> Restore(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                           const std::string& ref);

// The member's running totals {held, debt}.
std::pair<std::int64_t, std::int64_t> Totals(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id);

// Moves the member's running totals; returns {held, debt} after.
std::pair<std::int64_t, std::int64_t> MoveTotals(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                                                 std::int64_t held_delta, std::int64_t debt_delta,
                                                 std::int64_t lifetime_delta);

// A copy of lot `lot_id` with `points` for another member: same source, type, earning and expiry.
std::int64_t CopyLot(db::Tx& tx, std::int64_t tenant_id, std::int64_t lot_id, std::int64_t to_member_id,
                     std::int64_t points);

// One insert-only ledger row, dated `at` (the business clock's now).
void WriteLedger(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id, const std::string& kind,
                 std::int64_t points, std::optional<std::int64_t> source_partner_id,
                 std::optional<std::int64_t> lot_id, const std::string& ref, core::Instant at);

// Sums pieces per source partner code, for answers like points_by_source.
nlohmann::json BySource(const std::vector<Piece>& pieces);

// Available = remaining points of unexpired lots - debt, as of `now`.
std::int64_t Available(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id, core::Instant now);

// A balance to read: member_id's as of `at`.
struct BalanceQuery {
  std::int64_t tenant_id = 0;
  std::int64_t member_id = 0;
  core::Instant at;
};

struct BalanceOutcome {
  // {member_id, available, by_source, lifetime, debt, tier, expiring:[{expires_at, points}], as_of}
  nlohmann::json body;
  std::exception_ptr error;  // not_found for an unknown member
};

// The balances of `queries` (of any tenants and members, repeats allowed) in one statement, so
// one snapshot and one round trip; one outcome per query, in order.
std::vector<BalanceOutcome> Balances(db::Tx& tx, const std::vector<const BalanceQuery*>& queries);

// Newest first; `after` is the cursor of the previous page; `source_partner_id` limits to one source.
nlohmann::json Ledger(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                      std::optional<std::int64_t> after, int limit,
                      std::optional<std::int64_t> source_partner_id);

}  // namespace unipoints::lots
