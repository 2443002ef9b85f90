#include "unipoints/db/idempotency_store.hpp"

#include "unipoints/core/error.hpp"

namespace unipoints::db {
namespace {

constexpr Query kClaim{
    "idem_claim",
    "INSERT INTO idempotency_keys (tenant_id, scope, kind, client_id, request_hash, status, response)"
    " VALUES ($1, $2, $3, $4, $5, 0, '{}'::jsonb)"
    " ON CONFLICT DO NOTHING RETURNING 1"};
constexpr Query kInsert{
    "idem_insert",
    "INSERT INTO idempotency_keys (tenant_id, scope, kind, client_id, request_hash, status, response)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)"
    " ON CONFLICT DO NOTHING RETURNING 1"};
constexpr Query kGet{"idem_get",
                     "SELECT request_hash, status, response::text FROM idempotency_keys"
                     " WHERE tenant_id = $1 AND scope = $2 AND kind = $3 AND client_id = $4"};
constexpr Query kRecord{"idem_record",
                        "UPDATE idempotency_keys SET status = $5, response = $6::jsonb"
                        " WHERE tenant_id = $1 AND scope = $2 AND kind = $3 AND client_id = $4"};

StoredAnswer ReadExisting(Tx& tx, const IdempotencyKey& key) {
  auto row = tx.ExecOne(kGet, key.tenant_id, key.scope, key.kind, key.client_id);
  if (!row) throw std::runtime_error("idempotency row vanished");
  return Replay(key, nlohmann::json::array({(*row)[0].as<std::string>(), (*row)[1].as<int>(),
                                            nlohmann::json::parse((*row)[2].as<std::string>())}));
}

}  // namespace

StoredAnswer Replay(const IdempotencyKey& key, const nlohmann::json& stored) {
  if (stored.at(0).get<std::string>() != key.request_hash) {
    // The field that carries the id in the request.
    const char* field = key.kind == "accrual"    ? "event_id"
                        : key.kind == "reversal" ? "reversal_id"
                                                 : "request_id";
    throw core::DomainError(core::ErrorCode::kIdempotencyConflict,
                            "The id '" + key.client_id + "' was already used with a different request",
                            {{field, "already used with another body"}});
  }
  return StoredAnswer{stored.at(1).get<int>(), stored.at(2)};
}

std::optional<StoredAnswer> ClaimOrReplay(Tx& tx, const IdempotencyKey& key) {
  auto r = tx.Exec(kClaim, key.tenant_id, key.scope, key.kind, key.client_id, key.request_hash);
  if (!r.empty()) return std::nullopt;
  return ReadExisting(tx, key);
}

void Record(Tx& tx, const IdempotencyKey& key, const StoredAnswer& answer) {
  tx.Exec(kRecord, key.tenant_id, key.scope, key.kind, key.client_id, answer.status, answer.body.dump());
}

std::optional<StoredAnswer> InsertAnswer(Tx& tx, const IdempotencyKey& key, const StoredAnswer& answer) {
  auto r = tx.Exec(kInsert, key.tenant_id, key.scope, key.kind, key.client_id, key.request_hash,
                   answer.status, answer.body.dump());
  if (!r.empty()) return std::nullopt;
  return ReadExisting(tx, key);
}

}  // namespace unipoints::db
