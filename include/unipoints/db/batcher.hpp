#pragma once
// Gathers requests that coroutines submit one by one into batches, each handled in one go on a
// thread of the batcher's own (never on an io_context thread): group commit of single accruals,
// grouped balance reads. A thread takes what is queued, up to `max` items, once the first has
// waited `window` (0: at once) or the batch is full; while it works, the next batch gathers, so
// batches grow with the load and cost nothing when it is light. Each submitter resumes on its
// own executor with its own outcome.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "unipoints/core/error.hpp"

namespace unipoints::db {

// Outcome must be default-constructible and have a member `std::exception_ptr error`, set when
// the item failed (Submit rethrows it).
template <typename Item, typename Outcome>
class Batcher {
 public:
  // One outcome per item, in order. A throw fails every item of the batch with that exception.
  using Apply = std::function<std::vector<Outcome>(const std::vector<const Item*>&)>;

  struct Limits {
    std::size_t max_items;
    std::chrono::microseconds window;
    int threads;
  };

  Batcher(Limits limits, Apply apply) : limits_(limits), apply_(std::move(apply)) {}
  ~Batcher() { Stop(); }
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  void Start() {
    std::lock_guard lock(mu_);
    if (!threads_.empty() || stopping_) return;
    for (int i = 0; i < limits_.threads; ++i) threads_.emplace_back([this] { Work(); });
  }

  // Handles what is queued, then stops the threads. Later submissions fail with 503.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    // Nothing may wait for ever: without threads (never started), handle what is left here.
    std::vector<Waiting> rest;
    {
      std::lock_guard lock(mu_);
      for (auto& w : queue_) rest.push_back(std::move(w));
      queue_.clear();
    }
    if (!rest.empty()) Handle(rest);
  }

  // The item's outcome once its batch was handled; rethrows the item's error.
  boost::asio::awaitable<Outcome> Submit(Item item) {
    namespace asio = boost::asio;
    auto outcome = co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Outcome)>(
        [this, &item](auto handler) {
          auto ex = asio::get_associated_executor(handler);
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          Enqueue(std::move(item), [shared, ex](Outcome result) {
            asio::post(ex, [shared, result = std::move(result)]() mutable { (*shared)(std::move(result)); });
          });
        },
        asio::use_awaitable);
    if (outcome.error) std::rethrow_exception(outcome.error);
    co_return outcome;
  }

 private:
  struct Waiting {
    Item item;
    std::function<void(Outcome)> done;
    std::chrono::steady_clock::time_point arrived;
  };

  void Enqueue(Item item, std::function<void(Outcome)> done) {
    {
      std::lock_guard lock(mu_);
      if (!stopping_) {
        queue_.push_back(Waiting{std::move(item), std::move(done), std::chrono::steady_clock::now()});
        if (queue_.size() == 1 || queue_.size() >= limits_.max_items) cv_.notify_one();
        return;
      }
    }
    Outcome refused;
    refused.error = std::make_exception_ptr(
        core::DomainError(core::ErrorCode::kServiceUnavailable, "The server is shutting down"));
    done(std::move(refused));
  }

  void Work() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      if (limits_.window.count() > 0) {
        // Gather: until the batch is full or the first item has waited the window.
        const auto deadline = queue_.front().arrived + limits_.window;
        cv_.wait_until(lock, deadline, [&] { return stopping_ || queue_.size() >= limits_.max_items; });
        if (queue_.empty()) continue;  // another thread took them
      }
      std::vector<Waiting> batch;
      const auto n = std::min(limits_.max_items, queue_.size());
      batch.reserve(n);
      for (std::size_t k = 0; k < n; ++k) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (!queue_.empty()) cv_.notify_one();  // the next batch starts gathering on another thread
      lock.unlock();
      Handle(batch);
      lock.lock();
    }
  }

  void Handle(std::vector<Waiting>& batch) {
    std::vector<const Item*> items;
    items.reserve(batch.size());
    for (const auto& w : batch) items.push_back(&w.item);
    std::vector<Outcome> outcomes;
    try {
      outcomes = apply_(items);
      if (outcomes.size() != batch.size()) throw std::logic_error("Batcher: one outcome per item expected");
    } catch (...) {
      auto error = std::current_exception();
      for (auto& w : batch) {
        Outcome failed;
        failed.error = error;
        w.done(std::move(failed));
      }
      return;
    }
    for (std::size_t k = 0; k < batch.size(); ++k) batch[k].done(std::move(outcomes[k]));
  }

  const Limits limits_;
  const Apply apply_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Waiting> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace unipoints::db
