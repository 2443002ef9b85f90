#include "unipoints/settlement/agreement_service.hpp"

#include "agreement_store.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/tenancy/tenancy_service.hpp"

namespace unipoints::settlement {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;

}  // namespace

AgreementInput ParseAgreement(const json& body, http::Fields& f) {
  AgreementInput in;
  in.payer = f.Str("payer", 32);
  in.payee = f.Str("payee", 32);
  if (!in.payer.empty() && in.payer == in.payee) f.Error("payee", "must differ from payer");
  const auto* price = f.Raw("price_per_point");
  if (price == nullptr) {
    f.Error("price_per_point", "is required, a decimal string such as \"0.010000\"");
  } else if (!price->is_string()) {
    f.Error("price_per_point", "must be a decimal string with at most 6 places, e.g. \"0.010000\"");
  } else {
    auto parsed = core::Decimal6::Parse(price->get<std::string>());
    if (!parsed || parsed->micros < 0 || parsed->micros > 1'000'000LL * 1'000'000LL) {
      f.Error("price_per_point", "must be a decimal from 0 to 1000000 with at most 6 places");
    } else {
      in.price_per_point = *parsed;
    }
  }
  in.cycle =
      f.OptEnum("cycle", {"monthly", "bimonthly", "bi-monthly", "quarterly", "yearly"}).value_or("monthly");
  if (in.cycle == "bi-monthly") in.cycle = "bimonthly";  // DOMAIN.md's spelling, stored as the API's
  in.effective_from = f.OptTime("effective_from");
  (void)body;
  return in;
}

json PutAgreement(db::Tx& tx, const tenancy::Principal& who, const AgreementInput& in, core::Instant now) {
  const auto payer = tenancy::GetPartner(tx, who.tenant_id, in.payer, "payer");
  const auto payee = tenancy::GetPartner(tx, who.tenant_id, in.payee, "payee");
  const auto from = in.effective_from.value_or(now);
  // A version reprices the lines booked from its start: none of them may be in a final run.
  tx.Exec(store::kLockAgreementsExclusive, static_cast<int>(who.tenant_id % 2147483647));
  if (auto last = tx.ExecOne(store::kLatestFinalEnd, who.tenant_id)) {
    const auto end = core::FromUnixMicros((*last)[1].as<std::int64_t>());
    if (from < end) {
      throw DomainError(ErrorCode::kPeriodFinal,
                        "Settlement period " + (*last)[0].as<std::string>() +
                            " is final and its lines stay priced as settled; a new agreement version can"
                            " take effect from " +
                            core::FormatRfc3339(end) + " on",
                        {{"effective_from", "must not be before " + core::FormatRfc3339(end)}});
    }
  }
  auto r = tx.Exec(store::kInsertAgreement, who.tenant_id, payer.id, payee.id, in.price_per_point.ToString(),
                   in.cycle, core::FormatRfc3339(from));
  if (r.empty()) {
    throw DomainError(ErrorCode::kAlreadyExists,
                      "An agreement " + in.payer + " -> " + in.payee + " from " + core::FormatRfc3339(from) +
                          " exists; versions are never edited, give another effective_from",
                      {{"effective_from", "a version from this instant exists"}});
  }
  return {{"id", r[0][0].as<std::int64_t>()},
          {"payer", payer.code},
          {"payee", payee.code},
          {"price_per_point", in.price_per_point.ToString()},
          {"cycle", in.cycle},
          {"effective_from", core::FormatRfc3339(from)}};
}

json ListAgreements(db::Tx& tx, const tenancy::Principal& who, const core::PageRequest& page) {
  std::optional<std::string> partner =
      who.partner_id ? std::optional(std::to_string(*who.partner_id)) : std::nullopt;
  json items = json::array();
  for (const auto& r : tx.Exec(store::kListAgreements, who.tenant_id, db::Nullable(partner),
                               db::Nullable(db::OptNumber(page.after)), page.limit + 1)) {
    items.push_back({{"id", r[0].as<std::int64_t>()},
                     {"payer", r[1].as<std::string>()},
                     {"payee", r[2].as<std::string>()},
                     {"price_per_point", r[3].as<std::string>()},
                     {"cycle", r[4].as<std::string>()},
                     {"effective_from", core::FormatRfc3339(core::FromUnixMicros(r[5].as<std::int64_t>()))},
                     {"created_at", core::FormatRfc3339(core::FromUnixMicros(r[6].as<std::int64_t>()))}});
  }
  return core::PageOf(std::move(items), page.limit, "id");
}

std::optional<core::Decimal6> PriceInForce(db::Tx& tx, std::int64_t tenant_id, std::int64_t payer_id,
                                           std::int64_t payee_id, core::Instant at) {
  auto row = tx.ExecOne(store::kAgreementInForce, tenant_id, payer_id, payee_id, core::FormatRfc3339(at));
  if (!row) return std::nullopt;
  return core::Decimal6::Parse((*row)[1].as<std::string>());
}

}  // namespace unipoints::settlement
