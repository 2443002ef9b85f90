// The integration tests' entry point: they need a PostgreSQL superuser URL in
// UNIPOINTS_DATABASE_URL. Without one they are skipped on a developer machine, but fail in CI.

#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "harness.hpp"

namespace {

bool InCi() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  const std::string v(ci);
  return !v.empty() && v != "0" && v != "false" && v != "FALSE" && v != "False";
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (unipoints::testing::AdminDatabaseUrl().empty() && !::testing::GTEST_FLAG(list_tests)) {
    if (InCi()) {
      std::fprintf(stderr,
                   "integration tests: UNIPOINTS_DATABASE_URL is not set, and CI is set: the integration "
                   "tests must run in CI. Set it to a PostgreSQL superuser URL (./dev db prints one).\n");
      return 1;
    }
    unipoints::testing::SetSkipReason(
        "UNIPOINTS_DATABASE_URL is not set: integration tests skipped (set it to a PostgreSQL superuser URL, "
        "e.g. the one `./dev db` prints; in CI they fail instead)");
    std::fprintf(stderr, "integration tests: %s\n", unipoints::testing::SkipReason().c_str());
  }
  return RUN_ALL_TESTS();
}
