#include "unipoints/tenancy/tenancy_service.hpp"

#include <regex>

#include "tenancy_store.hpp"
#include "unipoints/core/crypto.hpp"
#include "unipoints/core/currency.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/http/fields.hpp"

namespace unipoints::tenancy {
namespace {

using core::DomainError;
using core::ErrorCode;

// One column of an optional rate limit, as a statement parameter (NULL when unlimited).
std::optional<std::string> RateColumn(const std::optional<RateLimit>& limit, int RateLimit::*field) {
  if (!limit) return std::nullopt;
  return std::to_string((*limit).*field);
}
using nlohmann::json;

// Keys look like "upk_<tenant id>_<64 hex>"; only the SHA-256 of the whole key is stored.
constexpr std::string_view kKeyPrefix = "upk_";

bool ValidCode(const std::string& code) {
  static const std::regex kCode("^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$");
  return std::regex_match(code, kCode);
}

Tenant TenantFromRow(const pqxx::row& r) {
  return Tenant{r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(),
                r[3].as<std::string>(),  r[5].as<std::string>(), r[6].as<std::string>(),
                r[4].as<int>()};
}

Partner PartnerFromRow(const pqxx::row& r) {
  return Partner{r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(),
                 r[3].as<std::string>(),  r[4].as<std::string>(), r[5].as<std::string>()};
}

json ExpiryToJson(const std::string& kind, int n) {
  json j = {{"kind", kind}};
  if (kind != "never") j["n"] = n;
  return j;
}

// Validates {kind, n}; returns (kind, n).
std::pair<std::string, int> ParseExpiry(http::Fields& parent, const char* key, const json* v) {
  if (v == nullptr) {
    parent.Error(key, "is required");
    return {"never", 0};
  }
  http::Fields f(*v, parent.Path(key));
  auto kind = f.Enum("kind", {"calendar_years", "months", "never"});
  int n = 0;
  if (kind == "calendar_years") n = static_cast<int>(f.Int("n", 1, 100));
  if (kind == "months") n = static_cast<int>(f.Int("n", 1, 1200));
  if (kind == "never" && f.Has("n")) f.OptInt("n", 0, 0);
  parent.Absorb(f.TakeErrors());
  return {kind, n};
}

}  // namespace

json ToJson(const Tenant& t) {
  return {{"id", t.id},
          {"code", t.code},
          {"name", t.name},
          {"currency", t.currency},
          {"minor_units", t.minor_units},
          {"time_zone", t.time_zone},
          {"created_at", t.created_at}};
}

json ToJson(const Partner& p) {
  return {{"id", p.id},     {"code", p.code},     {"name", p.name},
          {"kind", p.kind}, {"status", p.status}, {"created_at", p.created_at}};
}

std::pair<Tenant, CreatedKey> CreateTenant(db::Tx& tx, const NewTenant& t) {
  std::vector<core::FieldError> errors;
  if (!ValidCode(t.code)) errors.push_back({"code", "must be 1-32 letters, digits, '-' or '_'"});
  if (t.name.empty() || t.name.size() > 400) errors.push_back({"name", "must be 1-200 characters"});
  auto minor = core::CurrencyMinorUnits(t.currency);
  if (!minor) errors.push_back({"currency", "must be an ISO 4217 code such as CNY"});
  if (t.time_zone.empty() || t.time_zone.size() > 64 ||
      !tx.Exec(store::kTimeZoneExists, t.time_zone)[0][0].as<bool>()) {
    errors.push_back({"time_zone", "must be an IANA time zone such as Asia/Shanghai"});
  }
  if (!errors.empty()) {
    throw DomainError(ErrorCode::kValidationFailed, errors.front().field + ": " + errors.front().message,
                      errors);
  }
  auto r = tx.Exec(store::kInsertTenant, t.code, t.name, t.currency, *minor, t.time_zone);
  if (r.empty()) {
    throw DomainError(ErrorCode::kAlreadyExists, "A tenant with code '" + t.code + "' exists",
                      {{"code", "already taken"}});
  }
  Tenant tenant = TenantFromRow(r[0]);
  auto key = CreateKey(tx, tenant.id, Role::kAdmin, std::nullopt, "initial admin key");
  return {tenant, key};
}

Tenant GetTenant(db::Tx& tx, std::int64_t tenant_id) {
  auto row = tx.ExecOne(store::kGetTenant, tenant_id);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No such tenant");
  return TenantFromRow(*row);
}

std::optional<Tenant> FindTenantByCode(db::Tx& tx, const std::string& code) {
  auto row = tx.ExecOne(store::kGetTenantByCode, code);
  if (!row) return std::nullopt;
  return TenantFromRow(*row);
}

Partner CreatePartner(db::Tx& tx, std::int64_t tenant_id, const std::string& code, const std::string& name,
                      const std::string& kind) {
  if (!ValidCode(code)) core::ThrowField("code", "must be 1-32 letters, digits, '-' or '_'");
  auto r = tx.Exec(store::kInsertPartner, tenant_id, code, name, kind);
  if (r.empty()) {
    throw DomainError(ErrorCode::kAlreadyExists, "A partner with code '" + code + "' exists",
                      {{"code", "already taken"}});
  }
  return PartnerFromRow(r[0]);
}

std::vector<Partner> ListPartners(db::Tx& tx, std::int64_t tenant_id, std::optional<std::int64_t> after,
                                  int limit) {
  std::vector<Partner> out;
  for (const auto& row :
       tx.Exec(store::kListPartners, tenant_id, db::Nullable(db::OptNumber(after)), limit)) {
    out.push_back(PartnerFromRow(row));
  }
  return out;
}

Partner GetPartner(db::Tx& tx, std::int64_t tenant_id, const std::string& code, const char* field) {
  auto row = tx.ExecOne(store::kGetPartner, tenant_id, code);
  if (!row) {
    if (field != nullptr) {
      throw DomainError(ErrorCode::kUnknownPartner, "No partner '" + code + "'",
                        {{field, "unknown partner"}});
    }
    throw DomainError(ErrorCode::kNotFound, "No partner '" + code + "'");
  }
  return PartnerFromRow(*row);
}

CreatedKey CreateKey(db::Tx& tx, std::int64_t tenant_id, Role role, std::optional<std::int64_t> partner_id,
                     const std::string& label, const std::optional<RateLimit>& rate_limit) {
  std::string key = std::string(kKeyPrefix) + std::to_string(tenant_id) + "_" + core::RandomHex(32);
  std::optional<std::string> partner = partner_id ? std::optional(std::to_string(*partner_id)) : std::nullopt;
  auto r = tx.Exec(store::kInsertKey, tenant_id, std::string(RoleName(role)), db::Nullable(partner), label,
                   core::Sha256Hex(key), db::Nullable(RateColumn(rate_limit, &RateLimit::per_second)),
                   db::Nullable(RateColumn(rate_limit, &RateLimit::burst)));
  return CreatedKey{r[0][0].as<std::int64_t>(), key};
}

void RevokeKey(db::Tx& tx, std::int64_t tenant_id, std::int64_t key_id) {
  if (tx.Exec(store::kRevokeKey, tenant_id, key_id).empty()) {
    throw DomainError(ErrorCode::kNotFound, "No key " + std::to_string(key_id));
  }
  // Every server process empties its key cache when this commits.
  tx.Exec(store::kNotifyKeys);
}

void SetKeyRateLimit(db::Tx& tx, std::int64_t tenant_id, std::int64_t key_id,
                     const std::optional<RateLimit>& rate_limit) {
  if (tx.Exec(store::kSetKeyRate, tenant_id, key_id,
              db::Nullable(RateColumn(rate_limit, &RateLimit::per_second)),
              db::Nullable(RateColumn(rate_limit, &RateLimit::burst)))
          .empty()) {
    throw DomainError(ErrorCode::kNotFound, "No live key " + std::to_string(key_id));
  }
  tx.Exec(store::kNotifyKeys);
}

json ToJson(const std::optional<RateLimit>& rate_limit) {
  if (!rate_limit) return nullptr;
  return {{"per_second", rate_limit->per_second}, {"burst", rate_limit->burst}};
}

std::vector<json> ListKeys(db::Tx& tx, std::int64_t tenant_id, std::optional<std::int64_t> after, int limit) {
  std::vector<json> out;
  for (const auto& r : tx.Exec(store::kListKeys, tenant_id, db::Nullable(db::OptNumber(after)), limit)) {
    json k = {{"id", r[0].as<std::int64_t>()},
              {"role", r[1].as<std::string>()},
              {"label", r[3].as<std::string>()},
              {"created_at", r[4].as<std::string>()}};
    k["partner"] = r[2].is_null() ? json(nullptr) : json(r[2].as<std::string>());
    k["revoked_at"] = r[5].is_null() ? json(nullptr) : json(r[5].as<std::string>());
    k["rate_limit"] = r[6].is_null() ? json(nullptr) : ToJson(RateLimit{r[6].as<int>(), r[7].as<int>()});
    out.push_back(std::move(k));
  }
  return out;
}

std::optional<KeyId> IdentifyKey(const std::string& bearer) {
  if (bearer.size() > 200 || bearer.rfind(kKeyPrefix, 0) != 0) return std::nullopt;
  auto rest = std::string_view(bearer).substr(kKeyPrefix.size());
  auto underscore = rest.find('_');
  if (underscore == std::string_view::npos || underscore == 0 || underscore > 18) return std::nullopt;
  std::int64_t tenant_id = 0;
  for (char c : rest.substr(0, underscore)) {
    if (c < '0' || c > '9') return std::nullopt;
    tenant_id = tenant_id * 10 + (c - '0');
  }
  return KeyId{tenant_id, core::Sha256Hex(bearer)};
}

std::optional<Principal> Authenticate(db::Tx& tx, const std::string& bearer) {
  auto key = IdentifyKey(bearer);
  if (!key) return std::nullopt;
  return Authenticate(tx, *key);
}

std::optional<Principal> Authenticate(db::Tx& tx, const KeyId& key) {
  const auto tenant_id = key.tenant_id;
  auto row = tx.ExecOne(store::kAuthenticate, tenant_id, key.hash);
  if (!row) return std::nullopt;
  const auto& r = *row;
  Principal p;
  p.tenant_id = tenant_id;
  p.key_id = r[0].as<std::int64_t>();
  p.role = ParseRole(r[1].as<std::string>()).value_or(Role::kAgent);
  if (!r[2].is_null()) p.partner_id = r[2].as<std::int64_t>();
  p.partner_code = r[3].as<std::string>();
  p.time_zone = r[4].as<std::string>();
  p.currency = r[5].as<std::string>();
  p.minor_units = r[6].as<int>();
  if (!r[8].is_null()) p.rate_limit = RateLimit{r[8].as<int>(), r[9].as<int>()};
  if (r[7].as<std::string>() != "active") {
    throw DomainError(ErrorCode::kForbidden, "The key's partner is " + r[7].as<std::string>());
  }
  return p;
}

json PutPolicy(db::Tx& tx, std::int64_t tenant_id, const json& body) {
  http::Fields f(body);
  auto [kind, n] = ParseExpiry(f, "expiry", f.Raw("expiry"));
  auto carry = f.OptInt("carry_over_percent", 0, 100).value_or(0);
  auto cancel_window = f.OptInt("cancel_window_hours", 0, 8760).value_or(kDefaultCancelWindowHours);
  auto approval = f.OptInt("adjustment_approval_threshold", 0, INT64_MAX).value_or(kDefaultApprovalThreshold);
  auto consumption = f.OptEnum("consumption", {"earliest_expiry"}).value_or("earliest_expiry");
  json by_type = json::object();
  if (const auto* bt = f.Raw("by_point_type")) {
    if (!bt->is_object()) {
      f.Error("by_point_type", "must be an object of point type to {kind, n}");
    } else {
      for (const auto& [type, spec] : bt->items()) {
        if (type != "consumption" && type != "tenure" && type != "credit" && type != "bonus") {
          f.Error("by_point_type." + type, "must be one of consumption, tenure, credit, bonus");
          continue;
        }
        http::Fields sub(*bt, f.Path("by_point_type"));
        auto [k2, n2] = ParseExpiry(sub, type.c_str(), &spec);
        f.Absorb(sub.TakeErrors());
        by_type[type] = ExpiryToJson(k2, n2);
      }
    }
  }
  f.Done();
  tx.Exec(store::kUpsertPolicy, tenant_id, kind, n, carry, consumption, by_type.dump(), cancel_window,
          approval);
  return GetPolicy(tx, tenant_id);
}

json GetPolicy(db::Tx& tx, std::int64_t tenant_id) {
  auto row = tx.ExecOne(store::kGetPolicy, tenant_id);
  if (!row) {
    return {{"expiry", {{"kind", "never"}}},
            {"carry_over_percent", 0},
            {"consumption", "earliest_expiry"},
            {"by_point_type", json::object()},
            {"cancel_window_hours", kDefaultCancelWindowHours},
            {"adjustment_approval_threshold", kDefaultApprovalThreshold},
            {"updated_at", nullptr}};
  }
  const auto& r = *row;
  return {{"expiry", ExpiryToJson(r[0].as<std::string>(), r[1].as<int>())},
          {"carry_over_percent", r[2].as<int>()},
          {"consumption", r[3].as<std::string>()},
          {"by_point_type", json::parse(r[4].as<std::string>())},
          {"cancel_window_hours", r[6].as<std::int64_t>()},
          {"adjustment_approval_threshold", r[7].as<std::int64_t>()},
          {"updated_at", r[5].as<std::string>()}};
}

}  // namespace unipoints::tenancy
