#include "unipoints/db/batcher.hpp"

#include <atomic>
#include <stdexcept>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace unipoints::db {
namespace {

namespace asio = boost::asio;

struct Doubled {
  int value = 0;
  std::exception_ptr error;
};

using IntBatcher = Batcher<int, Doubled>;

// Submits 0..n-1 from n coroutines on one io_context; returns what each got (-1: it threw).
std::vector<int> SubmitAll(IntBatcher& batcher, int n) {
  asio::io_context io;
  std::vector<int> got(n, -2);
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(
        io,
        [&batcher, &got, i]() -> asio::awaitable<void> {
          try {
            got[i] = (co_await batcher.Submit(i)).value;
          } catch (const std::exception&) {
            got[i] = -1;
          }
        },
        asio::detached);
  }
  io.run();
  return got;
}

TEST(BatcherTest, GathersConcurrentSubmissionsAndAnswersEachItsOwn) {
  std::mutex mu;
  std::vector<std::size_t> sizes;
  IntBatcher batcher({8, std::chrono::microseconds(20000), 1}, [&](const std::vector<const int*>& items) {
    std::lock_guard lock(mu);
    sizes.push_back(items.size());
    std::vector<Doubled> out;
    for (const int* i : items) out.push_back({*i * 2, nullptr});
    return out;
  });
  batcher.Start();
  auto got = SubmitAll(batcher, 20);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i], i * 2);
  std::size_t total = 0;
  for (auto s : sizes) {
    EXPECT_LE(s, 8u);
    total += s;
  }
  EXPECT_EQ(total, 20u);
  EXPECT_LT(sizes.size(), 20u);  // the window gathered some items together
  batcher.Stop();
}

TEST(BatcherTest, AFailedBatchFailsEachOfItsItemsAndOnlyThem) {
  IntBatcher batcher({1, std::chrono::microseconds(0), 2}, [](const std::vector<const int*>& items) {
    if (*items[0] % 3 == 0) throw std::runtime_error("down");
    std::vector<Doubled> out(items.size());
    out[0].value = *items[0];
    if (*items[0] % 3 == 1) out[0].error = std::make_exception_ptr(std::runtime_error("item"));
    return out;
  });
  batcher.Start();
  auto got = SubmitAll(batcher, 9);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(got[i], i % 3 == 2 ? i : -1) << i;
  batcher.Stop();
}

TEST(BatcherTest, AnApplyWithTheWrongNumberOfOutcomesFailsItsItems) {
  // The window is long enough for all three to make one batch.
  IntBatcher batcher({3, std::chrono::seconds(5), 1},
                     [](const std::vector<const int*>&) { return std::vector<Doubled>(1); });
  batcher.Start();
  auto got = SubmitAll(batcher, 3);
  for (int g : got) EXPECT_EQ(g, -1);
  batcher.Stop();
}

TEST(BatcherTest, WithoutThreadsStopHandlesWhatIsQueuedAndRefusesLaterSubmissions) {
  std::atomic<int> applied{0};
  IntBatcher batcher({4, std::chrono::microseconds(0), 1}, [&](const std::vector<const int*>& items) {
    applied += static_cast<int>(items.size());
    return std::vector<Doubled>(items.size());
  });
  asio::io_context io;
  int first = -2;
  int later = -2;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        first = (co_await batcher.Submit(1)).value;
        try {
          later = (co_await batcher.Submit(2)).value;
        } catch (const core::DomainError& e) {
          later = e.code() == core::ErrorCode::kServiceUnavailable ? -1 : -3;
        }
      },
      asio::detached);
  io.poll();  // the first submission is queued, nobody handles it yet
  EXPECT_EQ(applied.load(), 0);
  batcher.Stop();
  io.run();
  EXPECT_EQ(applied.load(), 1);
  EXPECT_EQ(first, 0);
  EXPECT_EQ(later, -1);
}

}  // namespace
}  // namespace unipoints::db
