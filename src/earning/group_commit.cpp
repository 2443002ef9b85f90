#include "unipoints/earning/group_commit.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "unipoints/core/error.hpp"

namespace unipoints::earning {

namespace asio = boost::asio;

AccrualCommitter::AccrualCommitter(db::Database& db, const config::Config& config, const core::Clock& clock,
                                   RuleCache& rules, http::Metrics& metrics)
    : db_(db), config_(config), clock_(clock), rules_(rules), metrics_(metrics) {}

AccrualCommitter::~AccrualCommitter() { Stop(); }

void AccrualCommitter::Start() {
  std::lock_guard lock(mu_);
  if (!writers_.empty() || stopping_) return;
  for (int i = 0; i < config_.group_commit_writers; ++i) writers_.emplace_back([this] { Writer(); });
}

void AccrualCommitter::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : writers_) t.join();
  writers_.clear();
  // Nothing may wait for ever: without writers (never started), apply what is left here.
  std::vector<Waiting> rest;
  {
    std::lock_guard lock(mu_);
    for (auto& w : queue_) rest.push_back(std::move(w));
    queue_.clear();
  }
  if (!rest.empty()) Apply(rest);
}

asio::awaitable<AccrualOutcome> AccrualCommitter::Submit(AccrualItem item) {
  auto outcome = co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(AccrualOutcome)>(
      [this, &item](auto handler) {
        auto ex = asio::get_associated_executor(handler);
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        Enqueue(std::move(item), [shared, ex](AccrualOutcome result) {
          asio::post(ex, [shared, result = std::move(result)]() mutable { (*shared)(std::move(result)); });
        });
      },
      asio::use_awaitable);
  if (outcome.error) std::rethrow_exception(outcome.error);
  co_return outcome;
}

void AccrualCommitter::Enqueue(AccrualItem item, std::function<void(AccrualOutcome)> done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Waiting{std::move(item), std::move(done), std::chrono::steady_clock::now()});
      if (queue_.size() == 1 || queue_.size() >= static_cast<std::size_t>(config_.group_commit_max_events)) {
        cv_.notify_one();
      }
      return;
    }
  }
  AccrualOutcome refused;
  refused.error = std::make_exception_ptr(
      core::DomainError(core::ErrorCode::kServiceUnavailable, "The server is shutting down"));
  done(std::move(refused));
}

void AccrualCommitter::Writer() {
  const auto max = static_cast<std::size_t>(config_.group_commit_max_events);
  const auto window = std::chrono::microseconds(config_.group_commit_window_us);
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    // Gather: until the batch is full or the first event has waited the window.
    const auto deadline = queue_.front().arrived + window;
    cv_.wait_until(lock, deadline, [&] { return stopping_ || queue_.size() >= max; });
    if (queue_.empty()) continue;  // another writer took them
    std::vector<Waiting> batch;
    const auto n = std::min(max, queue_.size());
    batch.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    if (!queue_.empty()) cv_.notify_one();  // the next batch starts gathering on another writer
    lock.unlock();
    Apply(batch);
    lock.lock();
  }
}

void AccrualCommitter::Apply(std::vector<Waiting>& batch) {
  std::vector<const AccrualItem*> items;
  items.reserve(batch.size());
  for (const auto& w : batch) items.push_back(&w.item);
  std::vector<AccrualOutcome> outcomes;
  try {
    outcomes = ApplyAccrualsIsolated(db_, items, rules_, clock_);
  } catch (...) {
    auto error = std::current_exception();
    for (auto& w : batch) {
      AccrualOutcome failed;
      failed.error = error;
      w.done(std::move(failed));
    }
    return;
  }
  metrics_.Add("unipoints_group_commit_batches_total", "", 1);
  metrics_.Add("unipoints_group_commit_events_total", "", static_cast<std::int64_t>(batch.size()));
  for (std::size_t k = 0; k < batch.size(); ++k) batch[k].done(std::move(outcomes[k]));
}

}  // namespace unipoints::earning
