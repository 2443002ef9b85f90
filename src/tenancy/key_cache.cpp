#include "unipoints/tenancy/key_cache.hpp"

#include <spdlog/spdlog.h>

namespace unipoints::tenancy {
namespace {

constexpr std::size_t kMaxEntries = 100000;

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, KeyCache& cache)
      : notification_receiver(conn, kKeysChannel), cache_(cache) {}
  void operator()(const std::string&, int) override { cache_.Clear(); }

 private:
  KeyCache& cache_;
};

}  // namespace

KeyCache::KeyCache(db::Database& db, const config::Config& config)
    : db_(db), ttl_(std::chrono::milliseconds(config.key_cache_ttl_ms)) {}

KeyCache::~KeyCache() {
  stop_ = true;
  stop_cv_.notify_all();
  if (listener_.joinable()) listener_.join();
}

void KeyCache::Start() {
  if (ttl_.count() > 0 && !listener_.joinable()) listener_ = std::thread([this] { Listen(); });
}

std::optional<Principal> KeyCache::Get(const std::string& key_hash) {
  if (!listening_) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = entries_.find(key_hash);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires < std::chrono::steady_clock::now()) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.principal;
}

void KeyCache::Put(const std::string& key_hash, const Principal& principal, std::uint64_t generation) {
  if (!listening_) return;
  std::lock_guard lock(mu_);
  if (generation != generation_.load()) return;  // invalidated while this lookup ran
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_[key_hash] = Entry{principal, std::chrono::steady_clock::now() + ttl_};
}

void KeyCache::Clear() {
  std::lock_guard lock(mu_);
  ++generation_;
  entries_.clear();
}

void KeyCache::Listen() {
  while (!stop_) {
    try {
      auto conn = db_.ConnectDedicated();
      Receiver receiver(conn->conn(), *this);  // LISTEN unipoints_keys
      Clear();                                 // whatever was revoked while no one listened
      listening_ = true;
      while (!stop_) conn->conn().await_notification(0, 250000);
    } catch (const std::exception& e) {
      spdlog::warn("key cache: not listening for revocations ({}); keys are looked up every time", e.what());
    }
    listening_ = false;
    Clear();
    std::unique_lock lock(stop_mu_);
    stop_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_.load(); });
  }
}

}  // namespace unipoints::tenancy
