// Batch accruals: one result per event in input order; exactly the valid new events are applied.

#include <chrono>
#include <map>
#include <thread>

#include <pqxx/pqxx>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class BatchTest : public IntegrationTest {};

constexpr int kMembers = 20;

TEST_F(BatchTest, TenThousandEventsWithDuplicatesAndInvalidLinesApplyExactlyTheValidNewOnes) {
  auto a = CreateAlliance();
  std::vector<Enrolled> members;
  for (int i = 0; i < kMembers; ++i) members.push_back(Enrol(a.agent));
  std::map<std::int64_t, std::int64_t> expected;  // member id -> points, retail 1 CNY = 1 point
  auto amount_of = [](int i) -> std::int64_t { return 100 + (static_cast<std::int64_t>(i) * 7919) % 49901; };

  // An earlier batch of 200 events, all new.
  const std::string run = Unique("b");
  json earlier = json::array();
  for (int i = 0; i < 200; ++i) {
    const auto& m = members[i % kMembers];
    earlier.push_back(AmountEvent(run + "-early-" + std::to_string(i), m.card_no, "retail", amount_of(i)));
    expected[m.member_id] += amount_of(i) / 100;
  }
  auto first = http().Post("/v1/accruals/batch", {{"events", earlier}}, a.r_key);
  ASSERT_EQ(first.status, 200) << first;
  ASSERT_EQ(first.json["results"].size(), 200u);
  for (const auto& res : first.json["results"]) ASSERT_EQ(res["status"], "created") << res;

  // The big batch: exactly 10,000 lines.
  enum class Want { kCreated, kDuplicate, kRejected };
  std::vector<Want> want;
  std::vector<std::int64_t> want_points;
  json events = json::array();
  auto add = [&](json event, Want w, std::int64_t points) {
    events.push_back(std::move(event));
    want.push_back(w);
    want_points.push_back(points);
  };
  int fresh = 0;
  for (int line = 0; events.size() < 9999; ++line) {
    if (line % 50 == 7 && line / 50 < 150) {
      // A repeat of an event of the earlier batch, identical: a duplicate, no new points.
      const int i = line / 50;
      add(earlier[i], Want::kDuplicate, amount_of(i) / 100);
    } else if (line % 97 == 13) {
      add(AmountEvent(run + "-unknown-" + std::to_string(line), UnissuedCardNumber(), "retail", 5000),
          Want::kRejected, 0);
    } else if (line % 89 == 5) {
      add(AmountEvent(run + "-negative-" + std::to_string(line), members[line % kMembers].card_no, "retail",
                      -500),
          Want::kRejected, 0);
    } else if (line % 83 == 3) {
      json event = AmountEvent(run + "-nocat-" + std::to_string(line), members[line % kMembers].card_no,
                               "retail", 700);
      event.erase("category");
      add(event, Want::kRejected, 0);
    } else {
      const auto& m = members[fresh % kMembers];
      const std::int64_t amount = amount_of(100000 + fresh);
      add(AmountEvent(run + "-new-" + std::to_string(fresh), m.card_no, "retail", amount), Want::kCreated,
          amount / 100);
      expected[m.member_id] += amount / 100;
      ++fresh;
    }
  }
  // A repeated id within the batch (same body) as the last line: a duplicate of the earlier line.
  const std::size_t repeat_of = 2;
  ASSERT_EQ(want[repeat_of], Want::kCreated);
  add(events[repeat_of], Want::kDuplicate, want_points[repeat_of]);
  ASSERT_EQ(events.size(), 10000u);

  const auto started = std::chrono::steady_clock::now();
  auto r = http().Post("/v1/accruals/batch", {{"events", events}}, a.r_key);
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(r.status, 200) << r;
  ASSERT_TRUE(r.json["results"].is_array()) << r;
  const auto& results = r.json["results"];
  ASSERT_EQ(results.size(), 10000u) << "one result per event";
  int created = 0, duplicate = 0, rejected = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& res = results[i];
    const auto& ev = events[i];
    ASSERT_EQ(res["event_id"], ev["event_id"]) << "result " << i << " is not in input order: " << res;
    const auto status = res["status"].get<std::string>();
    switch (want[i]) {
      case Want::kCreated:
        ++created;
        ASSERT_EQ(status, "created") << i << ": " << res;
        ASSERT_EQ(res["points"], want_points[i]) << i << ": " << res;
        break;
      case Want::kDuplicate:
        ++duplicate;
        ASSERT_EQ(status, "duplicate") << i << ": " << res;
        ASSERT_EQ(res["points"], want_points[i]) << i << ": " << res;
        break;
      case Want::kRejected:
        ++rejected;
        ASSERT_EQ(status, "rejected") << i << ": " << res;
        ASSERT_TRUE(res.contains("error") && !res["error"].is_null()) << i << ": " << res;
        break;
    }
  }
  EXPECT_GT(duplicate, 100);
  EXPECT_GT(rejected, 250);
  EXPECT_GT(created, 9000);
  std::printf("[ batch    ] 10,000 events (%d created, %d duplicate, %d rejected) in %.2f s\n", created,
              duplicate, rejected, seconds);

  std::int64_t expected_total = 0;
  for (const auto& m : members) {
    auto b = Balance(a.agent, m.member_id);
    EXPECT_EQ(b["available"], expected[m.member_id]) << "member " << m.member_id << ": " << b;
    EXPECT_EQ(b["lifetime"], expected[m.member_id]) << "member " << m.member_id << ": " << b;
    EXPECT_EQ(b["by_source"]["R"], expected[m.member_id]) << b;
    expected_total += expected[m.member_id];
  }
  EXPECT_GT(expected_total, 0);

  // The same batch again changes nothing: every event is now a duplicate or rejected again.
  auto again = http().Post("/v1/accruals/batch", {{"events", events}}, a.r_key);
  ASSERT_EQ(again.status, 200) << again;
  ASSERT_EQ(again.json["results"].size(), 10000u);
  for (std::size_t i = 0; i < 10000; ++i) {
    const auto& res = again.json["results"][i];
    ASSERT_EQ(res["event_id"], events[i]["event_id"]) << i;
    if (want[i] == Want::kRejected) {
      ASSERT_EQ(res["status"], "rejected") << i << ": " << res;
    } else {
      ASSERT_EQ(res["status"], "duplicate") << i << ": " << res;
      ASSERT_EQ(res["points"], want_points[i]) << i << ": " << res;
    }
  }
  for (const auto& m : members) {
    EXPECT_EQ(Balance(a.agent, m.member_id)["available"], expected[m.member_id])
        << "a replayed batch credited again";
  }
}

