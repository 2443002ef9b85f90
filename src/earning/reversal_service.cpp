#include "unipoints/earning/reversal_service.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "reversal_store.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/earning/accrual_service.hpp"
#include "unipoints/lots/lots_service.hpp"

namespace unipoints::earning {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;

// Points per source partner, in the order the sources were first taken from.
std::vector<std::pair<std::int64_t, std::int64_t>> PerSource(const std::vector<lots::Piece>& pieces) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (const auto& p : pieces) {
    auto it =
        std::find_if(out.begin(), out.end(), [&p](const auto& s) { return s.first == p.source_partner_id; });
    if (it == out.end()) {
      out.emplace_back(p.source_partner_id, p.points);
    } else {
      it->second += p.points;
    }
  }
  return out;
}

}  // namespace

ReversalInput ParseReversal(const json& body, const std::string& event_id, http::Fields& f) {
  ReversalInput in;
  in.event_id = event_id;
  in.reversal_id = f.Id("reversal_id");
  in.amount_minor = f.OptInt("amount_minor", 1, kMaxAmountMinor);
  in.points = f.OptInt("points", 1, kMaxReversalPoints);
  if (f.Has("amount_minor") == f.Has("points")) {
    f.Error("amount_minor", "give exactly one of amount_minor or points");
  }
  in.reason = f.Str("reason", 500);
  in.canonical = {{"event_id", event_id}, {"body", body}};
  return in;
}

std::int64_t ProportionalPoints(std::int64_t accrual_points, std::int64_t accrual_amount,
                                std::int64_t reversed_amount, std::int64_t reversed_points,
                                std::int64_t amount) {
  const __int128 total = static_cast<__int128>(accrual_points) * (reversed_amount + amount) / accrual_amount;
  return static_cast<std::int64_t>(total) - reversed_points;
}

json Reverse(db::Tx& tx, const tenancy::Principal& who, const ReversalInput& in, core::Instant now) {
  const auto tenant = who.tenant_id;
  const auto partner = *who.partner_id;
  auto accrual = tx.ExecOne(store::kAccrualByEvent, tenant, partner, in.event_id);
  if (!accrual) {
    throw DomainError(ErrorCode::kNotFound, "Partner " + who.partner_code +
                                                " posted no accrual with event_id '" + in.event_id + "'");
  }
  const auto accrual_id = (*accrual)[0].as<std::int64_t>();
  const auto member_id = (*accrual)[1].as<std::int64_t>();
  const std::optional<std::int64_t> accrual_amount =
      (*accrual)[2].is_null() ? std::nullopt : std::optional((*accrual)[2].as<std::int64_t>());
  const auto accrual_points = (*accrual)[3].as<std::int64_t>();

  // The member's lock serialises this with every other movement of the member, including other
  // reversals of the same accrual, so the sums below stay true until commit.
  tx.Exec(store::kLockReversalMember, tenant, member_id);
  const auto sums = tx.Exec(store::kReversedSoFar, tenant, accrual_id)[0];
  const auto reversed_amount = sums[0].as<std::int64_t>();
  const auto reversed_points_by_amount = sums[1].as<std::int64_t>();
  const auto reversed_points = sums[2].as<std::int64_t>();

  std::int64_t points = 0;
  if (in.amount_minor) {
    if (!accrual_amount) {
      throw DomainError(ErrorCode::kValidationFailed,
                        "amount_minor: the accrual was posted as points; reverse it with points",
                        {{"amount_minor", "the accrual was posted as points; reverse it with points"}});
    }
    if (*in.amount_minor > *accrual_amount - reversed_amount) {
      throw DomainError(ErrorCode::kReversalExceedsAccrual,
                        "At most " + std::to_string(*accrual_amount - reversed_amount) +
                            " of the accrual's amount is left to reverse",
                        {{"amount_minor", "more than the accrual's amount not yet reversed"}},
                        {{"accrual_amount_minor", *accrual_amount},
                         {"reversed_amount_minor", reversed_amount},
                         {"reversible_amount_minor", *accrual_amount - reversed_amount}});
    }
    points = ProportionalPoints(accrual_points, *accrual_amount, reversed_amount, reversed_points_by_amount,
                                *in.amount_minor);
  } else {
    points = *in.points;
  }
  if (points > accrual_points - reversed_points) {
    throw DomainError(
        ErrorCode::kReversalExceedsAccrual,
        "At most " + std::to_string(accrual_points - reversed_points) +
            " of the accrual's points are left to reverse",
        {{in.amount_minor ? "amount_minor" : "points", "more than the accrual's points not yet reversed"}},
        {{"accrual_points", accrual_points},
         {"reversed_points", reversed_points},
         {"reversible_points", accrual_points - reversed_points}});
  }

  // The accrual's own lot first (if still live), then the others, earliest expiry first.
  auto live = lots::LockLiveLots(tx, tenant, member_id, now);
  if (auto own = tx.ExecOne(store::kAccrualLot, tenant, accrual_id)) {
    const auto own_id = (*own)[0].as<std::int64_t>();
    std::stable_partition(live.begin(), live.end(),
                          [own_id](const lots::LiveLot& l) { return l.id == own_id; });
  }
  const auto pieces = lots::PlanTake(live, std::nullopt, points);
  std::int64_t taken = 0;
  for (const auto& p : pieces) taken += p.points;
  const auto debt = points - taken;

  const std::optional<std::string> amount =
      in.amount_minor ? std::optional(std::to_string(*in.amount_minor)) : std::nullopt;
  const auto id = tx.Exec(store::kInsertReversal, tenant, partner, in.reversal_id, accrual_id, member_id,
                          db::Nullable(amount), points, debt, in.reason, core::FormatRfc3339(now))[0][0]
                      .as<std::int64_t>();
  const auto ref = "reversal:" + std::to_string(id);
  lots::ApplyTake(tx, tenant, member_id, pieces, ref);
  for (const auto& [source, pts] : PerSource(pieces)) {
    lots::WriteLedger(tx, tenant, member_id, "reversal", -pts, source, std::nullopt, ref, now);
  }
  // What the member no longer has is owed to the alliance: booked against the accrual's partner.
  if (debt > 0) lots::WriteLedger(tx, tenant, member_id, "reversal", -debt, partner, std::nullopt, ref, now);
  lots::MoveTotals(tx, tenant, member_id, 0, debt, -points);

  return {{"reversal_id", in.reversal_id},
          {"event_id", in.event_id},
          {"accrual_id", accrual_id},
          {"member_id", member_id},
          {"amount_minor", in.amount_minor ? json(*in.amount_minor) : json(nullptr)},
          {"points_reversed", points},
          {"points_by_source", lots::BySource(pieces)},
          {"debt", debt},
          {"balance", lots::Available(tx, tenant, member_id, now)}};
}

}  // namespace unipoints::earning
