#include "unipoints/lots/lots_service.hpp"

#include <map>

#include "lots_store.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/http/page.hpp"

namespace unipoints::lots {
namespace {

using nlohmann::json;

std::string ArrayLiteral(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

std::optional<std::string> OptNum(std::optional<std::int64_t> v) {
  return v ? std::optional(std::to_string(*v)) : std::nullopt;
}

}  // namespace

CreditResult CreditPoints(db::Tx& tx, const Credit& c) {
  CreditResult result;
  const auto earned = core::FormatRfc3339(c.earned_at);
  auto expiry = tx.Exec(store::kExpiryFor, c.tenant_id, earned, c.point_type, c.member_id);
  std::optional<std::string> expires_micros;
  if (!expiry[0][0].is_null()) {
    auto micros = expiry[0][0].as<std::int64_t>();
    result.expires_at = core::FromUnixMicros(micros);
    expires_micros = std::to_string(micros);
  }
  const auto debt = expiry[0][1].as<std::int64_t>();
  result.repaid_debt = std::min(debt, c.points);
  auto lot = tx.Exec(store::kInsertLot, c.tenant_id, c.member_id, c.source_partner_id, c.point_type, c.points,
                     c.points - result.repaid_debt, earned, db::Nullable(expires_micros),
                     db::Nullable(OptNum(c.accrual_id)));
  result.lot_id = lot[0][0].as<std::int64_t>();
  tx.Exec(store::kCreditBalance, c.tenant_id, c.member_id, result.repaid_debt, c.points);
  tx.Exec(store::kInsertLedger, c.tenant_id, c.member_id, c.ledger_kind, c.points,
          std::to_string(c.source_partner_id), std::to_string(result.lot_id), c.ref,
          core::FormatRfc3339(c.at));
  return result;
}

std::int64_t Available(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id, core::Instant now) {
  return tx.Exec(store::kAvailable, tenant_id, member_id, core::FormatRfc3339(now))[0][0].as<std::int64_t>();
}

std::vector<BalanceOutcome> Balances(db::Tx& tx, const std::vector<const BalanceQuery*>& queries) {
  std::vector<std::int64_t> tenants;
  std::vector<std::int64_t> members;
  std::vector<std::int64_t> ats;
  for (const auto* q : queries) {
    tenants.push_back(q->tenant_id);
    members.push_back(q->member_id);
    ats.push_back(core::ToUnixMicros(q->at));
  }
  struct Sums {
    bool found = false;
    std::int64_t lifetime = 0;
    std::int64_t debt = 0;
    std::string tier;
    std::map<std::string, std::int64_t> by_source;
    std::map<std::int64_t, std::int64_t> by_expiry;  // µs since the epoch -> points
    std::int64_t live = 0;
  };
  std::vector<Sums> sums(queries.size());
  for (const auto& r :
       tx.Exec(store::kBalances, ArrayLiteral(tenants), ArrayLiteral(members), ArrayLiteral(ats))) {
    auto& s = sums.at(r[0].as<std::size_t>() - 1);
    if (!s.found) {
      s.found = true;
      s.lifetime = r[1].as<std::int64_t>();
      s.debt = r[2].as<std::int64_t>();
      s.tier = r[3].as<std::string>();
    }
    if (r[4].is_null()) continue;
    const auto points = r[6].as<std::int64_t>();
    s.by_source[r[4].as<std::string>()] += points;
    if (!r[5].is_null()) s.by_expiry[r[5].as<std::int64_t>()] += points;
    s.live += points;
  }
  std::vector<BalanceOutcome> out(queries.size());
  for (std::size_t k = 0; k < queries.size(); ++k) {
    const auto& q = *queries[k];
    auto& s = sums[k];
    if (!s.found) {
      out[k].error = std::make_exception_ptr(
          core::DomainError(core::ErrorCode::kNotFound, "No member " + std::to_string(q.member_id)));
      continue;
    }
    json expiring = json::array();
    for (const auto& [micros, points] : s.by_expiry) {
      expiring.push_back(
          {{"expires_at", core::FormatRfc3339(core::FromUnixMicros(micros))}, {"points", points}});
    }
    out[k].body = {{"member_id", q.member_id},
                   {"available", s.live - s.debt},
                   {"by_source", std::move(s.by_source)},
                   {"lifetime", s.lifetime},
                   {"debt", s.debt},
                   {"tier", std::move(s.tier)},
                   {"expiring", std::move(expiring)},
                   {"as_of", core::FormatRfc3339(q.at)}};
  }
  return out;
}

json Ledger(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id, std::optional<std::int64_t> after,
            int limit, std::optional<std::int64_t> source_partner_id) {
  auto rows = tx.Exec(store::kLedgerPage, tenant_id, member_id, db::Nullable(OptNum(after)),
                      db::Nullable(OptNum(source_partner_id)), limit + 1);
  return http::Page(rows, limit, [](const pqxx::row& r) -> json {
    return {{"seq", r[0].as<std::int64_t>()},
            {"at", core::FormatRfc3339(core::FromUnixMicros(r[1].as<std::int64_t>()))},
            {"kind", r[2].as<std::string>()},
            {"points", r[3].as<std::int64_t>()},
            {"source", r[4].is_null() ? json(nullptr) : json(r[4].as<std::string>())},
            {"ref", r[5].as<std::string>()}};
  });
}

}  // namespace unipoints::lots

namespace unipoints::lots {
LiveLot ReadLiveLot(const pqxx::row& r, int at) {
  LiveLot lot;
  lot.id = r[at].as<std::int64_t>();
  lot.source_partner_id = r[at + 1].as<std::int64_t>();
  lot.source_code = r[at + 2].as<std::string>();
  lot.remaining = r[at + 3].as<std::int64_t>();
  if (!r[at + 4].is_null()) lot.expires_at = core::FromUnixMicros(r[at + 4].as<std::int64_t>());
  lot.point_type = r[at + 5].as<std::string>();
  lot.earned_at = core::FromUnixMicros(r[at + 6].as<std::int64_t>());
  return lot;
}

std::vector<LiveLot> LockLiveLots(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                                  core::Instant now) {
  std::vector<LiveLot> lots;
  for (const auto& r : tx.Exec(store::kLockLiveLots, tenant_id, member_id, core::FormatRfc3339(now))) {
    lots.push_back(ReadLiveLot(r, 0));
  }
  return lots;
}

std::vector<Piece> PlanTake(std::vector<LiveLot>& lots, std::optional<std::int64_t> source_partner_id,
                            std::int64_t points) {
  std::vector<Piece> pieces;
  for (auto& lot : lots) {
    if (points == 0) break;
    if (lot.remaining == 0 || (source_partner_id && lot.source_partner_id != *source_partner_id)) continue;
    const auto take = std::min(points, lot.remaining);
    lot.remaining -= take;
    points -= take;
    pieces.push_back(Piece{lot.id, lot.source_partner_id, lot.source_code, take});
  }
  return pieces;
}

void ApplyTake(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id, const std::vector<Piece>& pieces,
               const std::string& ref) {
  if (pieces.empty()) return;
  std::vector<std::int64_t> ids, sources, amounts;
  std::int64_t total = 0;
  for (const auto& p : pieces) {
    ids.push_back(p.lot_id);
    sources.push_back(p.source_partner_id);
    amounts.push_back(p.points);
    total += p.points;
  }
  tx.Exec(store::kTakeFromLots, tenant_id, ArrayLiteral(ids), ArrayLiteral(amounts));
  tx.Exec(store::kRecordConsumptions, tenant_id, ref, ArrayLiteral(ids), ArrayLiteral(sources),
          ArrayLiteral(amounts));
  MoveTotals(tx, tenant_id, member_id, -total, 0, 0);
}

std::vector<Piece> Restore(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                           const std::string& ref) {
  std::vector<Piece> pieces;
  std::int64_t total = 0;
  for (const auto& r : tx.Exec(store::kRestoreConsumptions, tenant_id, ref)) {
    pieces.push_back(Piece{r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<std::string>(),
                           r[3].as<std::int64_t>()});
    total += pieces.back().points;
  }
  MoveTotals(tx, tenant_id, member_id, total, 0, 0);
  return pieces;
}

std::pair<std::int64_t, std::int64_t> Totals(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id) {
  auto r = tx.Exec(store::kTotals, tenant_id, member_id);
  return {r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>()};
}

std::pair<std::int64_t, std::int64_t> MoveTotals(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                                                 std::int64_t held_delta, std::int64_t debt_delta,
                                                 std::int64_t lifetime_delta) {
  auto r = tx.Exec(store::kMoveHeld, tenant_id, member_id, held_delta, debt_delta, lifetime_delta);
  return {r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>()};
}

std::int64_t CopyLot(db::Tx& tx, std::int64_t tenant_id, std::int64_t lot_id, std::int64_t to_member_id,
                     std::int64_t points) {
  return tx.Exec(store::kCopyLot, tenant_id, lot_id, to_member_id, points)[0][0].as<std::int64_t>();
}

void WriteLedger(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id, const std::string& kind,
                 std::int64_t points, std::optional<std::int64_t> source_partner_id,
                 std::optional<std::int64_t> lot_id, const std::string& ref, core::Instant at) {
  tx.Exec(store::kInsertLedger, tenant_id, member_id, kind, points, db::Nullable(OptNum(source_partner_id)),
          db::Nullable(OptNum(lot_id)), ref, core::FormatRfc3339(at));
}

nlohmann::json BySource(const std::vector<Piece>& pieces) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& p : pieces) {
    out[p.source_code] = out.value(p.source_code, std::int64_t{0}) + p.points;
  }
  return out;
}

}  // namespace unipoints::lots
