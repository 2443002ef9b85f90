#pragma once
// Settlement agreements: per ordered partner pair (payer = source of the points, payee = the
// partner who honoured them) an exact price per point, a cycle and an effective date.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "unipoints/core/decimal.hpp"
#include "unipoints/core/page.hpp"
#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::settlement {

struct AgreementInput {
  std::string payer, payee, cycle;
  core::Decimal6 price_per_point;
  std::optional<core::Instant> effective_from;  // default: now
};

AgreementInput ParseAgreement(const nlohmann::json& body, http::Fields& f);
// A new effective-dated version; 201 body. The same (pair, effective_from) again is 409.
nlohmann::json PutAgreement(db::Tx& tx, const tenancy::Principal& who, const AgreementInput& in,
                            core::Instant now);
// Every version, by pair and date; a partner key sees the agreements it is party to.
// {items, next}: a page of the agreements `who` may see, by pair and start.
nlohmann::json ListAgreements(db::Tx& tx, const tenancy::Principal& who, const core::PageRequest& page = {});

// The price in force for payer → payee at `at`, or nullopt.
std::optional<core::Decimal6> PriceInForce(db::Tx& tx, std::int64_t tenant_id, std::int64_t payer_id,
                                           std::int64_t payee_id, core::Instant at);

}  // namespace unipoints::settlement
