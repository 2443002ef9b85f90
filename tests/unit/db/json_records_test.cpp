#include "unipoints/db/json_records.hpp"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace unipoints::db {
namespace {

using nlohmann::json;

TEST(JsonRecordsTest, NoRowsIsAnEmptyArray) {
  JsonRecords w;
  EXPECT_EQ(w.Take(), "[]");
  EXPECT_EQ(w.rows(), 0u);
}

TEST(JsonRecordsTest, RowsParseBackToTheSameValues) {
  JsonRecords w;
  w.Row()
      .Int("i", 0)
      .Int("min", std::numeric_limits<std::int64_t>::min())
      .Int("max", std::numeric_limits<std::int64_t>::max())
      .Bool("yes", true)
      .Bool("no", false)
      .Str("plain", "ev-1:2/3")
      .OptStr("none", std::nullopt)
      .OptInt("n", std::nullopt)
      .OptInt("some", 42)
      .Null("z")
      .Raw("r", R"({"a":[1,2]})");
  w.Row().Str("s", "").OptStr("o", std::string("x"));
  EXPECT_EQ(w.rows(), 2u);
  const auto parsed = json::parse(w.Take());
  ASSERT_EQ(parsed.size(), 2u);
  const auto& a = parsed[0];
  EXPECT_EQ(a["i"], 0);
  EXPECT_EQ(a["min"].get<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(a["max"].get<std::int64_t>(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(a["yes"], true);
  EXPECT_EQ(a["no"], false);
  EXPECT_EQ(a["plain"], "ev-1:2/3");
  EXPECT_TRUE(a["none"].is_null());
  EXPECT_TRUE(a["n"].is_null());
  EXPECT_EQ(a["some"], 42);
  EXPECT_TRUE(a["z"].is_null());
  EXPECT_EQ(a["r"], json::parse(R"({"a":[1,2]})"));
  EXPECT_EQ(parsed[1]["s"], "");
  EXPECT_EQ(parsed[1]["o"], "x");
}

TEST(JsonRecordsTest, StringsThatNeedEscapingSurviveExactly) {
  const std::string tricky[] = {"a\"b", "back\\slash", "line\nbreak\ttab", std::string("nul\0x", 5),
                                "\x7f", "华联超市",    "\xF0\x9F\x98\x80"};
  JsonRecords w;
  for (const auto& s : tricky) w.Row().Str("s", s);
  const auto parsed = json::parse(w.Take());
  ASSERT_EQ(parsed.size(), std::size(tricky));
  for (std::size_t i = 0; i < std::size(tricky); ++i) EXPECT_EQ(parsed[i]["s"], tricky[i]) << i;
}

TEST(JsonRecordsTest, InvalidUtf8BecomesAReplacementCharacterNotBrokenJson) {
  JsonRecords w;
  w.Row().Str("s", "ok\xff\xfe");
  const auto parsed = json::parse(w.Take());
  EXPECT_EQ(parsed[0]["s"], "ok\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(JsonRecordsTest, TakeStartsAFreshArray) {
  JsonRecords w;
  w.Row().Int("a", 1);
  EXPECT_EQ(w.Take(), R"([{"a":1}])");
  w.Row().Int("b", 2);
  EXPECT_EQ(w.Take(), R"([{"b":2}])");
}

}  // namespace
}  // namespace unipoints::db
