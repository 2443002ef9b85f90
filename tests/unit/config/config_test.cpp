#include "unipoints/config/config.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace unipoints::config {
namespace {

std::map<std::string, std::string> g_env;

std::optional<std::string> FakeEnv(const char* name) {
  auto it = g_env.find(name);
  if (it == g_env.end()) return std::nullopt;
  return it->second;
}

Config LoadWith(std::map<std::string, std::string> env) {
  g_env = std::move(env);
  g_env["UNIPOINTS_DATABASE_URL"] = "postgresql://localhost/x";
  return Load(std::nullopt, false, FakeEnv);
}

TEST(ConfigTest, PoolSizeDefaultsToTwiceTheCoresWithinFourToThirtyTwo) {
  const int expected = std::clamp(2 * static_cast<int>(std::thread::hardware_concurrency()), 4, 32);
  EXPECT_EQ(LoadWith({}).db_pool_size, expected);
  EXPECT_EQ(LoadWith({{"UNIPOINTS_DB_POOL_SIZE", "0"}}).db_pool_size, expected);
}

TEST(ConfigTest, AnExplicitPoolSizeIsKept) {
  EXPECT_EQ(LoadWith({{"UNIPOINTS_DB_POOL_SIZE", "7"}}).db_pool_size, 7);
  EXPECT_EQ(LoadWith({{"UNIPOINTS_DB_POOL_SIZE", "1"}}).db_pool_size, 1);
}

TEST(ConfigTest, ANegativeOrHugePoolSizeStopsStartUp) {
  EXPECT_THROW(LoadWith({{"UNIPOINTS_DB_POOL_SIZE", "-1"}}), ConfigError);
  EXPECT_THROW(LoadWith({{"UNIPOINTS_DB_POOL_SIZE", "257"}}), ConfigError);
  EXPECT_THROW(LoadWith({{"UNIPOINTS_DB_POOL_SIZE", "four"}}), ConfigError);
}

}  // namespace
}  // namespace unipoints::config
