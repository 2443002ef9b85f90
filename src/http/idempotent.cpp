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
  std::optional<core::DomainError> refusal;
  std::pair<db::StoredAnswer, bool> result;
  try {
    result = co_await db.Run([&work](db::Tx& tx) { return work(tx); });
  } catch (const core::DomainError& e) {
    if (core::Describe(e.code()).http_status != 422) throw;
    refusal = e;
  }
  if (refusal) {
    db::StoredAnswer answer{422, ProblemBody(*refusal)};
    result = co_await db.Run([&key, &answer](db::Tx& tx) {
      if (auto prev = db::InsertAnswer(tx, key, answer)) return std::make_pair(*prev, true);
      return std::make_pair(answer, false);
    });
  }
  co_return ToResponse(result.first, result.second);
}

}  // namespace unipoints::http
