// unipoints: parse the command line and configuration, set up logging, build the objects, run.

#include <malloc.h>

#include <functional>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "unipoints/app/demo.hpp"
#include "unipoints/app/routes.hpp"
#include "unipoints/app/scheduler.hpp"
#include "unipoints/app/verify.hpp"
#include "unipoints/config/config.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/db/migrations.hpp"
#include "unipoints/http/server.hpp"
#include "unipoints/lots/jobs.hpp"
#include "unipoints/settlement/run_service.hpp"
#include "unipoints/tenancy/tenancy_routes.hpp"
#include "unipoints/tenancy/tenancy_service.hpp"

namespace po = boost::program_options;
using namespace unipoints;

namespace {

constexpr const char* kUsage = R"(unipoints - points-alliance settlement server

Usage: unipoints <command> [options]

Commands:
  serve           run the HTTP server (applies pending migrations first)
  migrate         apply pending database migrations
  tenant create   create a tenant and print {tenant, admin_key} as JSON
  demo            create the demo alliance (idempotent) and print its keys
  verify          check the points invariants; exits 1 naming the first violation
  settle          compute (or finalize) a tenant's settlement run for a period; prints it as JSON
  expire          expire a tenant's points whose expiry instant has passed; prints the run as JSON
  regrade         re-grade a tenant's member tiers as of an instant; prints the run as JSON

Run 'unipoints <command> --help' for a command's options. Configuration comes from
--config FILE (JSON, see config/unipoints.example.json) and UNIPOINTS_* environment variables.
)";

void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("unipoints");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
}

