#pragma once
// Forward-only schema migrations from sql/migrations, embedded in the binary at build time.

#include <string>
#include <vector>

namespace unipoints::db {

class Database;
class Tx;

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& EmbeddedMigrations();

struct MigrationStatus {
  int applied_version;  // highest applied, 0 for an empty database
  int latest_version;   // highest this binary knows
  bool current() const { return applied_version >= latest_version; }
};

// Applies every pending migration in order, all in one transaction, under an advisory lock so that
// concurrent processes never race. Returns the names applied.
std::vector<std::string> Migrate(Database& db);
MigrationStatus Status(Tx& tx);

}  // namespace unipoints::db
