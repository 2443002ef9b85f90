#include "unipoints/app/verify.hpp"

#include "unipoints/core/error.hpp"
#include "unipoints/tenancy/tenancy_service.hpp"
#include "verify_store.hpp"

namespace unipoints::app {

VerifyReport Verify(db::Database& db, const std::optional<std::string>& tenant_code) {
  return db.RunSync([&tenant_code](db::Tx& tx) {
    tx.work().exec(store::kVerifySnapshot);
    tx.work().exec(store::kVerifyNoTimeout);
    std::optional<std::string> tenant_id;
    if (tenant_code) {
      auto tenant = tenancy::FindTenantByCode(tx, *tenant_code);
      if (!tenant) throw core::DomainError(core::ErrorCode::kNotFound, "No tenant '" + *tenant_code + "'");
      tenant_id = std::to_string(tenant->id);
    }
    VerifyReport report;
    const auto counts = tx.Exec(store::kVerifyCounts, db::Nullable(tenant_id))[0];
    report.members = counts[0].as<std::int64_t>();
    report.lots = counts[1].as<std::int64_t>();
    for (const auto& check : store::kVerifyChecks) {
      auto row = tx.ExecOne(check, db::Nullable(tenant_id));
      if (!row) continue;
      const auto& r = *row;
      report.violation = Violation{r[0].as<std::string>(),
                                   r[1].is_null() ? std::nullopt : std::optional(r[1].as<std::int64_t>()),
                                   r[2].as<std::string>(), r[3].as<std::string>(), r[4].as<std::string>()};
      break;
    }
    return report;
  });
}

std::string Describe(const Violation& v) {
  std::string out = "tenant " + v.tenant;
  if (v.member_id) out += ", member " + std::to_string(*v.member_id);
  return out + ": " + v.what + ": expected " + v.expected + ", found " + v.found;
}

}  // namespace unipoints::app