// Parses `args` with `desc`; prints help and returns false when --help was given.
bool Parse(const std::vector<std::string>& args, po::options_description& desc, po::variables_map& vm,
           const char* usage) {
  desc.add_options()("help,h", "show this help");
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << usage << "\n" << desc << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

std::optional<std::string> ConfigFile(const po::variables_map& vm) {
  if (vm.count("config")) return vm["config"].as<std::string>();
  return std::nullopt;
}

int Serve(const std::vector<std::string>& args) {
  // glibc gives every thread that allocates its own heap arena; a feed's chunks land on whichever
  // pool thread runs them, and each arena then keeps its peak (measured: +300 MB over a 200,000
  // line feed with the default, +60 MB with two).
  mallopt(M_ARENA_MAX, 2);
  po::options_description desc("serve options");
  desc.add_options()("config", po::value<std::string>(), "JSON configuration file");
  po::variables_map vm;
  if (!Parse(args, desc, vm, "Usage: unipoints serve [--config FILE]")) return 0;
  const auto config = config::Load(ConfigFile(vm), true);
  SetUpLogging(config.log_level);

  db::Database db(config);
  try {
    for (const auto& name : db::Migrate(db)) spdlog::info("applied migration {}", name);
  } catch (const std::exception& e) {
    // Serve anyway: /readyz reports the problem until the database is reachable and migrated.
    spdlog::error("migrations not applied: {}", e.what());
  }
  const core::SystemClock system_clock;
  std::unique_ptr<core::SettableClock> settable_clock;
  if (config.clock == "settable") {
    settable_clock = std::make_unique<core::SettableClock>();
    spdlog::warn("the business clock is settable (PUT /v1/ops/clock): for tests and rehearsals only");
  }
  const core::Clock& clock = settable_clock ? static_cast<const core::Clock&>(*settable_clock) : system_clock;
  const members::MemberService member_service(config.identity_hash_key);
  http::Metrics metrics;
  earning::RuleCache rule_cache;
  http::Router router;
  http::Server* server_ptr = nullptr;
  {
    tenancy::KeyCache key_cache(db, config);
    app::Scheduler scheduler(db, config, clock);
    earning::AccrualCommitter committer(db, config, clock, rule_cache, metrics);
    lots::BalanceReader balance_reader(db, config, metrics);
    spending::RedemptionCommitter redemptions(db, config, clock, metrics);
    app::Wiring wiring{db,
                       config,
                       clock,
                       metrics,
                       member_service,
                       rule_cache,
                       [&server_ptr] { return server_ptr != nullptr && server_ptr->stopping(); },
                       settable_clock.get(),
                       &scheduler,
                       &key_cache,
                       &committer,
                       &balance_reader,
                       &redemptions};
    app::RegisterAllRoutes(router, wiring);
    http::Server server(config, router, tenancy::MakeAuthenticator(db, config, &key_cache), metrics);
    server_ptr = &server;
    key_cache.Start();
    scheduler.Start();
    committer.Start();
    balance_reader.Start();
    redemptions.Start();
    server.Run();
    committer.Stop();
    balance_reader.Stop();
    redemptions.Stop();
    // Let work still running on the pool's threads (requests past the grace period) finish before
    // the server, and with it the coroutines that work refers to, is destroyed.
    db.Stop();
    server_ptr = nullptr;
  }
  db.Stop();
  return 0;
}

int Migrate(const std::vector<std::string>& args) {
  po::options_description desc("migrate options");
  desc.add_options()("config", po::value<std::string>(), "JSON configuration file");
  po::variables_map vm;
  if (!Parse(args, desc, vm, "Usage: unipoints migrate [--config FILE]")) return 0;
  const auto config = config::Load(ConfigFile(vm), false);
  SetUpLogging(config.log_level);
  db::Database db(config);
  auto applied = db::Migrate(db);
  for (const auto& name : applied) std::cout << "applied " << name << "\n";
  if (applied.empty()) std::cout << "schema is current\n";
  return 0;
}

int TenantCreate(const std::vector<std::string>& args) {
  po::options_description desc("tenant create options");
  desc.add_options()("code", po::value<std::string>()->required(), "tenant code, e.g. ALLIANCE1")(
      "name", po::value<std::string>()->required(), "display name (UTF-8)")(
      "currency", po::value<std::string>()->default_value("CNY"), "ISO 4217 currency")(
      "time-zone", po::value<std::string>()->default_value("Asia/Shanghai"), "IANA time zone")(
      "config", po::value<std::string>(), "JSON configuration file");
  po::variables_map vm;
  if (!Parse(args, desc, vm,
             "Usage: unipoints tenant create --code C --name N --currency CNY --time-zone Asia/Shanghai"))
    return 0;
  const auto config = config::Load(ConfigFile(vm), false);
  SetUpLogging(config.log_level);
  db::Database db(config);
  db::Migrate(db);
  tenancy::NewTenant t{vm["code"].as<std::string>(), vm["name"].as<std::string>(),
                       vm["currency"].as<std::string>(), vm["time-zone"].as<std::string>()};
  auto [tenant, key] = db.RunSync([&t](db::Tx& tx) { return tenancy::CreateTenant(tx, t); });
  std::cout << nlohmann::json{{"tenant", tenancy::ToJson(tenant)}, {"admin_key", key.key}}.dump() << "\n";
  return 0;
}

int Settle(const std::vector<std::string>& args) {
  po::options_description desc("settle options");
  desc.add_options()("tenant", po::value<std::string>()->required(), "tenant code")(
      "period", po::value<std::string>()->required(), "month in the tenant's time zone, e.g. 2026-10")(
      "finalize", "make the run final (only once the period has ended)")("config", po::value<std::string>(),
                                                                         "JSON configuration file");
  po::variables_map vm;
  if (!Parse(args, desc, vm, "Usage: unipoints settle --tenant C --period 2026-10 [--finalize]")) return 0;
  const auto period = core::ParsePeriod(vm["period"].as<std::string>());
  if (!period) {
    std::cerr << "error: --period must be a month such as 2026-10\n";
    return 2;
  }
  const auto config = config::Load(ConfigFile(vm), false);
  SetUpLogging(config.log_level);
  db::Database db(config);
  db::Migrate(db);
  const auto code = vm["tenant"].as<std::string>();
  const bool finalize = vm.count("finalize") > 0;
  const auto now = core::SystemClock().Now();
  auto run = db.RunSync([&](db::Tx& tx) {
    auto tenant = tenancy::FindTenantByCode(tx, code);
    if (!tenant) throw core::DomainError(core::ErrorCode::kNotFound, "No tenant '" + code + "'");
    tenancy::Principal who;
    who.role = tenancy::Role::kAdmin;
    who.tenant_id = tenant->id;
    return finalize ? settlement::FinalizeRun(tx, who, *period, now)
                    : settlement::RunPeriod(tx, who, *period, now).second;
  });
  std::cout << run.dump(2) << "\n";
  return 0;
}

// Looks up a tenant by code for the job commands.
std::int64_t TenantId(db::Database& db, const std::string& code) {
  return db.RunSync([&](db::Tx& tx) {
    auto tenant = tenancy::FindTenantByCode(tx, code);
    if (!tenant) throw core::DomainError(core::ErrorCode::kNotFound, "No tenant '" + code + "'");
    return tenant->id;
  });
}

// --as-of, or now; never later than now.
std::optional<core::Instant> AsOfOption(const po::variables_map& vm, core::Instant now) {
  if (!vm.count("as-of")) return now;
  auto as_of = core::ParseRfc3339(vm["as-of"].as<std::string>());
  if (!as_of || *as_of > now) {
    std::cerr << "error: --as-of must be an RFC 3339 instant with offset, not later than now\n";
    return std::nullopt;
  }
  return as_of;
}

// `unipoints expire` and `unipoints regrade`: the same options, a different job.
int JobCommand(const std::vector<std::string>& args, const char* name, const char* as_of_help,
               const char* usage,
               const std::function<nlohmann::json(db::Database&, const config::Config&, std::int64_t tenant,
                                                  core::Instant as_of, core::Instant now)>& run) {
  po::options_description desc(std::string(name) + " options");
  desc.add_options()("tenant", po::value<std::string>()->required(), "tenant code")(
      "as-of", po::value<std::string>(), as_of_help)("config", po::value<std::string>(),
                                                     "JSON configuration file");
  po::variables_map vm;
  if (!Parse(args, desc, vm, usage)) return 0;
  const auto now = core::SystemClock().Now();
  const auto as_of = AsOfOption(vm, now);
  if (!as_of) return 2;
  const auto config = config::Load(ConfigFile(vm), false);
  SetUpLogging(config.log_level);
  db::Database db(config);
  db::Migrate(db);
  std::cout << run(db, config, TenantId(db, vm["tenant"].as<std::string>()), *as_of, now).dump(2) << "\n";
  return 0;
}

int Expire(const std::vector<std::string>& args) {
  return JobCommand(
      args, "expire", "expire lots whose expiry instant is at or before this (default now)",
      "Usage: unipoints expire --tenant C [--as-of 2027-01-01T00:00:00+08:00]\n\n"
      "Expires every lot still holding points whose expiry instant has passed (one expiry and, under\n"
      "a carry-over policy, one carry_over ledger entry per lot) and prints the run as JSON.\n"
      "Idempotent; waits while another process expires the same tenant.",
      [](db::Database& db, const config::Config& config, std::int64_t tenant, core::Instant as_of,
         core::Instant now) {
        return *lots::RunExpiry(
            db, {tenant, as_of, now, lots::JobTrigger::kCli, config.expiry_chunk_lots, config.expiry_workers},
            true);
      });
}

int Regrade(const std::vector<std::string>& args) {
  return JobCommand(
      args, "regrade", "the instant the new tiers apply from (default now)",
      "Usage: unipoints regrade --tenant C [--as-of 2027-01-01T00:00:00+08:00]\n\n"
      "Re-grades every member's tier from qualifying points over the scheme's window ending at\n"
      "--as-of, in one set-based pass, and prints the run as JSON.",
      [](db::Database& db, const config::Config&, std::int64_t tenant, core::Instant as_of,
         core::Instant now) {
        return lots::RunRegrade(db, {tenant, as_of, now, lots::JobTrigger::kCli});
      });
}

int Demo(const std::vector<std::string>& args) {
  po::options_description desc("demo options");
  desc.add_options()("config", po::value<std::string>(), "JSON configuration file")(
      "keys-file", po::value<std::string>()->default_value("var/demo-keys.json"),
      "where to write the demo keys");
  po::variables_map vm;
  if (!Parse(args, desc, vm, "Usage: unipoints demo [--config FILE] [--keys-file var/demo-keys.json]"))
    return 0;
  const auto config = config::Load(ConfigFile(vm), true);
  SetUpLogging(config.log_level);
  db::Database db(config);
  db::Migrate(db);
  auto out = app::SeedDemo(db, config, vm["keys-file"].as<std::string>());
  std::cout << out.dump(2) << "\n";
  return 0;
}

int Verify(const std::vector<std::string>& args) {
  po::options_description desc("verify options");
  desc.add_options()("tenant", po::value<std::string>(), "check only the tenant with this code")(
      "config", po::value<std::string>(), "JSON configuration file");
  po::variables_map vm;
  if (!Parse(args, desc, vm,
             "Usage: unipoints verify [--tenant CODE] [--config FILE]\n\n"
             "Checks every member's held total against its lots and ledger, debt and lifetime, every lot,\n"
             "and the lots, ledger entries and settlement lines of every redemption, transfer, reversal\n"
             "and adjustment, in one snapshot. Prints \"ok: N members, M lots checked\" and exits 0, or\n"
             "prints the first violation and exits 1."))
    return 0;
  const auto config = config::Load(ConfigFile(vm), false);
  SetUpLogging(config.log_level);
  db::Database db(config);
  std::optional<std::string> tenant;
  if (vm.count("tenant")) tenant = vm["tenant"].as<std::string>();
  const auto report = app::Verify(db, tenant);
  if (report.violation) {
    std::cout << "violation: " << app::Describe(*report.violation) << "\n";
    return 1;
  }
  std::cout << "ok: " << report.members << " members, " << report.lots << " lots checked\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "serve") return Serve(args);
    if (command == "migrate") return Migrate(args);
    if (command == "demo") return Demo(args);
    if (command == "verify") return Verify(args);
    if (command == "settle") return Settle(args);
    if (command == "expire") return Expire(args);
    if (command == "regrade") return Regrade(args);
    if (command == "tenant") {
      if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::cout << "Usage: unipoints tenant create --code C --name N --currency CNY --time-zone Z\n";
        return args.empty() ? 2 : 0;
      }
      if (args[0] != "create") {
        std::cerr << "unknown tenant command '" << args[0] << "' (try: tenant create --help)\n";
        return 2;
      }
      args.erase(args.begin());
      return TenantCreate(args);
    }
    std::cerr << "unknown command '" << command << "'\n" << kUsage;
    return 2;
  } catch (const config::ConfigError& e) {
    std::cerr << "configuration error: " << e.what() << "\n";
    return 2;
  } catch (const po::error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const core::DomainError& e) {
    std::cerr << "error: " << e.detail() << "\n";
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& fe : e.errors()) errors.push_back({{"field", fe.field}, {"message", fe.message}});
    if (!errors.empty()) std::cerr << errors.dump() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
