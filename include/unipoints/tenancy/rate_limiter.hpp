#pragma once
// Per-key rate limits, enforced by each server process in its own memory: a token bucket per
// limited key holds up to `burst` tokens and refills at `per_second`; a request takes one. Keys
// without a limit never get here. Several server processes behind one balancer each allow the
// key's full rate.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "unipoints/tenancy/principal.hpp"

namespace unipoints::tenancy {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // Takes a token from the key's bucket at `now`: 0 when admitted, else the whole seconds
  // (at least 1) until a token is there, and nothing is taken. A changed limit applies at once
  // (the tokens kept are capped at the new burst).
  std::int64_t Admit(std::int64_t key_id, const RateLimit& limit, Clock::time_point now);

 private:
  struct Bucket {
    RateLimit limit;
    double tokens = 0;
    Clock::time_point at;
  };
  std::mutex mutex_;
  std::unordered_map<std::int64_t, Bucket> buckets_;
};

}  // namespace unipoints::tenancy
