#include "unipoints/tenancy/tenancy_routes.hpp"

#include <algorithm>

#include "unipoints/core/crypto.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/core/page.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/tenancy/rate_limiter.hpp"
#include "unipoints/tenancy/tenancy_service.hpp"

namespace unipoints::tenancy {
namespace {

namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using core::DomainError;
using core::ErrorCode;
using nlohmann::json;

// `rate_limit`: absent or null (unlimited), or {per_second, burst}; burst defaults to per_second.
std::optional<RateLimit> ParseRateLimit(http::Fields& f) {
  const auto* raw = f.Raw("rate_limit");
  if (raw == nullptr || raw->is_null()) return std::nullopt;
  if (!raw->is_object()) {
    f.Error("rate_limit", "must be an object {per_second, burst} or null");
    return std::nullopt;
  }
  http::Fields r(*raw, f.Path("rate_limit"));
  const auto per_second = r.Int("per_second", 1, 1'000'000);
  const auto burst = r.OptInt("burst", 1, 10'000'000).value_or(per_second);
  const bool ok = r.ok();
  f.Absorb(r.TakeErrors());
  if (!ok) return std::nullopt;
  return RateLimit{static_cast<int>(per_second), static_cast<int>(burst)};
}

}  // namespace

http::Authenticator MakeAuthenticator(db::Database& db, const config::Config& config, KeyCache* cache) {
  auto limiter = std::make_shared<RateLimiter>();
  return [&db, &config, cache, limiter](const http::Request& req,
                                        const http::Route& route) -> asio::awaitable<Principal> {
    if (req.raw.count(boost::beast::http::field::authorization) > 1) {
      throw DomainError(ErrorCode::kUnauthorized, "Send one Authorization header, not several");
    }
    auto header = req.Header("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), header.begin(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      throw DomainError(ErrorCode::kUnauthorized, "Send Authorization: Bearer <key>");
    }
    std::string key(header.substr(kBearer.size()));
    while (!key.empty() && key.back() == ' ') key.pop_back();
    const auto& roles = route.roles;
    const bool platform_route = std::find(roles.begin(), roles.end(), Role::kPlatform) != roles.end();
    if (!config.platform_key.empty() && core::ConstantTimeEquals(key, config.platform_key)) {
      if (!platform_route) throw DomainError(ErrorCode::kForbidden, "The platform key only creates tenants");
      Principal p;
      p.role = Role::kPlatform;
      co_return p;
    }
    auto id = IdentifyKey(key);
    if (!id) throw DomainError(ErrorCode::kUnauthorized, "Unknown or revoked key");
    std::optional<Principal> principal = cache != nullptr ? cache->Get(id->hash) : std::nullopt;
    if (!principal) {
      const auto generation = cache != nullptr ? cache->Generation() : 0;
      principal = co_await db.Read([&id](db::Tx& tx) { return Authenticate(tx, *id); });
      if (!principal) throw DomainError(ErrorCode::kUnauthorized, "Unknown or revoked key");
      if (cache != nullptr) cache->Put(id->hash, *principal, generation);
    }
    if (std::find(roles.begin(), roles.end(), principal->role) == roles.end()) {
      throw DomainError(ErrorCode::kForbidden,
                        "A " + std::string(RoleName(principal->role)) + " key may not call " + route.pattern);
    }
    // Checked after the key and its role: a refused request (like any 429) does not use up its id.
    if (const auto& limit = principal->rate_limit) {
      if (const auto wait = limiter->Admit(principal->key_id, *limit, RateLimiter::Clock::now())) {
        throw DomainError(ErrorCode::kRateLimited,
                          "Key " + std::to_string(principal->key_id) + " may make " +
                              std::to_string(limit->per_second) + " requests a second (" +
                              std::to_string(limit->burst) + " at once); retry in " + std::to_string(wait) +
                              " s",
                          {}, {{"retry_after", wait}});
      }
    }
    co_return *principal;
  };
}

void RegisterTenancyRoutes(http::Router& router, db::Database& db, const config::Config& config,
                           KeyCache* cache) {
  const std::vector<Role> kAdmin{Role::kAdmin};
  const std::vector<Role> kAnyRole{Role::kAdmin, Role::kPartner, Role::kAgent, Role::kFinance};

  router.Add(
      verb::post, "/v1/tenants", {Role::kPlatform}, "Create a tenant (alliance) and its first admin key",
      [&db](http::Request& req) -> asio::awaitable<http::Response> {
        auto body = http::ParseJsonObject(req);
        http::Fields f(body);
        NewTenant t{f.Str("code", 32), f.Str("name", 200), f.Str("currency", 3), f.Str("time_zone", 64)};
        f.Done();
        auto [tenant, key] = co_await db.Run([&t](db::Tx& tx) { return CreateTenant(tx, t); });
        co_return http::JsonResponse(status::created, {{"tenant", ToJson(tenant)}, {"admin_key", key.key}});
      });

  router.Add(verb::get, "/v1/tenant", kAnyRole, "The caller's tenant",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               auto id = req.who().tenant_id;
               auto t = co_await db.Run([id](db::Tx& tx) { return GetTenant(tx, id); });
               co_return http::JsonResponse(status::ok, ToJson(t));
             });

