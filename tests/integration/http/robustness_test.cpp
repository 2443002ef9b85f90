// Hostile or odd requests are answered with a 4xx and the server stays up.

#include <sstream>
#include <thread>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class RobustnessTest : public IntegrationTest {
 protected:
  void ExpectAlive(const std::string& after) {
    std::string problem;
    try {
      auto r = NewClient()->Get("/healthz");
      if (r.status == 200) return;
      std::ostringstream os;
      os << r;
      problem = os.str();
    } catch (const std::exception& e) {
      problem = e.what();
    }
    for (int i = 0; i < 50 && !server().Exited(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_FALSE(server().Exited()) << "the server died after " << after << " (" << server().how_ended()
                                    << ")";
    ADD_FAILURE() << "the server does not answer /healthz after " << after << ": " << problem;
  }

  // The answer, or a failure (and status 0) when the connection broke instead.
  Response TryCall(const std::string& what, std::string_view method, std::string_view target,
                   const std::string& key, const CallOptions& options) {
    try {
      return http().Call(method, target, std::nullopt, key, options);
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << ": no answer: " << e.what();
      return Response{};
    }
  }
};

TEST_F(RobustnessTest, OddTargetsAre4xx) {
  auto a = CreateAlliance();
  const std::vector<std::string> targets = {
      "/v1/members/-1",
      "/v1/members/0",
      "/v1/members/99999999999999999999999",
      "/v1/members/1%2F2",
      "/v1/members?phone=%ff%fe",

      "/v1/members/%00",
      "/v1/members/%ZZ",
      "/v1/members/1/balance/x",
      "/v1/members?card_no=",
      "/v1/members?card_no=%E4%B8%AD%ff",
      "/v1/members//balance",
      "/v1/members/1.5",
      "/v1/members/" + std::string(5000, '9'),
  };
  for (const auto& target : targets) {
    auto r = http().Get(target, a.agent);
    EXPECT_GE(r.status, 400) << target << ": " << r;
    EXPECT_LT(r.status, 500) << target << ": " << r;
    EXPECT_TRUE(IsProblem(r, r.status)) << target;
  }
  // A search by a non-UTF-8 identity number may find nothing or be refused, but never fail.
  auto id = http().Get("/v1/members?id_number=%ff%fe", a.agent);
  EXPECT_LT(id.status, 500) << id;
  ExpectAlive("odd targets");
}

TEST_F(RobustnessTest, DeeplyNestedJsonIs400AndTheServerSurvives) {
  auto a = CreateAlliance();
  for (int depth : {1000, 1000000}) {
    std::string body = "{\"event_id\": " + std::string(depth, '[') + std::string(depth, ']') + "}";
    const auto what = "nesting depth " + std::to_string(depth);
    auto r = TryCall(what, "POST", "/v1/accruals", a.r_key, RawBody(body));
    if (r.status != 0) {
      EXPECT_TRUE(IsProblem(r, 400)) << what;
    }
    ExpectAlive(what);
    if (HasFatalFailure()) return;
  }
}

TEST_F(RobustnessTest, OversizedHeadersAre4xx) {
  auto r =
      TryCall("a 20 KiB header", "GET", "/healthz", {}, WithHeader("X-Padding", std::string(20 * 1024, 'p')));
  EXPECT_GE(r.status, 400) << r;
  EXPECT_LT(r.status, 500) << r;
  ExpectAlive("a 20 KiB header");
}

TEST_F(RobustnessTest, HugeKeyIs401) {
  EXPECT_TRUE(IsProblem(http().Get("/v1/tenant", std::string(8000, 'k')), 401));
  ExpectAlive("an 8000-character key");
}

TEST_F(RobustnessTest, HeadAnswersGetsHeaderAndOptionsAndA405NameTheAllowedMethods) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto path = "/v1/members/" + std::to_string(m.member_id);
  const auto get = http().Get(path, a.agent);
  ASSERT_EQ(get.status, 200) << get;
  auto head = http().Call("HEAD", path, std::nullopt, a.agent);
  EXPECT_EQ(head.status, 200) << head;
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.Header("content-length"), std::to_string(get.body.size())) << head;
  EXPECT_EQ(http().Call("HEAD", "/healthz").status, 200);
  // The connection is still in step: the next answer is its own.
  EXPECT_EQ(http().Get("/healthz").status, 200);
  EXPECT_EQ(http().connects(), 1);

  auto options = http().Call("OPTIONS", "/v1/members");
  EXPECT_EQ(options.status, 204) << options;
  EXPECT_EQ(options.Header("allow"), "POST, GET, HEAD, OPTIONS") << options;
  EXPECT_FALSE(options.HasHeader("content-length")) << options;
  auto wrong = http().Call("DELETE", "/healthz");
  EXPECT_TRUE(IsProblem(wrong, 405)) << wrong;
  EXPECT_EQ(wrong.Header("allow"), "GET, HEAD, OPTIONS") << wrong;
  auto head_of_post = http().Call("HEAD", "/v1/accruals", std::nullopt, a.r_key);
  EXPECT_EQ(head_of_post.status, 405) << head_of_post;
  EXPECT_EQ(head_of_post.body, "");
  EXPECT_EQ(head_of_post.Header("allow"), "POST, OPTIONS") << head_of_post;
  EXPECT_EQ(http().Get("/healthz").status, 200);
}

