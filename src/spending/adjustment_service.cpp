#include "unipoints/spending/adjustment_service.hpp"

#include <algorithm>
#include <map>

#include "adjustment_store.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/http/page.hpp"
#include "unipoints/lots/lots_service.hpp"
#include "unipoints/tenancy/tenancy_service.hpp"

namespace unipoints::spending {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;

struct Source {
  std::int64_t id = 0;
  std::string code;
};

json TimeOrNull(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  return core::FormatRfc3339(core::FromUnixMicros(f.as<std::int64_t>()));
}

json AdjustmentRow(const pqxx::row& r) {
  return {{"adjustment_id", r[0].as<std::int64_t>()},
          {"request_id", r[1].as<std::string>()},
          {"member_id", r[2].as<std::int64_t>()},
          {"points", r[3].as<std::int64_t>()},
          {"source", r[4].is_null() ? json(nullptr) : json(r[4].as<std::string>())},
          {"point_type", r[5].as<std::string>()},
          {"reason", r[6].as<std::string>()},
          {"status", r[7].as<std::string>()},
          {"requested_by_key", r[8].as<std::int64_t>()},
          {"approved_by_key", r[9].is_null() ? json(nullptr) : json(r[9].as<std::int64_t>())},
          {"created_at", TimeOrNull(r[10])},
          {"applied_at", TimeOrNull(r[11])}};
}

// Locks the member (any status); nullopt when unknown. Holds its issuing partner, if any.
std::optional<std::optional<Source>> LockMember(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id) {
  auto row = tx.ExecOne(store::kAdjustmentLockMember, tenant_id, member_id);
  if (!row) return std::nullopt;
  if ((*row)[0].is_null()) return std::optional<Source>();
  return std::optional(Source{(*row)[0].as<std::int64_t>(), (*row)[1].as<std::string>()});
}

// Applies the adjustment's points to the member (whose row the caller has locked); returns the
// points moved per source partner code, signed like `points`.
json Apply(db::Tx& tx, std::int64_t tenant_id, std::int64_t adjustment_id, std::int64_t member_id,
           std::int64_t points, const std::optional<Source>& source, const std::string& point_type,
           core::Instant now) {
  const auto ref = "adjustment:" + std::to_string(adjustment_id);
  if (points > 0) {
    lots::Credit credit{tenant_id, member_id,    source->id, point_type,   points,
                        now,       std::nullopt, ref,        "adjustment", now};
    lots::CreditPoints(tx, credit);
    return {{source->code, points}};
  }
  const auto need = -points;
  auto live = lots::LockLiveLots(tx, tenant_id, member_id, now);
  auto spendable = lots::Available(tx, tenant_id, member_id, now);
  if (source) {
    std::int64_t of_source = 0;
    for (const auto& lot : live) {
      if (lot.source_partner_id == source->id) of_source += lot.remaining;
    }
    spendable = std::min(spendable, of_source);
  }
  if (spendable < need) {
    json ext = {{"shortfall", need - spendable}, {"available", spendable}};
    if (source) ext["source"] = source->code;
    throw DomainError(ErrorCode::kInsufficientPoints,
                      "Member " + std::to_string(member_id) + " has " + std::to_string(spendable) +
                          (source ? " " + source->code : std::string()) + " points available, " +
                          std::to_string(need - spendable) + " short",
                      {{"points", "more than the member's available points"}}, ext);
  }
  const auto pieces = lots::PlanTake(live, source ? std::optional(source->id) : std::nullopt, need);
  lots::ApplyTake(tx, tenant_id, member_id, pieces, ref);
  std::map<std::int64_t, std::int64_t> per_source;
  for (const auto& p : pieces) per_source[p.source_partner_id] += p.points;
  for (const auto& [src, pts] : per_source) {
    lots::WriteLedger(tx, tenant_id, member_id, "adjustment", -pts, src, std::nullopt, ref, now);
  }
  json by_source = lots::BySource(pieces);
  for (auto& [code, pts] : by_source.items()) pts = -pts.get<std::int64_t>();
  return by_source;
}

}  // namespace

AdjustmentInput ParseAdjustment(const json& body, http::Fields& f) {
  AdjustmentInput in;
  in.request_id = f.Id("request_id");
  in.member_id = f.Int("member_id", 1, INT64_MAX);
  in.points = f.Int("points", -kMaxAdjustmentPoints, kMaxAdjustmentPoints);
  if (const auto* raw = f.Raw("points"); raw != nullptr && raw->is_number_integer() && *raw == 0) {
    f.Error("points", "must not be zero");
  }
  in.reason = f.Str("reason", 500);
  in.source = f.OptStr("source", 32);
  in.point_type = f.OptEnum("point_type", {"consumption", "tenure", "credit", "bonus"});
  if (in.point_type && f.Has("points") && in.points < 0) f.Error("point_type", "only for a credit");
  in.canonical = body;
  return in;
}

