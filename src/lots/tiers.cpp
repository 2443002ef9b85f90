#include "unipoints/lots/tiers.hpp"

#include <set>

#include "job_store.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/http/page.hpp"

namespace unipoints::lots {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxLevels = 20;
constexpr std::size_t kMaxTierCodeChars = 64;

json Instant(const pqxx::field& f) {
  return f.is_null() ? json(nullptr) : json(core::FormatRfc3339(core::FromUnixMicros(f.as<std::int64_t>())));
}

}  // namespace

json PutTiers(db::Tx& tx, std::int64_t tenant_id, const json& body, core::Instant now) {
  http::Fields f(body);
  const auto window = f.Int("window_months", 1, 120);
  const auto cadence = f.Enum("cadence", {"yearly", "quarterly"});
  json levels = json::array();
  const json* raw = f.Raw("levels");
  if (raw == nullptr) {
    f.Error("levels", "is required");
  } else if (!raw->is_array() || raw->empty() || raw->size() > kMaxLevels) {
    f.Error("levels", "must be an array of 1 to " + std::to_string(kMaxLevels) + " {code, min_points}");
  } else {
    std::set<std::string> codes;
    std::int64_t previous = -1;
    for (std::size_t i = 0; i < raw->size(); ++i) {
      const auto path = f.Path("levels") + "[" + std::to_string(i) + "]";
      if (!(*raw)[i].is_object()) {
        f.Error(path, "must be an object {code, min_points}");
        continue;
      }
      http::Fields level((*raw)[i], path);
      const auto code = level.Str("code", kMaxTierCodeChars);
      const auto min_points = level.Int("min_points", 0, INT64_MAX);
      const bool fields_ok = level.ok();
      f.Absorb(level.TakeErrors());
      if (!fields_ok) continue;
      if (!codes.insert(code).second) f.Error(path + ".code", "repeats an earlier level's code");
      if (i == 0 && min_points != 0) {
        f.Error(path + ".min_points", "must be 0 for the first level (every member has a tier)");
      } else if (i > 0 && min_points <= previous) {
        f.Error(path + ".min_points", "must be greater than the previous level's");
      }
      previous = min_points;
      levels.push_back({{"code", code}, {"min_points", min_points}});
    }
  }
  f.Done();
  tx.Exec(store::kTiersUpsert, tenant_id, window, cadence, levels.dump(), core::FormatRfc3339(now));
  return GetTiers(tx, tenant_id);
}

json GetTiers(db::Tx& tx, std::int64_t tenant_id) {
  auto row = tx.ExecOne(store::kTiersGet, tenant_id);
  if (!row) {
    return {
        {"window_months", nullptr}, {"cadence", nullptr}, {"levels", json::array()}, {"updated_at", nullptr}};
  }
  return {{"window_months", (*row)[0].as<int>()},
          {"cadence", (*row)[1].as<std::string>()},
          {"levels", json::parse((*row)[2].as<std::string>())},
          {"updated_at", Instant((*row)[3])}};
}

json TierHistory(db::Tx& tx, std::int64_t tenant_id, std::int64_t member_id,
                 std::optional<std::int64_t> after, int limit) {
  auto member = tx.ExecOne(store::kMemberTier, tenant_id, member_id);
  if (!member) throw core::DomainError(core::ErrorCode::kNotFound, "No member " + std::to_string(member_id));
  auto rows =
      tx.Exec(store::kTierHistory, tenant_id, member_id, db::Nullable(http::OptText(after)), limit + 1);
  auto out = http::Page(rows, limit, [](const pqxx::row& r) -> json {
    return {{"id", r[0].as<std::int64_t>()},
            {"at", Instant(r[1])},
            {"from", r[2].as<std::string>()},
            {"to", r[3].as<std::string>()},
            {"qualifying_points", r[4].as<std::int64_t>()},
            {"job_id", r[5].as<std::int64_t>()}};
  });
  return {{"member_id", member_id},
          {"tier", (*member)[0].as<std::string>()},
          {"tier_since", Instant((*member)[1])},
          {"items", out["items"]},
          {"next", out["next"]}};
}

}  // namespace unipoints::lots