TEST_F(RobustnessTest, TwoAuthorizationHeadersAre401EvenWhenBothAreValid) {
  auto a = CreateAlliance();
  CallOptions same;
  same.repeated_headers = {{"Authorization", "Bearer " + a.admin}};
  auto twice = http().Call("GET", "/v1/partners", std::nullopt, a.admin, same);
  EXPECT_TRUE(IsProblem(twice, 401)) << twice;
  CallOptions other_key;
  other_key.repeated_headers = {{"Authorization", "Bearer " + a.admin}};
  auto other = http().Call("GET", "/v1/partners", std::nullopt, a.agent, other_key);
  EXPECT_TRUE(IsProblem(other, 401)) << other;
  EXPECT_EQ(http().Get("/v1/partners", a.admin).status, 200);
}

TEST_F(RobustnessTest, NulAndControlCharactersInStringsAreRejected) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const std::string body =
      "{\"event_id\":\"e\\u0000x\",\"card_no\":\"" + m.card_no +
      "\",\"category\":\"retail\",\"amount_minor\":100,\"occurred_at\":\"2026-06-01T10:00:00+08:00\"}";
  auto r = http().Call("POST", "/v1/accruals", std::nullopt, a.r_key, RawBody(body));
  EXPECT_TRUE(IsProblem(r, 400, {}, "event_id"));
  auto name = http().Call(
      "POST", "/v1/members", std::nullopt, a.agent,
      RawBody("{\"name\":\"a\\u0000b\",\"gender\":\"male\",\"id_type\":\"resident_id\",\"id_number\":\"" +
              NewIdNumber() + "\"}"));
  EXPECT_TRUE(IsProblem(name, 400, {}, "name"));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 0);
}

TEST_F(RobustnessTest, ReplayAfterTheCardWasLostStillReturnsTheFirstAnswer) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto event = AmountEvent(NewEventId(), m.card_no, "retail", 3000);
  auto first = http().Post("/v1/accruals", event, a.r_key);
  ASSERT_EQ(first.status, 201) << first;
  ASSERT_EQ(http().Call("POST", "/v1/cards/" + m.card_no + "/report-lost", std::nullopt, a.agent).status,
            200);
  auto replay = http().Post("/v1/accruals", event, a.r_key);
  EXPECT_EQ(replay.status, 200) << replay;
  EXPECT_EQ(replay.Header("Idempotent-Replay"), "true") << replay;
  EXPECT_EQ(replay.json, first.json);
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 30);
}

TEST_F(RobustnessTest, ManyConnectionsOpenedAndDroppedLeaveTheServerUsable) {
  for (int i = 0; i < 200; ++i) {
    HttpClient c(server().host(), server().port());
    auto r = c.Get("/healthz");
    ASSERT_EQ(r.status, 200) << r;
  }
  ExpectAlive("200 short connections");
  EXPECT_EQ(http().Get("/readyz").status, 200);
}

}  // namespace
}  // namespace unipoints::testing
