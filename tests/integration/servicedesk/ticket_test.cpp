// The service desk over HTTP: response deadlines by severity (major 4 h, normal 12 h) on the
// business clock, status moves, the owner, repeat contacts, the history and the overdue list.

#include <string>
#include <vector>

#include "lots/time_fixture.hpp"

namespace unipoints::testing {
namespace {

class TicketTest : public TimeTest {
 protected:
  json Open(const std::string& key, const json& body) {
    auto r = http().Post("/v1/tickets", body, key);
    EXPECT_EQ(r.status, 201) << r;
    return r.json;
  }
  Response Patch(const std::string& key, std::int64_t id, const json& body) {
    return http().Call("PATCH", "/v1/tickets/" + std::to_string(id), body, key);
  }
  std::vector<std::int64_t> Ids(const std::string& key, const std::string& query) {
    auto r = http().Get("/v1/tickets" + query, key);
    EXPECT_EQ(r.status, 200) << r;
    std::vector<std::int64_t> ids;
    for (const auto& t : r.json["items"]) ids.push_back(t["ticket_id"].get<std::int64_t>());
    return ids;
  }
};

TEST_F(TicketTest, DeadlinesOwnerRepeatsHistoryAndTheOverdueList) {
  SetClock("2026-12-01T09:00:00+08:00");
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto major = Open(a.agent, {{"member_id", m.member_id},
                                    {"kind", "complaint"},
                                    {"severity", "major"},
                                    {"subject", "积分未到账"},
                                    {"body", "12 月账单的积分没有到账"},
                                    {"channel", "phone"}});
  EXPECT_EQ(major["due_at"], "2026-12-01T05:00:00Z") << major;  // 4 hours after 09:00 in Shanghai
  EXPECT_EQ(major["status"], "open");
  EXPECT_EQ(major["overdue"], false);
  EXPECT_EQ(major["repeat_count"], 0);
  const auto normal =
      Open(a.agent,
           {{"kind", "suggestion"}, {"severity", "normal"}, {"subject", "more rewards"}, {"channel", "web"}});
  EXPECT_EQ(normal["due_at"], "2026-12-01T13:00:00Z") << normal;  // 12 hours
  EXPECT_TRUE(normal["member_id"].is_null());
  const auto major_id = major["ticket_id"].get<std::int64_t>();
  const auto normal_id = normal["ticket_id"].get<std::int64_t>();

  // Three hours on, the normal one is answered in time; five hours on, the major one is overdue.
  SetClock("2026-12-01T12:00:00+08:00");
  auto answered = Patch(a.agent, normal_id, {{"status", "in_progress"}, {"note", "转产品部"}});
  ASSERT_EQ(answered.status, 200) << answered;
  EXPECT_EQ(answered.json["responded_at"], "2026-12-01T04:00:00Z") << answered;
  EXPECT_EQ(answered.json["overdue"], false) << answered;
  SetClock("2026-12-01T14:00:00+08:00");
  EXPECT_EQ(Ids(a.agent, "?overdue=true"), std::vector<std::int64_t>{major_id});
  EXPECT_EQ(Ids(a.agent, "?overdue=false"), std::vector<std::int64_t>{normal_id});
  EXPECT_EQ(Ids(a.agent, "?status=open"), std::vector<std::int64_t>{major_id});
  EXPECT_EQ(Ids(a.agent, "?member_id=" + std::to_string(m.member_id)), std::vector<std::int64_t>{major_id});
  EXPECT_EQ(Ids(a.agent, ""), (std::vector<std::int64_t>{normal_id, major_id}));  // newest first

  // The customer calls again about the same problem: the same ticket counts it.
  const auto other_agent = CreateKey(a.admin, "agent");
  auto repeat = Patch(other_agent, major_id, {{"repeat_contact", true}});
  ASSERT_EQ(repeat.status, 200) << repeat;
  EXPECT_EQ(repeat.json["repeat_count"], 1) << repeat;
  EXPECT_TRUE(repeat.json["responded_at"].is_null()) << "a repeat call is not a response";
  // Resolved late by another agent: still overdue, still owned by the first.
  auto resolved = Patch(other_agent, major_id, {{"status", "resolved"}, {"note", "补发积分"}});
  ASSERT_EQ(resolved.status, 200) << resolved;
  EXPECT_EQ(resolved.json["overdue"], true) << resolved;
  EXPECT_EQ(resolved.json["owner"], major["owner"]) << resolved;
  EXPECT_EQ(resolved.json["resolved_at"], "2026-12-01T06:00:00Z") << resolved;
  auto closed = Patch(a.agent, major_id, {{"status", "closed"}});
  ASSERT_EQ(closed.status, 200) << closed;
  std::vector<std::string> kinds;
  for (const auto& e : closed.json["history"]) kinds.push_back(e["kind"].get<std::string>());
  EXPECT_EQ(kinds, (std::vector<std::string>{"opened", "repeat_contact", "status", "note", "status"}));
  EXPECT_EQ(http().Get("/v1/tickets/" + std::to_string(major_id), a.agent).json, closed.json);
  // Closed is final; a ticket never goes back to open.
  EXPECT_TRUE(IsProblem(Patch(a.agent, major_id, {{"status", "in_progress"}}), 409));
  EXPECT_TRUE(IsProblem(Patch(a.agent, normal_id, {{"status", "open"}}), 409));
  EXPECT_EQ(Ids(a.agent, "?status=closed&overdue=true"), std::vector<std::int64_t>{major_id});
}

TEST_F(TicketTest, BadTicketsAreRefusedAndOtherTenantsSeeNothing) {
  SetClock("2026-12-01T09:00:00+08:00");
  auto a = CreateAlliance();
  EXPECT_TRUE(
      IsProblem(http().Post("/v1/tickets", {{"kind", "rant"}, {"subject", "x"}}, a.agent), 400, "", "kind"));
  EXPECT_TRUE(IsProblem(http().Post("/v1/tickets", {{"kind", "inquiry"}}, a.agent), 400, "", "subject"));
  EXPECT_TRUE(IsProblem(
      http().Post("/v1/tickets", {{"kind", "inquiry"}, {"subject", "x"}, {"member_id", 999999999}}, a.agent),
      422, "unknown_member"));
  EXPECT_EQ(http().Post("/v1/tickets", {{"kind", "inquiry"}, {"subject", "x"}}, a.r_key).status, 403);
  const auto t = Open(a.agent, {{"kind", "inquiry"}, {"subject", "x"}, {"request_id", "t-1"}});
  auto again =
      http().Post("/v1/tickets", {{"kind", "inquiry"}, {"subject", "x"}, {"request_id", "t-1"}}, a.agent);
  EXPECT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.json["ticket_id"], t["ticket_id"]) << again;
  const auto id = t["ticket_id"].get<std::int64_t>();
  EXPECT_TRUE(IsProblem(Patch(a.agent, id, json::object()), 400));
  EXPECT_TRUE(IsProblem(Patch(a.agent, id, {{"status", nullptr}, {"note", nullptr}}), 400));
  EXPECT_TRUE(IsProblem(Patch(a.agent, id, {{"status", "done"}}), 400, "", "status"));
  EXPECT_TRUE(IsProblem(http().Get("/v1/tickets?overdue=maybe", a.agent), 400, "", "overdue"));
  auto b = CreateAlliance();
  EXPECT_EQ(http().Get("/v1/tickets/" + std::to_string(id), b.agent).status, 404);
  EXPECT_EQ(Patch(b.agent, id, {{"note", "x"}}).status, 404);
  EXPECT_TRUE(Ids(b.agent, "").empty());
}

}  // namespace
}  // namespace unipoints::testing
