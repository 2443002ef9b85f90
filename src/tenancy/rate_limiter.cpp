#include "unipoints/tenancy/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace unipoints::tenancy {

std::int64_t RateLimiter::Admit(std::int64_t key_id, const RateLimit& limit, Clock::time_point now) {
  const auto burst = static_cast<double>(limit.burst);
  std::lock_guard lock(mutex_);
  auto [it, fresh] = buckets_.try_emplace(key_id, Bucket{limit, burst, now});
  auto& bucket = it->second;
  if (!fresh) {
    if (!(bucket.limit == limit)) {
      bucket.limit = limit;
      bucket.tokens = std::min(bucket.tokens, burst);
    }
    // Threads may pass instants a little out of order: an earlier one adds nothing.
    if (now > bucket.at) {
      const double elapsed = std::chrono::duration<double>(now - bucket.at).count();
      bucket.tokens = std::min(burst, bucket.tokens + elapsed * limit.per_second);
      bucket.at = now;
    }
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return 0;
  }
  const double wait = (1.0 - bucket.tokens) / limit.per_second;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wait)));
}

}  // namespace unipoints::tenancy
