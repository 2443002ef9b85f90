#pragma once
// Settlement runs: for a month in the tenant's time zone, the cross-redemption lines per ordered
// pair priced by the agreement in force when booked, bilateral nets, net positions (summing to
// zero) and at most N-1 payment instructions. A draft is recomputed on request; a final run is
// immutable, hashed (SHA-256 over its canonical bytes) and chained to the previous final run.

#include <utility>

#include <nlohmann/json.hpp>

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::settlement {

// Computes (or recomputes) the draft of `period`; a final period is returned unchanged.
// Returns {created_or_recomputed, run body}.
std::pair<bool, nlohmann::json> RunPeriod(db::Tx& tx, const tenancy::Principal& who, core::Period period,
                                          core::Instant now);
nlohmann::json GetRun(db::Tx& tx, const tenancy::Principal& who, core::Period period);
// Draft → final: 409 period_not_ended while the period runs, 409 earlier_period_open while an
// earlier period is still a draft. Finalizing a final run returns it unchanged.
nlohmann::json FinalizeRun(db::Tx& tx, const tenancy::Principal& who, core::Period period, core::Instant now);

// The scheduler's job: a draft of the previous month for every tenant that has none yet. Safe to
// run from several processes at once (runs are serialised per tenant and period). Returns the
// number of drafts made.
int RunDueDrafts(db::Database& db, core::Instant now);

}  // namespace unipoints::settlement
