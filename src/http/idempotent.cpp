#include "unipoints/http/idempotent.hpp"

#include "unipoints/core/crypto.hpp"
#include "unipoints/http/problem.hpp"

namespace unipoints::http {

std::string RequestHash(const nlohmann::json& body) {
  return core::Sha256Hex(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response ToResponse(const db::StoredAnswer& answer, bool replay) {
  auto status = answer.status;
  if (replay && status >= 200 && status < 300) status = 200;
  Response r = JsonResponse(static_cast<boost::beast::http::status>(status), answer.body);
  if (answer.status >= 400) r.content_type = "application/problem+json";
  if (replay) r.headers.emplace_back("Idempotent-Replay", "true");
  return r;
}

boost::asio::awaitable<Response> RunIdempotent(db::Database& db, db::IdempotencyKey key,
                                               IdempotentWork work) {
  co_return co_await RunIdempotentFolded(db, key, [&key, &work](db::Tx& tx) {
    if (auto prev = db::ClaimOrReplay(tx, key)) return std::make_pair(*prev, true);
    auto answer = work(tx);
    db::Record(tx, key, answer);
    return std::make_pair(std::move(answer), false);
  });
}

boost::asio::awaitable<Response> RunIdempotentFolded(db::Database& db, db::IdempotencyKey key,
                                                     FoldedIdempotentWork work) {
  auto result = co_await db.Offload([&db, &key, &work] { return RunIdempotentFoldedSync(db, key, work); });
  co_return ToResponse(result.first, result.second);
}

std::pair<db::StoredAnswer, bool> RunIdempotentFoldedSync(db::Database& db, const db::IdempotencyKey& key,
                                                          const FoldedIdempotentWork& work) {
  std::optional<core::DomainError> refusal;
  try {
    return db.RunSync([&work](db::Tx& tx) { return work(tx); });
  } catch (const core::DomainError& e) {
    if (core::Describe(e.code()).http_status != 422) throw;
    refusal = e;
  }
  // The work rolled back; the refusal is stored in a transaction of its own.
  return db.RunSync([&key, &refusal](db::Tx& tx) { return RecordRefusal(tx, key, *refusal); });
}

std::pair<db::StoredAnswer, bool> RecordRefusal(db::Tx& tx, const db::IdempotencyKey& key,
                                                const core::DomainError& refusal) {
  if (core::Describe(refusal.code()).http_status != 422) throw refusal;
  db::StoredAnswer answer{422, ProblemBody(refusal)};
  if (auto prev = db::InsertAnswer(tx, key, answer)) return {*prev, true};
  return {std::move(answer), false};
}

}  // namespace unipoints::http
