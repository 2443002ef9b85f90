#pragma once
// The one flow for writes that carry a client id: claim the id, do the work, store the answer,
// all in one transaction; replay a stored answer for an identical repeat; record a business
// refusal (422) as the answer too, after the work rolled back.

#include <functional>

#include <boost/asio/awaitable.hpp>

#include "unipoints/core/error.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/db/idempotency_store.hpp"
#include "unipoints/http/request.hpp"

namespace unipoints::http {

using IdempotentWork = std::function<db::StoredAnswer(db::Tx&)>;

// Canonical hash of a request body (keys sorted, as nlohmann::json stores objects).
std::string RequestHash(const nlohmann::json& body);

boost::asio::awaitable<Response> RunIdempotent(db::Database& db, db::IdempotencyKey key, IdempotentWork work);

// The same flow for work that reads the stored answer and stores its own in its statements (no
// separate claim): it returns the answer and whether it was a replay. Two requests with one id
// both find none; the second's insert of the key fails, its transaction runs again and replays.
using FoldedIdempotentWork = std::function<std::pair<db::StoredAnswer, bool>(db::Tx&)>;
boost::asio::awaitable<Response> RunIdempotentFolded(db::Database& db, db::IdempotencyKey key,
                                                     FoldedIdempotentWork work);

// RunIdempotentFolded on the calling thread (a pool or batcher thread): the answer and whether
// it was a replay.
std::pair<db::StoredAnswer, bool> RunIdempotentFoldedSync(db::Database& db, const db::IdempotencyKey& key,
                                                          const FoldedIdempotentWork& work);

// A business refusal (422) of the request under `key` stored as its answer in `tx`, or the answer
// stored before (second: true). Rethrows any other error.
std::pair<db::StoredAnswer, bool> RecordRefusal(db::Tx& tx, const db::IdempotencyKey& key,
                                                const core::DomainError& refusal);

Response ToResponse(const db::StoredAnswer& answer, bool replay);

}  // namespace unipoints::http
