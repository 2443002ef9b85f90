#pragma once
// Client-supplied ids of writes: the first answer is stored with a hash of the request and
// replayed for an identical repeat; a repeat with another body is a conflict.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "unipoints/db/database.hpp"

namespace unipoints::db {

struct IdempotencyKey {
  std::int64_t tenant_id;
  std::int64_t scope;        // partner id for partner keys, 0 otherwise
  std::string kind;          // "accrual", "redemption", ...
  std::string client_id;     // event_id, request_id, ...
  std::string request_hash;  // SHA-256 of the canonical request
};

struct StoredAnswer {
  int status;
  nlohmann::json body;
};

// Claims the key inside `tx`. nullopt: claimed, the caller does the work and calls Record in the
// same transaction. A value: the stored first answer (same hash). Throws a 409 DomainError when
// the id was used with a different request.
std::optional<StoredAnswer> ClaimOrReplay(Tx& tx, const IdempotencyKey& key);
// The answer stored for `key` as read by a caller's own statement ([request_hash, status, body]);
// throws the 409 DomainError when it was stored for a different request.
StoredAnswer Replay(const IdempotencyKey& key, const nlohmann::json& stored);
void Record(Tx& tx, const IdempotencyKey& key, const StoredAnswer& answer);
// Inserts a finished answer outright (for refusals recorded after the work rolled back). Returns
// the stored answer, which is the other one if a concurrent request recorded first.
std::optional<StoredAnswer> InsertAnswer(Tx& tx, const IdempotencyKey& key, const StoredAnswer& answer);

}  // namespace unipoints::db
