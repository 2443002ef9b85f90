#pragma once
// The one flow for writes that carry a client id: claim the id, do the work, store the answer,
// all in one transaction; replay a stored answer for an identical repeat; record a business
// refusal (422) as the answer too, after the work rolled back.

#include <functional>

#include <boost/asio/awaitable.hpp>

#include "unipoints/db/database.hpp"
#include "unipoints/db/idempotency_store.hpp"
#include "unipoints/http/request.hpp"

namespace unipoints::http {

using IdempotentWork = std::function<db::StoredAnswer(db::Tx&)>;

// Canonical hash of a request body (keys sorted, as nlohmann::json stores objects).
std::string RequestHash(const nlohmann::json& body);

boost::asio::awaitable<Response> RunIdempotent(db::Database& db, db::IdempotencyKey key, IdempotentWork work);

// The same flow on the calling thread, for batches already running on a database thread.
// Returns the answer and whether it was a replay.
std::pair<db::StoredAnswer, bool> RunIdempotentSync(db::Tx& tx, const db::IdempotencyKey& key,
                                                    const IdempotentWork& work);

Response ToResponse(const db::StoredAnswer& answer, bool replay);

}  // namespace unipoints::http