TEST_F(BatchTest, EventsOfAMemberAnotherTransactionHoldsWaitForItTheOthersDoNot) {
  auto a = CreateAlliance();
  auto free_member = Enrol(a.agent);
  auto held_member = Enrol(a.agent);
  pqxx::connection conn(server().database_url());
  auto holder = std::make_unique<pqxx::work>(conn);
  holder->exec("SELECT id FROM members WHERE id = " + std::to_string(held_member.member_id) + " FOR UPDATE");

  const std::string run = Unique("held");
  json events = json::array({AmountEvent(run + "-1", held_member.card_no, "retail", 1000),
                             AmountEvent(run + "-2", free_member.card_no, "retail", 2000),
                             AmountEvent(run + "-3", held_member.card_no, "retail", 3000),
                             AmountEvent(run + "-1", held_member.card_no, "retail", 1000)});
  Response result;
  auto client = NewClient();
  std::thread poster([&] { result = client->Post("/v1/accruals/batch", {{"events", events}}, a.r_key); });
  auto committed = [&](const std::string& event_id) {
    return server().Sql("SELECT count(*) FROM accruals WHERE event_id = $1", {event_id})[0][0].value_or("") ==
           "1";
  };
  // The free member's event is applied and committed while the other member is held ...
  bool free_done = false;
  for (int i = 0; i < 200 && !free_done; ++i) {
    free_done = committed(run + "-2");
    if (!free_done) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(free_done) << "the batch waited for a member it did not need";
  EXPECT_FALSE(committed(run + "-1"));
  // ... and the held member's events once it is released, in their order.
  holder->abort();
  poster.join();
  ASSERT_EQ(result.status, 200) << result;
  ASSERT_EQ(result.json["results"].size(), 4u) << result;
  EXPECT_EQ(result.json["results"][0]["status"], "created") << result;
  EXPECT_EQ(result.json["results"][1]["status"], "created") << result;
  EXPECT_EQ(result.json["results"][2]["status"], "created") << result;
  EXPECT_EQ(result.json["results"][3]["status"], "duplicate") << result;
  EXPECT_EQ(Balance(a.agent, held_member.member_id)["available"], 40);
  EXPECT_EQ(Balance(a.agent, free_member.member_id)["available"], 20);
  auto ledger = Ledger(a.agent, held_member.member_id);
  ASSERT_EQ(ledger.size(), 2u);
  EXPECT_EQ(ledger[0]["points"], 30);  // newest first: the later event was applied last
  EXPECT_EQ(ledger[1]["points"], 10);
}

TEST_F(BatchTest, EventIdUsedBySingleAccrualIsADuplicateInABatch) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto event = AmountEvent(NewEventId(), m.card_no, "data", 1234);
  auto single = http().Post("/v1/accruals", event, a.t_key);
  ASSERT_EQ(single.status, 201) << single;
  auto batch = http().Post("/v1/accruals/batch", {{"events", {event}}}, a.t_key);
  ASSERT_EQ(batch.status, 200) << batch;
  EXPECT_EQ(batch.json["results"][0]["status"], "duplicate") << batch;
  EXPECT_EQ(batch.json["results"][0]["points"], 24) << batch;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 24);
}

