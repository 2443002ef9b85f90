#pragma once
// Who is calling: the tenant, role and (for partner keys) partner of an authenticated API key.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace unipoints::tenancy {

enum class Role { kPlatform, kAdmin, kPartner, kAgent, kFinance };

std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);  // admin, partner, agent, finance

// A key's rate limit (a token bucket): `burst` requests at once, `per_second` sustained.
struct RateLimit {
  int per_second = 0;
  int burst = 0;
  bool operator==(const RateLimit&) const = default;
};

struct Principal {
  Role role = Role::kAdmin;
  std::int64_t tenant_id = 0;
  std::int64_t key_id = 0;
  std::optional<std::int64_t> partner_id;  // set for partner keys
  std::string partner_code;
  std::string time_zone;
  std::string currency;
  int minor_units = 2;
  std::optional<RateLimit> rate_limit;  // none: unlimited (the default)

  // Idempotency scope: ids of a partner key are unique per partner, others per tenant.
  std::int64_t IdScope() const { return partner_id.value_or(0); }
};

}  // namespace unipoints::tenancy
