#include "unipoints/app/demo.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "unipoints/core/error.hpp"
#include "unipoints/earning/accrual_batch.hpp"
#include "unipoints/earning/rules.hpp"
#include "unipoints/lots/tiers.hpp"
#include "unipoints/members/members_service.hpp"
#include "unipoints/settlement/agreement_service.hpp"
#include "unipoints/spending/redemption_service.hpp"
#include "unipoints/tenancy/tenancy_service.hpp"

namespace unipoints::app {
namespace {

using nlohmann::json;

json ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = json::parse(ss.str(), nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

bool KeysStillWork(db::Tx& tx, const json& keys) {
  if (!keys.is_object() || !keys.contains("keys")) return false;
  for (const auto& [role, key] : keys["keys"].items()) {
    if (!key.is_string() || !tenancy::Authenticate(tx, key.get<std::string>())) return false;
  }
  return keys["keys"].size() == 5;
}

const char* kTelecomRules = R"({
  "rules": [
    {"category": "data", "points_per_unit": 2, "unit_minor": 100, "point_type": "consumption",
     "tier_multipliers": {"gold": "1.5"}},
    {"category": "voice", "points_per_unit": 1, "unit_minor": 100, "point_type": "consumption",
     "tier_multipliers": {"gold": "1.5"}}
  ],
  "promotions": []
})";

const char* kRetailRules = R"({
  "rules": [
    {"category": "purchase", "points_per_unit": 1, "unit_minor": 100, "point_type": "consumption",
     "min_amount_minor": 100, "cap_points": 100000, "tier_multipliers": {"gold": "1.5"}}
  ],
  "promotions": []
})";

const char* const kRewards[] = {
    R"({"code": "DATA1G", "partner": "T", "name": "1GB 流量包 data pack", "price": {"points": 150}})",
    R"({"code": "BILL10", "partner": "T", "name": "10元话费 bill credit", "price": {"options": [{"T": 100}, {"R": 100}]}})",
    R"({"code": "BAG", "partner": "R", "name": "环保购物袋 shopping bag",
        "price": {"options": [{"R": 80}, {"T": 20, "R": 60}]}, "stock": 1000})",
    R"({"code": "VOUCHER50", "partner": "R", "name": "50元购物券 shopping voucher",
        "price": {"options": [{"T": 500}, {"R": 500}, {"T": 500, "R": 500}, {"T": 1000, "R": 500}]}})",
};

constexpr const char* kTiers = R"({"window_months": 12, "cadence": "yearly", "levels": [
    {"code": "normal", "min_points": 0}, {"code": "silver", "min_points": 2000},
    {"code": "gold", "min_points": 10000}, {"code": "diamond", "min_points": 50000}]})";

}  // namespace

