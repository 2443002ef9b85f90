#pragma once
// Accruals: an event from a partner becomes points for a member, priced by the partner's earning
// rules in force at occurred_at (or posted directly), written as an accrual, a lot and a ledger entry
// (accrual_batch.hpp applies them).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "unipoints/core/page.hpp"
#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/earning/rules.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::earning {

// Upper bounds that keep every product exact in int64/int128.
inline constexpr std::int64_t kMaxAmountMinor = 1'000'000'000'000;  // 10 billion in a 2-decimal currency
// The most points one event may earn, posted directly or priced from an amount: a balance then
// stays far inside int64 whatever rules a tenant sets.
inline constexpr std::int64_t kMaxDirectPoints = 1'000'000'000;

struct AccrualInput {
  std::string event_id;
  std::optional<std::string> card_no;
  std::optional<std::int64_t> member_id;
  std::optional<std::string> category;
  std::optional<std::int64_t> amount_minor;
  std::optional<std::int64_t> points;
  std::optional<std::string> point_type;
  core::Instant occurred_at;
  nlohmann::json canonical;  // the event as sent, for the idempotency hash
};

// Reads and validates one event (all field errors into `f`).
AccrualInput ParseAccrual(const nlohmann::json& event, http::Fields& f, core::Instant now);

// Parsed rule versions by (tenant, partner, version). Versions are never edited, so an entry
// never goes stale; the cache only bounds its size.
class RuleCache {
 public:
  explicit RuleCache(std::size_t max_entries = 10000) : max_entries_(max_entries) {}
  std::shared_ptr<const RuleSet> Get(std::int64_t tenant_id, std::int64_t partner_id, int version,
                                     const std::string& body_json);
  // The cached version, or nullptr.
  std::shared_ptr<const RuleSet> Find(std::int64_t tenant_id, std::int64_t partner_id, int version);

 private:
  std::size_t max_entries_;
  std::mutex mu_;
  std::map<std::tuple<std::int64_t, std::int64_t, int>, std::shared_ptr<const RuleSet>> entries_;
};

// Earning-rule versions of a partner.
nlohmann::json PutRules(db::Tx& tx, std::int64_t tenant_id, std::int64_t partner_id,
                        const std::string& partner_code, std::optional<core::Instant> effective_from,
                        const RuleSet& rules, core::Instant now);
// {items, next}: a page of the partner's rule versions, newest first (`after`: a version number).
nlohmann::json ListRules(db::Tx& tx, std::int64_t tenant_id, std::int64_t partner_id,
                         const std::string& partner_code, const core::PageRequest& page = {});

}  // namespace unipoints::earning
