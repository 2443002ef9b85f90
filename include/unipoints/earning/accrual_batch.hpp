#pragma once
// Many accruals in one transaction, written set-based: one statement per step whatever the
// number of events (claim the event ids, lock the members, read rules and balances, write
// accruals + lots + ledger + totals, store the answers). Events may come from several partners
// and tenants, and several may be for the same member: debt repayment and the balance in each
// answer follow the events' order. The single-accrual group commit, the batch endpoint and the
// feed all apply accruals through here.

#include <exception>
#include <span>
#include <vector>

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/db/idempotency_store.hpp"
#include "unipoints/earning/accrual_service.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::earning {

struct AccrualItem {
  tenancy::Principal who;  // a partner key's principal
  AccrualInput input;      // validated by ParseAccrual
};

struct AccrualOutcome {
  // 201 with the accrual; a stored refusal (422); or an error that was not stored (409 id used
  // with another body, 400 unpriceable) and leaves the event id free.
  db::StoredAnswer answer{0, nullptr};
  bool replay = false;       // the stored answer of an earlier identical request
  std::exception_ptr error;  // set (answer unset) when the event's own transaction failed
  bool held = false;         // not applied: its member was locked by another transaction (skip_held)
};

// Applies `items` in `tx`; one outcome per item, in order. A repeated event id within `items`
// is answered like a repeat across requests (the first one's answer, or a conflict). With
// `skip_held`, events whose member another transaction has locked are left alone (`held`, with
// their repeats) instead of waiting for that transaction while holding this one's locks.
std::vector<AccrualOutcome> ApplyAccruals(db::Tx& tx, std::span<const AccrualItem* const> items,
                                          RuleCache& rules, core::Instant now, bool skip_held = false);

// ApplyAccruals in its own transaction on the calling thread, skipping members other transactions
// hold; the events of those are applied in a second transaction after it, waiting for the locks.
// Should a transaction fail for a reason that is not the database being unavailable, its events
// are retried one per transaction, so one event that trips a database check cannot hold back
// the others.
std::vector<AccrualOutcome> ApplyAccrualsIsolated(db::Database& db, std::span<const AccrualItem* const> items,
                                                  RuleCache& rules, const core::Clock& clock);

// The idempotency key of an accrual: (tenant, partner, "accrual", event_id) and the body's hash.
db::IdempotencyKey AccrualKey(const tenancy::Principal& who, const AccrualInput& in);

}  // namespace unipoints::earning
