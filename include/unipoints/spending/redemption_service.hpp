#pragma once
// Rewards and redemptions: a catalogue of rewards each fulfilled by one partner, priced in plain
// points or in source-composed options; redemptions that consume lots earliest expiry first and
// book one settlement line per source partner; cancellations that put the exact points back.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/db/idempotency_store.hpp"
#include "unipoints/http/fields.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::spending {

// A price: either `points` from any source, or options, each a map of partner code → points.
struct Price {
  std::optional<std::int64_t> points;
  std::vector<std::map<std::string, std::int64_t>> options;
};

struct NewReward {
  std::string code, partner, name;
  Price price;
  std::optional<std::int64_t> stock;
  std::optional<core::Instant> from, to;
};

// Reads and validates a reward body into `f` (partner codes are checked against the database
// when it is created).
NewReward ParseReward(const nlohmann::json& body, http::Fields& f);
nlohmann::json CreateReward(db::Tx& tx, const tenancy::Principal& who, const NewReward& r);
nlohmann::json GetReward(db::Tx& tx, const tenancy::Principal& who, const std::string& code);
nlohmann::json ListRewards(db::Tx& tx, const tenancy::Principal& who, std::optional<std::int64_t> after,
                           int limit, const std::optional<std::string>& partner);
// PATCH: name, stock, from, to, status (active|withdrawn).
nlohmann::json UpdateReward(db::Tx& tx, const tenancy::Principal& who, const std::string& code,
                            const nlohmann::json& body);

struct RedemptionRequest {
  std::string request_id;
  std::optional<std::string> card_no;
  std::optional<std::int64_t> member_id;
  std::string reward;
  std::int64_t quantity = 1;
  std::optional<std::int64_t> option;
};

RedemptionRequest ParseRedemption(const nlohmann::json& body, http::Fields& f);
// 201 body {redemption_id, member_id, reward, quantity, option, points, points_by_source, balance},
// stored under `key` in the same transaction; or the answer stored earlier (second: true). Three
// statements: read the stored answer and lock the member; its live lots; one write of everything.
// A refusal (DomainError) is thrown before any write, except when a limited stock ran out
// meanwhile: then `*wrote` (when given) is set, and the transaction must roll back.
std::pair<db::StoredAnswer, bool> Redeem(db::Tx& tx, const db::IdempotencyKey& key,
                                         const tenancy::Principal& who, const RedemptionRequest& r,
                                         core::Instant now, bool* wrote = nullptr);
// 200 body; 409 already_cancelled, 422 cancel_window_closed.
nlohmann::json Cancel(db::Tx& tx, const tenancy::Principal& who, std::int64_t redemption_id,
                      const std::string& reason, core::Instant now);
nlohmann::json GetRedemption(db::Tx& tx, const tenancy::Principal& who, std::int64_t redemption_id);

}  // namespace unipoints::spending
