#include "unipoints/tenancy/principal.hpp"

namespace unipoints::tenancy {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kPlatform:
      return "platform";
    case Role::kAdmin:
      return "admin";
    case Role::kPartner:
      return "partner";
    case Role::kAgent:
      return "agent";
    case Role::kFinance:
      return "finance";
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "partner") return Role::kPartner;
  if (name == "agent") return Role::kAgent;
  if (name == "finance") return Role::kFinance;
  return std::nullopt;
}

}  // namespace unipoints::tenancy
