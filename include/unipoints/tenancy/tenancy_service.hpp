#pragma once
// Tenants, partners, API keys and the points policy: the rules, without SQL or JSON.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "unipoints/db/database.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::tenancy {

struct Tenant {
  std::int64_t id = 0;
  std::string code, name, currency, time_zone, created_at;
  int minor_units = 2;
};
nlohmann::json ToJson(const Tenant& t);

struct Partner {
  std::int64_t id = 0;
  std::string code, name, kind, status, created_at;
};
nlohmann::json ToJson(const Partner& p);

struct NewTenant {
  std::string code, name, currency, time_zone;
};

struct CreatedKey {
  std::int64_t id;
  std::string key;  // shown once
};

// Validates and creates a tenant with its first admin key. Throws DomainError.
std::pair<Tenant, CreatedKey> CreateTenant(db::Tx& tx, const NewTenant& t);
Tenant GetTenant(db::Tx& tx, std::int64_t tenant_id);
std::optional<Tenant> FindTenantByCode(db::Tx& tx, const std::string& code);

Partner CreatePartner(db::Tx& tx, std::int64_t tenant_id, const std::string& code, const std::string& name,
                      const std::string& kind);
// Partners in code order, at most `limit` after the one whose id is `after`.
std::vector<Partner> ListPartners(db::Tx& tx, std::int64_t tenant_id, std::optional<std::int64_t> after,
                                  int limit);
// 404 when unknown, or 422 unknown_partner with `field` when `field` is given.
Partner GetPartner(db::Tx& tx, std::int64_t tenant_id, const std::string& code, const char* field = nullptr);

CreatedKey CreateKey(db::Tx& tx, std::int64_t tenant_id, Role role, std::optional<std::int64_t> partner_id,
                     const std::string& label, const std::optional<RateLimit>& rate_limit = std::nullopt);
void RevokeKey(db::Tx& tx, std::int64_t tenant_id, std::int64_t key_id);
// Sets or (nullopt) lifts a live key's rate limit; every server process forgets its cached keys.
void SetKeyRateLimit(db::Tx& tx, std::int64_t tenant_id, std::int64_t key_id,
                     const std::optional<RateLimit>& rate_limit);
// Keys in id order, at most `limit` with ids above `after`.
std::vector<nlohmann::json> ListKeys(db::Tx& tx, std::int64_t tenant_id, std::optional<std::int64_t> after,
                                     int limit);
// null, or {"per_second", "burst"}.
nlohmann::json ToJson(const std::optional<RateLimit>& rate_limit);

// The bearer key → principal, or nullopt when unknown or revoked.
std::optional<Principal> Authenticate(db::Tx& tx, const std::string& bearer);

// A well-formed key's tenant and SHA-256 (hex): what is stored and what the cache is keyed by.
struct KeyId {
  std::int64_t tenant_id = 0;
  std::string hash;
};
std::optional<KeyId> IdentifyKey(const std::string& bearer);
std::optional<Principal> Authenticate(db::Tx& tx, const KeyId& key);

// Defaults while a tenant has set no policy (the same as the schema's column defaults).
inline constexpr std::int64_t kDefaultCancelWindowHours = 72;
inline constexpr std::int64_t kDefaultApprovalThreshold = 1000;

// Points policy. The body is validated and stored; lots earned afterwards are stamped with it.
nlohmann::json PutPolicy(db::Tx& tx, std::int64_t tenant_id, const nlohmann::json& body);
nlohmann::json GetPolicy(db::Tx& tx, std::int64_t tenant_id);

}  // namespace unipoints::tenancy