json RequestAdjustment(db::Tx& tx, const tenancy::Principal& who, const AdjustmentInput& in,
                       core::Instant now) {
  const auto tenant = who.tenant_id;
  auto issuing = LockMember(tx, tenant, in.member_id);
  if (!issuing) {
    throw DomainError(ErrorCode::kUnknownMember, "No member " + std::to_string(in.member_id),
                      {{"member_id", "unknown member"}});
  }
  std::optional<Source> source;
  if (in.source) {
    auto p = tenancy::GetPartner(tx, tenant, *in.source, "source");
    source = Source{p.id, p.code};
  } else if (in.points > 0) {
    if (!*issuing) {
      throw DomainError(ErrorCode::kSourceRequired,
                        "Member " + std::to_string(in.member_id) +
                            " has no issuing partner nor points earned yet: name the partner the credited"
                            " points come from",
                        {{"source", "required: the member has no issuing partner nor earned points"}});
    }
    source = *issuing;
  }
  const auto threshold = tenancy::GetPolicy(tx, tenant)["adjustment_approval_threshold"].get<std::int64_t>();
  const bool pending = (in.points < 0 ? -in.points : in.points) > threshold;
  const auto point_type = in.point_type.value_or("bonus");
  const std::optional<std::string> source_id =
      source ? std::optional(std::to_string(source->id)) : std::nullopt;
  const auto id = tx.Exec(store::kInsertAdjustment, tenant, in.request_id, in.member_id, in.points,
                          db::Nullable(source_id), point_type, in.reason,
                          std::string(pending ? "pending_approval" : "applied"), who.key_id,
                          core::FormatRfc3339(now))[0][0]
                      .as<std::int64_t>();
  if (pending) return GetAdjustment(tx, tenant, id);
  auto by_source = Apply(tx, tenant, id, in.member_id, in.points, source, point_type, now);
  auto out = GetAdjustment(tx, tenant, id);
  out["points_by_source"] = std::move(by_source);
  out["balance"] = lots::Available(tx, tenant, in.member_id, now);
  return out;
}

json ApproveAdjustment(db::Tx& tx, const tenancy::Principal& who, std::int64_t adjustment_id,
                       core::Instant now) {
  const auto tenant = who.tenant_id;
  auto row = tx.ExecOne(store::kLockAdjustment, tenant, adjustment_id);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No adjustment " + std::to_string(adjustment_id));
  const auto status = (*row)[4].as<std::string>();
  if (status != "pending_approval") {
    throw DomainError(ErrorCode::kNotPending,
                      "Adjustment " + std::to_string(adjustment_id) + " is " + status);
  }
  if ((*row)[5].as<std::int64_t>() == who.key_id) {
    throw DomainError(ErrorCode::kSelfApproval, "The key that requested adjustment " +
                                                    std::to_string(adjustment_id) + " cannot approve it");
  }
  const auto member_id = (*row)[0].as<std::int64_t>();
  const auto points = (*row)[1].as<std::int64_t>();
  LockMember(tx, tenant, member_id);
  auto current = GetAdjustment(tx, tenant, adjustment_id);
  std::optional<Source> source;
  if (!(*row)[2].is_null())
    source = Source{(*row)[2].as<std::int64_t>(), current["source"].get<std::string>()};
  auto by_source =
      Apply(tx, tenant, adjustment_id, member_id, points, source, (*row)[3].as<std::string>(), now);
  tx.Exec(store::kMarkAdjustmentApplied, tenant, adjustment_id, who.key_id, core::FormatRfc3339(now));
  auto out = GetAdjustment(tx, tenant, adjustment_id);
  out["points_by_source"] = std::move(by_source);
  out["balance"] = lots::Available(tx, tenant, member_id, now);
  return out;
}

json GetAdjustment(db::Tx& tx, std::int64_t tenant_id, std::int64_t adjustment_id) {
  auto row = tx.ExecOne(store::kGetAdjustment, tenant_id, adjustment_id);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No adjustment " + std::to_string(adjustment_id));
  return AdjustmentRow(*row);
}

json ListAdjustments(db::Tx& tx, std::int64_t tenant_id, const std::optional<std::string>& status,
                     std::optional<std::int64_t> member_id, std::optional<std::int64_t> after, int limit) {
  auto rows = tx.Exec(store::kListAdjustments, tenant_id, db::Nullable(status),
                      db::Nullable(http::OptText(member_id)), db::Nullable(http::OptText(after)), limit + 1);
  return http::Page(rows, limit, [](const pqxx::row& r) { return AdjustmentRow(r); });
}

}  // namespace unipoints::spending