json SeedDemo(db::Database& db, const config::Config& config, const std::string& keys_file) {
  const members::MemberService members(config.identity_hash_key);
  const auto now = core::SystemClock().Now();
  earning::RuleCache rule_cache;
  return db.RunSync([&](db::Tx& tx) {
    auto existing_keys = ReadJsonFile(keys_file);
    auto tenant = tenancy::FindTenantByCode(tx, "demo");
    const auto env_file = std::filesystem::path(keys_file).parent_path() / "demo-env.sh";
    // A demo whose keys still work keeps them; what it lacks (added to the demo since it was
    // made, e.g. tiers) is still filled in below.
    const bool reuse = tenant && KeysStillWork(tx, existing_keys) && std::filesystem::exists(env_file);

    if (!tenant) {
      tenant = tenancy::CreateTenant(tx, {"demo", "联盟积分 Demo Alliance", "CNY", "Asia/Shanghai"}).first;
      tenancy::PutPolicy(tx, tenant->id,
                         {{"expiry", {{"kind", "calendar_years"}, {"n", 3}}}, {"carry_over_percent", 0}});
    }
    const auto tid = tenant->id;
    auto partner = [&](const std::string& code, const std::string& name, const std::string& kind) {
      try {
        return tenancy::GetPartner(tx, tid, code);
      } catch (const core::DomainError&) {
        return tenancy::CreatePartner(tx, tid, code, name, kind);
      }
    };
    auto telecom = partner("T", "省电信 Provincial Telecom", "telecom");
    auto retail = partner("R", "华联超市 Regional Retail", "retail");
    if (earning::ListRules(tx, tid, telecom.id, "T")["items"].empty()) {
      earning::PutRules(tx, tid, telecom.id, "T", core::ParseRfc3339("2024-01-01T00:00:00+08:00"),
                        earning::ParseRuleSet(json::parse(kTelecomRules)), now);
      earning::PutRules(tx, tid, retail.id, "R", core::ParseRfc3339("2024-01-01T00:00:00+08:00"),
                        earning::ParseRuleSet(json::parse(kRetailRules)), now);
    }

    // Tiers by points earned over the last 12 months, re-graded every 1 January (Shanghai time).
    if (lots::GetTiers(tx, tid)["levels"].empty()) {
      lots::PutTiers(tx, tid, json::parse(kTiers), now);
    }

    // Cross-redemptions are priced by agreements: T pays R 0.01 CNY per T-point R honours, and
    // R pays T 0.008 CNY per R-point T honours.
    tenancy::Principal admin_who;
    admin_who.role = tenancy::Role::kAdmin;
    admin_who.tenant_id = tid;
    if (settlement::ListAgreements(tx, admin_who)["items"].empty()) {
      for (const auto& [payer, payee, price] :
           {std::tuple{"T", "R", "0.010000"}, std::tuple{"R", "T", "0.008000"}}) {
        settlement::PutAgreement(tx, admin_who,
                                 {payer, payee, "monthly", *core::Decimal6::Parse(price),
                                  core::ParseRfc3339("2024-01-01T00:00:00+08:00")},
                                 now);
      }
    }

    // The catalogue: the alliance's price bands, each reward fulfilled by one partner.
    tenancy::Principal admin;
    admin.role = tenancy::Role::kAdmin;
    admin.tenant_id = tid;
    for (const char* reward : kRewards) {
      const auto body = json::parse(reward);
      try {
        spending::GetReward(tx, admin, body["code"].get<std::string>());
      } catch (const core::DomainError&) {
        http::Fields f(body);
        spending::CreateReward(tx, admin, spending::ParseReward(body, f));
      }
    }
    if (reuse) return existing_keys;

    json keys = {
        {"admin", tenancy::CreateKey(tx, tid, tenancy::Role::kAdmin, std::nullopt, "demo admin").key},
        {"partner_T",
         tenancy::CreateKey(tx, tid, tenancy::Role::kPartner, telecom.id, "demo telecom POS").key},
        {"partner_R", tenancy::CreateKey(tx, tid, tenancy::Role::kPartner, retail.id, "demo retail POS").key},
        {"agent", tenancy::CreateKey(tx, tid, tenancy::Role::kAgent, std::nullopt, "demo agent").key},
        {"finance", tenancy::CreateKey(tx, tid, tenancy::Role::kFinance, std::nullopt, "demo finance").key},
    };

    struct DemoMember {
      const char* name;
      const char* gender;
      const char* id_number;
      const char* phone;
      std::int64_t partner;
    };
    const DemoMember people[] = {
        {"张伟", "male", "110101199003071234", "13800000001", telecom.id},
        {"李娜", "female", "310104198511204321", "13900000002", retail.id},
        {"Wang Fang", "female", "E12345678", "13700000003", telecom.id},
    };
    json member_list = json::array();
    for (const auto& p : people) {
      auto found = members.Search(tx, tid, std::nullopt, std::nullopt, std::string(p.id_number), 1);
      if (!found.empty()) {
        auto profile = members.Profile(tx, tid, found[0]["member_id"].get<std::int64_t>());
        member_list.push_back({{"member_id", profile["member_id"]},
                               {"name", p.name},
                               {"card_no", profile["cards"].back()["card_no"]}});
        continue;
      }
      members::NewMember m{p.name,  p.gender,     "resident_id", p.id_number,
                           p.phone, std::nullopt, std::nullopt,  p.partner};
      auto enrolled = members.Enrol(tx, tid, m, now);
      member_list.push_back(
          {{"member_id", enrolled.member_id}, {"name", p.name}, {"card_no", enrolled.card_no}});
      // A little history: a telecom bill and a supermarket purchase each.
      auto post = [&](const tenancy::Partner& by, const std::string& category, std::int64_t amount) {
        tenancy::Principal who;
        who.role = tenancy::Role::kPartner;
        who.tenant_id = tid;
        who.partner_id = by.id;
        who.partner_code = by.code;
        http::Fields f(json::object());
        earning::AccrualInput in;
        in.event_id = "demo-" + std::to_string(enrolled.member_id) + "-" + by.code + "-" + category;
        in.card_no = enrolled.card_no;
        in.category = category;
        in.amount_minor = amount;
        in.occurred_at = now - std::chrono::hours(24);
        in.canonical = {{"event_id", in.event_id}};
        const earning::AccrualItem item{who, std::move(in)};
        const earning::AccrualItem* one = &item;
        earning::ApplyAccruals(tx, std::span(&one, 1), rule_cache, now);
      };
      post(telecom, "data", 12345);
      post(retail, "purchase", 8800);
    }

    json out = {{"tenant", tenancy::ToJson(*tenant)},
                {"keys", keys},
                {"members", member_list},
                {"base_url", "http://localhost:" + std::to_string(config.listen_port)}};
    std::filesystem::path path(keys_file);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    std::ofstream file(keys_file, std::ios::trunc);
    file << out.dump(2) << "\n";
    if (!file) throw std::runtime_error("cannot write " + keys_file);
    file.close();
    std::filesystem::permissions(path,
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    // The same keys as shell variables, for the README walk-through: `source var/demo-env.sh`.
    std::ofstream env(env_file, std::ios::trunc);
    env << "# written by `unipoints demo`\n"
        << "export BASE=http://localhost:" << config.listen_port << "\n"
        << "export ADMIN_KEY=" << keys["admin"].get<std::string>() << "\n"
        << "export T_KEY=" << keys["partner_T"].get<std::string>() << "\n"
        << "export R_KEY=" << keys["partner_R"].get<std::string>() << "\n"
        << "export AGENT_KEY=" << keys["agent"].get<std::string>() << "\n"
        << "export FINANCE_KEY=" << keys["finance"].get<std::string>() << "\n";
    if (!env) throw std::runtime_error("cannot write " + env_file.string());
    return out;
  });
}

}  // namespace unipoints::app
