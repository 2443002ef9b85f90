#include "unipoints/spending/transfer_service.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "transfer_store.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/lots/lots_service.hpp"

namespace unipoints::spending {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;

// Locks one member of the transfer and checks it can take part; `field` names it in refusals.
void LockSide(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id, const char* field) {
  auto row = tx.ExecOne(store::kTransferLockMember, tenant_id, member_id);
  if (!row) {
    throw DomainError(ErrorCode::kUnknownMember, "No member " + std::to_string(member_id),
                      {{field, "unknown member"}});
  }
  const auto status = (*row)[0].as<std::string>();
  if (status != "active") {
    throw DomainError(ErrorCode::kMemberInactive, "Member " + std::to_string(member_id) + " is " + status,
                      {{field, "member is " + status}});
  }
}

}  // namespace

TransferInput ParseTransfer(const json& body, http::Fields& f) {
  TransferInput in;
  in.request_id = f.Id("request_id");
  in.from_member = f.Int("from_member", 1, INT64_MAX);
  in.to_member = f.Int("to_member", 1, INT64_MAX);
  in.points = f.Int("points", 1, kMaxTransferPoints);
  if (in.from_member != 0 && in.from_member == in.to_member) {
    f.Error("to_member", "must differ from from_member");
  }
  in.canonical = body;
  return in;
}

json Transfer(db::Tx& tx, const tenancy::Principal& who, const TransferInput& in, core::Instant now) {
  const auto tenant = who.tenant_id;
  // Both rows in ascending id order, so that two opposite transfers cannot deadlock.
  const bool from_first = in.from_member < in.to_member;
  LockSide(tx, tenant, from_first ? in.from_member : in.to_member, from_first ? "from_member" : "to_member");
  LockSide(tx, tenant, from_first ? in.to_member : in.from_member, from_first ? "to_member" : "from_member");

  auto live = lots::LockLiveLots(tx, tenant, in.from_member, now);
  const auto available = lots::Available(tx, tenant, in.from_member, now);
  if (available < in.points) {
    throw DomainError(ErrorCode::kInsufficientPoints,
                      "Member " + std::to_string(in.from_member) + " has " + std::to_string(available) +
                          " points available, " + std::to_string(in.points - available) + " short",
                      {{"points", "more than the giver's available points"}},
                      {{"shortfall", in.points - available}, {"available", available}});
  }
  const auto pieces = lots::PlanTake(live, std::nullopt, in.points);
  std::int64_t planned = 0;
  for (const auto& p : pieces) planned += p.points;
  if (planned != in.points) {  // available <= live points, so this is a broken invariant
    throw std::logic_error("transfer: live lots hold " + std::to_string(planned) + " of " +
                           std::to_string(in.points) + " available points");
  }

  const auto transfer_id = tx.Exec(store::kInsertTransfer, tenant, in.request_id, in.from_member,
                                   in.to_member, in.points, core::FormatRfc3339(now))[0][0]
                               .as<std::int64_t>();
  const auto ref = "transfer:" + std::to_string(transfer_id);
  lots::ApplyTake(tx, tenant, in.from_member, pieces, ref);
  std::map<std::int64_t, std::int64_t> per_source;
  for (const auto& p : pieces) per_source[p.source_partner_id] += p.points;
  for (const auto& [source, pts] : per_source) {
    lots::WriteLedger(tx, tenant, in.from_member, "transfer_out", -pts, source, std::nullopt, ref, now);
  }
  // Each piece becomes a lot of the receiver with the same source, type, earning time and expiry.
  for (const auto& p : pieces) {
    const auto lot = lots::CopyLot(tx, tenant, p.lot_id, in.to_member, p.points);
    lots::WriteLedger(tx, tenant, in.to_member, "transfer_in", p.points, p.source_partner_id, lot, ref, now);
  }
  lots::MoveTotals(tx, tenant, in.to_member, in.points, 0, 0);

  return {{"transfer_id", transfer_id},    {"request_id", in.request_id},
          {"from_member", in.from_member}, {"to_member", in.to_member},
          {"points", in.points},           {"points_by_source", lots::BySource(pieces)}};
}

}  // namespace unipoints::spending
