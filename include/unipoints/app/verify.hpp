#pragma once
// `unipoints verify`: checks the points invariants over the whole database (or one tenant) in one
// consistent snapshot and names the first violation.

#include <cstdint>
#include <optional>
#include <string>

#include "unipoints/db/database.hpp"

namespace unipoints::app {

struct Violation {
  std::string tenant;  // code
  std::optional<std::int64_t> member_id;
  std::string what;  // the invariant, e.g. "held = sum of remaining ..."
  std::string expected;
  std::string found;
};

struct VerifyReport {
  std::int64_t members = 0;
  std::int64_t lots = 0;
  std::optional<Violation> violation;  // the first one found
};

// For every member: held = sum of remaining over its lots; held, debt, lifetime >= 0; sum of its
// ledger points = held - debt; lifetime = accruals - reversals + credit adjustments. For every lot:
// 0 <= remaining <= points. For every redemption: the points taken from lots equal its points, and
// its settlement lines sum to its points (completed) or to 0 (cancelled). Transfers, reversals and
// applied adjustments: lots taken and ledger entries match their points. `tenant_code` limits the
// checks to one tenant (a DomainError not_found when there is none by that code).
VerifyReport Verify(db::Database& db, const std::optional<std::string>& tenant_code);

// "tenant T, member M: what: expected X, found Y"
std::string Describe(const Violation& v);

}  // namespace unipoints::app
