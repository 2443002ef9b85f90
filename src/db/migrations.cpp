#include "unipoints/db/migrations.hpp"

#include <algorithm>

#include "unipoints/db/database.hpp"

namespace unipoints::db {
namespace {

// Arbitrary constant: the advisory lock that serialises migration runs across processes.
constexpr long long kMigrationLockKey = 0x756e69706f696e74;  // "unipoint"

constexpr Query kCreateTable{"migrations_create",
                             "CREATE TABLE IF NOT EXISTS schema_migrations ("
                             " version integer PRIMARY KEY,"
                             " name text NOT NULL,"
                             " applied_at timestamptz NOT NULL DEFAULT now())"};
constexpr Query kLock{"migrations_lock", "SELECT pg_advisory_xact_lock($1)"};
constexpr Query kApplied{"migrations_applied", "SELECT version FROM schema_migrations ORDER BY version"};
constexpr Query kRecord{"migrations_record", "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"};
constexpr Query kMax{"migrations_max", "SELECT coalesce(max(version), 0) FROM schema_migrations"};
constexpr Query kExists{"migrations_exists", "SELECT to_regclass('public.schema_migrations') IS NOT NULL"};

int Latest() {
  int latest = 0;
  for (const auto& m : EmbeddedMigrations()) latest = std::max(latest, m.version);
  return latest;
}

}  // namespace

std::vector<std::string> Migrate(Database& db) {
  return db.RunSync([](Tx& tx) {
    tx.Exec(kLock, kMigrationLockKey);
    tx.work().exec(kCreateTable.sql);
    std::vector<int> applied;
    for (const auto& row : tx.Exec(kApplied)) applied.push_back(row[0].as<int>());
    std::vector<std::string> done;
    for (const auto& m : EmbeddedMigrations()) {
      if (std::find(applied.begin(), applied.end(), m.version) != applied.end()) continue;
      tx.work().exec(m.sql);
      tx.Exec(kRecord, m.version, std::string(m.name));
      done.emplace_back(m.name);
    }
    return done;
  });
}

MigrationStatus Status(Tx& tx) {
  MigrationStatus s{0, Latest()};
  if (tx.Exec(kExists)[0][0].as<bool>()) s.applied_version = tx.Exec(kMax)[0][0].as<int>();
  return s;
}

}  // namespace unipoints::db
