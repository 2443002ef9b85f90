#pragma once
// API keys cached in memory: a request whose key was seen in the last key_cache_ttl_ms is
// authenticated without a database round trip. A revocation is heard at once by every server
// process: the revoking transaction notifies channel unipoints_keys and each process's listener
// empties its cache; while a process cannot listen (no connection) it does not use the cache. A
// lookup that began before an invalidation never stores its (possibly stale) answer.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "unipoints/config/config.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::tenancy {

inline constexpr const char* kKeysChannel = "unipoints_keys";

class KeyCache {
 public:
  KeyCache(db::Database& db, const config::Config& config);
  ~KeyCache();  // stops the listener
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  // Starts listening for invalidations (no-op when the cache is off).
  void Start();
  // Take before looking a key up in the database; pass to Put.
  std::uint64_t Generation() const { return generation_.load(); }
  std::optional<Principal> Get(const std::string& key_hash);
  void Put(const std::string& key_hash, const Principal& principal, std::uint64_t generation);
  // Forgets every key (after a revocation).
  void Clear();

 private:
  struct Entry {
    Principal principal;
    std::chrono::steady_clock::time_point expires;
  };
  void Listen();

  db::Database& db_;
  const std::chrono::milliseconds ttl_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> listening_{false};
  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::thread listener_;
};

}  // namespace unipoints::tenancy