  router.Add(verb::post, "/v1/partners", kAdmin, "Create a partner",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto code = f.Str("code", 32);
               auto name = f.Str("name", 200);
               auto kind = f.Enum("kind", {"telecom", "retail", "other"});
               f.Done();
               auto tenant = req.who().tenant_id;
               auto p =
                   co_await db.Run([&](db::Tx& tx) { return CreatePartner(tx, tenant, code, name, kind); });
               co_return http::JsonResponse(status::created, ToJson(p));
             });

  router.Add(verb::get, "/v1/partners", kAnyRole, "List the tenant's partners (in code order, paged)",
             [&db, &config](http::Request& req) -> asio::awaitable<http::Response> {
               auto tenant = req.who().tenant_id;
               const int limit = http::ListLimit(req, config.max_list_limit);
               const auto after = http::ListCursor(req);
               auto list = co_await db.Run(
                   [tenant, after, limit](db::Tx& tx) { return ListPartners(tx, tenant, after, limit + 1); });
               json items = json::array();
               for (const auto& p : list) items.push_back(ToJson(p));
               co_return http::JsonResponse(status::ok, core::PageOf(std::move(items), limit, "id"));
             });

  router.Add(verb::get, "/v1/partners/{code}", kAnyRole, "One partner",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               auto tenant = req.who().tenant_id;
               auto code = req.Param("code");
               auto p = co_await db.Run([&](db::Tx& tx) { return GetPartner(tx, tenant, code); });
               co_return http::JsonResponse(status::ok, ToJson(p));
             });

  router.Add(verb::post, "/v1/keys", kAdmin, "Create an API key (shown once)",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               auto role_name = f.Enum("role", {"admin", "partner", "agent", "finance"});
               auto partner_code = f.OptStr("partner", 32);
               auto label = f.OptStr("label", 200).value_or("");
               auto rate_limit = ParseRateLimit(f);
               if (role_name == "partner" && !partner_code)
                 f.Error("partner", "is required for a partner key");
               if (role_name != "partner" && partner_code && !role_name.empty()) {
                 f.Error("partner", "only partner keys belong to a partner");
               }
               f.Done();
               auto tenant = req.who().tenant_id;
               auto role = *ParseRole(role_name);
               auto result = co_await db.Run([&](db::Tx& tx) {
                 std::optional<std::int64_t> partner_id;
                 if (partner_code) partner_id = GetPartner(tx, tenant, *partner_code, "partner").id;
                 return CreateKey(tx, tenant, role, partner_id, label, rate_limit);
               });
               json out = {{"id", result.id}, {"key", result.key}, {"role", role_name}, {"label", label}};
               out["partner"] = partner_code ? json(*partner_code) : json(nullptr);
               out["rate_limit"] = ToJson(rate_limit);
               co_return http::JsonResponse(status::created, out);
             });

  router.Add(verb::get, "/v1/keys", kAdmin, "List API keys (never the secrets; in id order, paged)",
             [&db, &config](http::Request& req) -> asio::awaitable<http::Response> {
               auto tenant = req.who().tenant_id;
               const int limit = http::ListLimit(req, config.max_list_limit);
               const auto after = http::ListCursor(req);
               auto keys = co_await db.Run(
                   [tenant, after, limit](db::Tx& tx) { return ListKeys(tx, tenant, after, limit + 1); });
               co_return http::JsonResponse(status::ok, core::PageOf(json(std::move(keys)), limit, "id"));
             });

  router.Add(verb::patch, "/v1/keys/{id}", kAdmin, "Set or lift a key's rate limit",
             [&db, cache](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               http::Fields f(body);
               // Here null is a value (lift the limit), not an absent field.
               if (!body.contains("rate_limit")) {
                 f.Error("rate_limit", "is required ({per_second, burst}, or null to lift the limit)");
               }
               auto rate_limit = ParseRateLimit(f);
               f.Done();
               auto tenant = req.who().tenant_id;
               auto id = http::IdParam(req, "id");
               auto key = co_await db.Run([&](db::Tx& tx) {
                 SetKeyRateLimit(tx, tenant, id, rate_limit);
                 for (auto& k : ListKeys(tx, tenant, id - 1, 1)) {
                   if (k["id"] == id) return k;
                 }
                 throw std::runtime_error("a key vanished while its limit was set");
               });
               // This process forgets its cached keys before it answers; the others on the notification.
               if (cache != nullptr) cache->Clear();
               co_return http::JsonResponse(status::ok, key);
             });

  router.Add(verb::delete_, "/v1/keys/{id}", kAdmin, "Revoke an API key",
             [&db, cache](http::Request& req) -> asio::awaitable<http::Response> {
               auto tenant = req.who().tenant_id;
               auto id = http::IdParam(req, "id");
               co_await db.Run([tenant, id](db::Tx& tx) { RevokeKey(tx, tenant, id); });
               // This process forgets the key before it answers; the others on the notification.
               if (cache != nullptr) cache->Clear();
               co_return http::JsonResponse(status::ok, {{"id", id}, {"revoked", true}});
             });

  router.Add(verb::put, "/v1/policy", kAdmin, "Set the points policy (expiry, carry-over)",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               auto body = http::ParseJsonObject(req);
               auto tenant = req.who().tenant_id;
               auto out = co_await db.Run([&](db::Tx& tx) { return PutPolicy(tx, tenant, body); });
               co_return http::JsonResponse(status::ok, out);
             });

  router.Add(verb::get, "/v1/policy", kAnyRole, "The points policy",
             [&db](http::Request& req) -> asio::awaitable<http::Response> {
               auto tenant = req.who().tenant_id;
               auto out = co_await db.Run([tenant](db::Tx& tx) { return GetPolicy(tx, tenant); });
               co_return http::JsonResponse(status::ok, out);
             });
  (void)config;
}

}  // namespace unipoints::tenancy