TEST_F(BatchTest, SameIdWithAnotherBodyInABatchIsRejected) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto id = NewEventId();
  auto batch = http().Post(
      "/v1/accruals/batch",
      {{"events", {AmountEvent(id, m.card_no, "retail", 1000), AmountEvent(id, m.card_no, "retail", 9000)}}},
      a.r_key);
  ASSERT_EQ(batch.status, 200) << batch;
  EXPECT_EQ(batch.json["results"][0]["status"], "created") << batch;
  EXPECT_EQ(batch.json["results"][1]["status"], "rejected") << batch;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 10);
}

TEST_F(BatchTest, LostCardLineIsRejectedWithCardLost) {
  auto a = CreateAlliance();
  auto ok = Enrol(a.agent);
  auto lost = Enrol(a.agent);
  ASSERT_EQ(http().Call("POST", "/v1/cards/" + lost.card_no + "/report-lost", std::nullopt, a.agent).status,
            200);
  auto batch = http().Post("/v1/accruals/batch",
                           {{"events",
                             {AmountEvent(NewEventId(), ok.card_no, "retail", 1000),
                              AmountEvent(NewEventId(), lost.card_no, "retail", 1000),
                              AmountEvent(NewEventId(), ok.card_no, "retail", 2000)}}},
                           a.r_key);
  ASSERT_EQ(batch.status, 200) << batch;
  const auto& res = batch.json["results"];
  EXPECT_EQ(res[0]["status"], "created");
  EXPECT_EQ(res[1]["status"], "rejected");
  EXPECT_NE(res[1].dump().find("card_lost"), std::string::npos) << res[1];
  EXPECT_EQ(res[2]["status"], "created");
  EXPECT_EQ(Balance(a.agent, ok.member_id)["available"], 30);
  EXPECT_EQ(Balance(a.agent, lost.member_id)["available"], 0);
}

TEST_F(BatchTest, MoreThanTenThousandEventsIs400AndAppliesNothing) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  json events = json::array();
  for (int i = 0; i < 10001; ++i) events.push_back(AmountEvent(Unique("over-"), m.card_no, "retail", 100));
  auto r = http().Post("/v1/accruals/batch", {{"events", events}}, a.r_key);
  EXPECT_TRUE(IsProblem(r, 400, {}, "events"));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 0);
}

TEST_F(BatchTest, MalformedBatchBodiesAre400) {
  auto a = CreateAlliance();
  EXPECT_TRUE(IsProblem(http().Post("/v1/accruals/batch", {{"events", "nope"}}, a.r_key), 400, {}, "events"));
  EXPECT_TRUE(IsProblem(http().Post("/v1/accruals/batch", json::object(), a.r_key), 400, {}, "events"));
  EXPECT_TRUE(
      IsProblem(http().Post("/v1/accruals/batch", {{"events", json::array()}}, a.r_key), 400, {}, "events"));
}

TEST_F(BatchTest, NonObjectLineIsRejectedOthersApplied) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  auto r = http().Post("/v1/accruals/batch",
                       {{"events", {42, AmountEvent(NewEventId(), m.card_no, "retail", 1000)}}}, a.r_key);
  ASSERT_EQ(r.status, 200) << r;
  ASSERT_EQ(r.json["results"].size(), 2u) << r;
  EXPECT_EQ(r.json["results"][0]["status"], "rejected");
  EXPECT_EQ(r.json["results"][1]["status"], "created");
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 10);
}

TEST_F(BatchTest, AnEventTheDatabaseRefusesIsRejectedAloneAndTheOthersAreAnswered) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto run = Unique("poison");
  PoisonAccruals();
  json events = json::array({AmountEvent(run + "-1", m.card_no, "retail", 1000),
                             AmountEvent(run + "-poison", m.card_no, "retail", 5000),
                             AmountEvent(run + "-2", m.card_no, "retail", 300)});
  auto r = http().Post("/v1/accruals/batch", {{"events", events}}, a.r_key);
  CurePoison();
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["results"][0]["status"], "created") << r;
  EXPECT_EQ(r.json["results"][1]["status"], "rejected") << r;
  EXPECT_EQ(r.json["results"][1]["error"]["code"], "internal_error") << r;
  EXPECT_EQ(r.json["results"][2]["status"], "created") << r;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 13) << "only the two applied events";
  // The refused event's id was not used up: posted again, it is applied.
  auto again = http().Post("/v1/accruals/batch", {{"events", events}}, a.r_key);
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.json["results"][0]["status"], "duplicate") << again;
  EXPECT_EQ(again.json["results"][1]["status"], "created") << again;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 63);
}

}  // namespace
}  // namespace unipoints::testing
