// Graceful stop: on SIGTERM/SIGINT in-flight requests finish, idle connections close, exit code 0.

#include <signal.h>

#include <atomic>
#include <thread>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

// Each test stops its server; the harness starts a fresh one for the next.
class LifecycleTest : public IntegrationTest {};

TEST_F(LifecycleTest, SigtermWhileABatchIsInFlightAnswersItAndExitsZero) {
  auto a = CreateAlliance();
  std::vector<Enrolled> members;
  for (int i = 0; i < 10; ++i) members.push_back(Enrol(a.agent));
  json events = json::array();
  const std::string run = Unique("stop");
  for (int i = 0; i < 10000; ++i) {
    events.push_back(
        AmountEvent(run + "-" + std::to_string(i), members[i % members.size()].card_no, "retail", 100 + i));
  }
  const json body = {{"events", events}};

  std::atomic<bool> sent{false};
  std::atomic<bool> answered{false};
  Response response;
  std::string error;
  auto client = NewClient();
  std::thread caller([&] {
    try {
      sent = true;
      response = client->Post("/v1/accruals/batch", body, a.r_key);
    } catch (const std::exception& e) {
      error = e.what();
    }
    answered = true;
  });

  // Wait until the server is visibly working on the batch (its first chunk committed), or 2 s.
  const auto tenant = std::to_string(a.tenant.id());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    if (answered) break;
    auto rows = server().Sql("SELECT count(*) FROM accruals WHERE tenant_id = $1", {tenant});
    if (rows.at(0).at(0).value_or("0") != "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const bool finished_before_signal = answered.load();
  server().Signal(SIGTERM);
  const int code = server().Wait(std::chrono::seconds(60));
  caller.join();

  ASSERT_FALSE(finished_before_signal) << "the batch finished before SIGTERM; the test proves nothing";
  EXPECT_EQ(code, 0) << "exit code after SIGTERM\n" << server().LogTail();
  ASSERT_TRUE(error.empty()) << "the in-flight batch got no answer: " << error << "\n" << server().LogTail();
  ASSERT_EQ(response.status, 200) << response;
  ASSERT_EQ(response.json["results"].size(), 10000u) << response;
  int created = 0;
  for (const auto& r : response.json["results"]) created += r["status"] == "created" ? 1 : 0;
  EXPECT_EQ(created, 10000);
  auto rows = server().Sql("SELECT count(*) FROM accruals WHERE tenant_id = $1", {tenant});
  EXPECT_EQ(rows.at(0).at(0).value_or("?"), "10000") << "the answered batch is not all stored";
}

TEST_F(LifecycleTest, IdleKeepAliveConnectionDoesNotDelayStop) {
  auto client = NewClient();
  ASSERT_EQ(client->Get("/healthz").status, 200);  // leaves an idle kept-alive connection open
  const auto started = std::chrono::steady_clock::now();
  server().Signal(SIGTERM);
  const int code = server().Wait(std::chrono::seconds(30));
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(code, 0) << server().LogTail();
  EXPECT_LT(took, 5.0) << "an idle keep-alive connection held the stop for " << took << " s";
}

TEST_F(LifecycleTest, SigintStopsGracefullyToo) {
  ASSERT_EQ(http().Get("/readyz").status, 200);
  server().Signal(SIGINT);
  EXPECT_EQ(server().Wait(std::chrono::seconds(30)), 0) << server().LogTail();
}

}  // namespace
}  // namespace unipoints::testing
