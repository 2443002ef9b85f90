// Members and cards over HTTP: enrolment, search, profile, identity protection, lost and
// replaced cards.

#include <cstdlib>
#include <map>
#include <set>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class MemberTest : public IntegrationTest {};
class CardTest : public IntegrationTest {};

// ------------------------------------------------------------------ members

TEST_F(MemberTest, EnrolReturnsMemberIdAndALuhnValidCard) {
  auto a = CreateAlliance();
  auto r = http().Post("/v1/members",
                       {{"name", "李四"},
                        {"gender", "male"},
                        {"id_type", "resident_id"},
                        {"id_number", NewIdNumber()},
                        {"phone", "13800138000"}},
                       a.agent);
  ASSERT_EQ(r.status, 201) << r;
  ASSERT_TRUE(r.json["member_id"].is_number_integer()) << r;
  ASSERT_TRUE(r.json["card_no"].is_string()) << r;
  const auto card = r.json["card_no"].get<std::string>();
  EXPECT_EQ(card.size(), 16u) << card;
  EXPECT_TRUE(LuhnValid(card)) << card << " has no valid Luhn check digit";
}

TEST_F(MemberTest, CardNumbersAreDistinct) {
  auto a = CreateAlliance();
  std::set<std::string> cards;
  for (int i = 0; i < 20; ++i) cards.insert(Enrol(a.agent).card_no);
  EXPECT_EQ(cards.size(), 20u);
}

TEST_F(MemberTest, AdminAndPartnerKeysMayEnrol) {
  auto a = CreateAlliance();
  auto by_admin = Enrol(a.admin);
  auto by_partner = Enrol(a.t_key);
  EXPECT_NE(by_admin.member_id, by_partner.member_id);
  auto profile = http().Get("/v1/members/" + std::to_string(by_partner.member_id), a.agent);
  ASSERT_EQ(profile.status, 200) << profile;
  EXPECT_EQ(profile.json["issuing_partner"], "T")
      << "a partner's enrolment should record it as issuer: " << profile;
}

TEST_F(MemberTest, SameIdNumberTwiceIs409) {
  auto a = CreateAlliance();
  const auto id = NewIdNumber();
  Enrol(a.agent, "王五", id);
  auto r = http().Post("/v1/members",
                       {{"name", "王五"}, {"gender", "male"}, {"id_type", "resident_id"}, {"id_number", id}},
                       a.agent);
  EXPECT_TRUE(IsProblem(r, 409));
  EXPECT_EQ(r.body.find(id), std::string::npos) << "the 409 shows the clear identity number";
}

TEST_F(MemberTest, AnEnrolmentRetriedWithItsRequestIdGetsTheFirstAnswer) {
  auto a = CreateAlliance();
  const json body = {
      {"name", "赵六"}, {"id_number", NewIdNumber()}, {"phone", "13800001111"}, {"request_id", "enr-1"}};
  auto first = http().Post("/v1/members", body, a.r_key);
  ASSERT_EQ(first.status, 201) << first;
  auto again = http().Post("/v1/members", body, a.r_key);
  EXPECT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.Header("Idempotent-Replay"), "true") << again;
  EXPECT_EQ(again.json, first.json);
  json other = body;
  other["name"] = "赵七";
  EXPECT_TRUE(
      IsProblem(http().Post("/v1/members", other, a.r_key), 409, "idempotency_conflict", "request_id"));
  // A bad request does not use up its id.
  json bad = {{"name", "孙八"}, {"id_number", "!"}, {"request_id", "enr-2"}};
  EXPECT_TRUE(IsProblem(http().Post("/v1/members", bad, a.agent), 400, "", "id_number"));
  bad["id_number"] = NewIdNumber();
  EXPECT_EQ(http().Post("/v1/members", bad, a.agent).status, 201);
  // A phone needs digits.
  EXPECT_TRUE(IsProblem(
      http().Post("/v1/members", {{"name", "x"}, {"id_number", NewIdNumber()}, {"phone", "---"}}, a.agent),
      400, "", "phone"));
}

TEST_F(MemberTest, ASuspendedMemberIsRefusedUntilActiveAgainAndTerminationIsFinal) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto path = "/v1/members/" + std::to_string(m.member_id);
  auto status = [&](const std::string& s) {
    return http().Call("PATCH", path, json{{"status", s}}, a.agent);
  };
  auto earn = [&] {
    return http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 1000), a.r_key);
  };
  auto suspended = status("suspended");
  ASSERT_EQ(suspended.status, 200) << suspended;
  EXPECT_EQ(suspended.json["status"], "suspended") << suspended;
  EXPECT_TRUE(IsProblem(earn(), 422, "member_inactive"));
  EXPECT_TRUE(IsProblem(http().Call("POST", path + "/cards", std::nullopt, a.agent), 422, "member_inactive"));
  ASSERT_EQ(status("active").status, 200);
  EXPECT_EQ(earn().status, 201);
  EXPECT_TRUE(IsProblem(status("gone"), 400, "", "status"));
  EXPECT_TRUE(IsProblem(http().Call("PATCH", path, json{{"status", "active"}, {"name", "改名"}}, a.agent),
                        400, "", "name"));
  EXPECT_EQ(http().Call("PATCH", path, json{{"status", "suspended"}}, a.r_key).status, 403);
  EXPECT_EQ(http().Call("PATCH", "/v1/members/999999999", json{{"status", "active"}}, a.agent).status, 404);
  auto terminated = status("terminated");
  ASSERT_EQ(terminated.status, 200) << terminated;
  EXPECT_EQ(terminated.json["cards"][0]["status"], "cancelled") << terminated;
  EXPECT_TRUE(IsProblem(status("active"), 409));
  EXPECT_EQ(status("terminated").status, 200);
  EXPECT_TRUE(IsProblem(earn(), 422));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 10);
}

TEST_F(MemberTest, SameIdNumberInAnotherTenantIsAnotherMember) {
  auto a = CreateAlliance();
  auto b = CreateAlliance();
  const auto id = NewIdNumber();
  auto in_a = Enrol(a.agent, "赵六", id);
  auto in_b = Enrol(b.agent, "赵六", id);
  EXPECT_NE(in_a.card_no, in_b.card_no);
}

TEST_F(MemberTest, SearchByCardPhoneAndIdNumberShowsMaskedIdNumber) {
  auto a = CreateAlliance();
  const auto id = NewIdNumber();
  const std::string phone = "139" + std::to_string(10000000 + std::rand() % 89999999);
  auto m = Enrol(a.agent, "张三丰", id, phone);
  for (const auto& query : {"card_no=" + m.card_no, "phone=" + UrlEncode(phone), "id_number=" + id}) {
    auto r = http().Get("/v1/members?" + query, a.agent);
    ASSERT_EQ(r.status, 200) << query << ": " << r;
    ASSERT_TRUE(r.json["items"].is_array() && r.json["items"].size() == 1) << query << ": " << r;
    const auto& item = r.json["items"][0];
    EXPECT_EQ(item["member_id"], m.member_id) << query;
    EXPECT_EQ(item["name"], "张三丰") << query;
    EXPECT_EQ(item["phone"], phone) << query;
    EXPECT_EQ(item["status"], "active") << query;
    EXPECT_TRUE(item["tier"].is_string()) << query;
    ASSERT_TRUE(item["id_number"].is_string()) << query;
    const auto masked = item["id_number"].get<std::string>();
    EXPECT_NE(masked, id) << query;
    EXPECT_NE(masked.find('*'), std::string::npos) << "not masked: " << masked;
    EXPECT_EQ(r.body.find(id), std::string::npos) << query << ": the clear identity number is in the answer";
  }
}

TEST_F(MemberTest, SearchWithNoMatchIsEmpty) {
  auto a = CreateAlliance();
  auto r = http().Get("/v1/members?card_no=" + UnissuedCardNumber(), a.agent);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_TRUE(r.json["items"].is_array() && r.json["items"].empty()) << r;
}

TEST_F(MemberTest, ProfileShowsStatusTierAndCardsButNeverTheClearIdNumber) {
  auto a = CreateAlliance();
  const auto id = NewIdNumber();
  auto m = Enrol(a.agent, "欧阳娜娜", id, "+86 138-0000-1111");
  auto r = http().Get("/v1/members/" + std::to_string(m.member_id), a.agent);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["member_id"], m.member_id);
  EXPECT_EQ(r.json["name"], "欧阳娜娜");
  EXPECT_EQ(r.json["status"], "active");
  EXPECT_TRUE(r.json["tier"].is_string()) << r;
  ASSERT_TRUE(r.json["cards"].is_array() && r.json["cards"].size() == 1) << r;
  EXPECT_EQ(r.json["cards"][0]["card_no"], m.card_no);
  EXPECT_EQ(r.json["cards"][0]["status"], "active");
  EXPECT_EQ(r.body.find(id), std::string::npos) << "the clear identity number is in the profile";
  ASSERT_TRUE(r.json["id_number"].is_string()) << r;
  const auto masked = r.json["id_number"].get<std::string>();
  EXPECT_EQ(masked.substr(masked.size() - 2), id.substr(id.size() - 2)) << "mask should keep the last digits";
}

TEST_F(MemberTest, IdNumberIsNeverStoredInClear) {
  auto a = CreateAlliance();
  const auto id = NewIdNumber();
  Enrol(a.agent, "钱七", id);
  for (const char* table : {"members", "cards", "idempotency_keys"}) {
    auto rows = server().Sql(
        std::string("SELECT count(*) FROM ") + table + " t WHERE strpos(row_to_json(t)::text, $1) > 0", {id});
    EXPECT_EQ(rows.at(0).at(0).value_or("?"), "0") << "the clear identity number is stored in " << table;
  }
}

TEST_F(MemberTest, SearchesLeaveNoIdNumberOrPhoneInTheLog) {
  auto a = CreateAlliance();
  const auto id = NewIdNumber();
  const std::string phone = "13912345678";
  // A second server on the same database, logging every request (the suite's log warnings only).
  TestServer verbose(ServerOptions{{{"UNIPOINTS_LOG_LEVEL", "info"}}, &server()});
  ASSERT_EQ(verbose.Start(), "");
  HttpClient client("127.0.0.1", verbose.port());
  ASSERT_EQ(client.Get("/v1/members?id_number=" + id + "&limit=5", a.agent).status, 200);
  ASSERT_EQ(client.Get("/v1/members?phone=" + phone, a.agent).status, 200);
  const auto log = verbose.LogTail(20);
  EXPECT_EQ(log.find(id), std::string::npos) << log;
  EXPECT_EQ(log.find(phone), std::string::npos) << log;
  EXPECT_NE(log.find("/v1/members?id_number=*&limit=5 200"), std::string::npos) << log;
}

TEST_F(MemberTest, UnknownMemberIs404) {
  auto a = CreateAlliance();
  EXPECT_TRUE(IsProblem(http().Get("/v1/members/999999999", a.agent), 404));
  EXPECT_TRUE(IsProblem(http().Get("/v1/members/not-a-number", a.agent), 404));
}

TEST_F(MemberTest, InvalidEnrolmentIs400NamingTheFieldAndCreatesNobody) {
  auto a = CreateAlliance();
  const auto id = NewIdNumber();
  struct Case {
    json body;
    const char* field;
  };
  const std::vector<Case> cases = {
      {{{"gender", "male"}, {"id_type", "resident_id"}, {"id_number", id}}, "name"},
      {{{"name", "x"}, {"gender", "male"}, {"id_type", "resident_id"}}, "id_number"},
      {{{"name", "x"}, {"gender", "male"}, {"id_type", "resident_id"}, {"id_number", 12345678}}, "id_number"},
      {{{"name", "x"}, {"gender", "robot"}, {"id_type", "resident_id"}, {"id_number", id}}, "gender"},
      {{{"name", "x"},
        {"gender", "male"},
        {"id_type", "resident_id"},
        {"id_number", id},
        {"phone", "call me"}},
       "phone"},
      {{{"name", std::string(5000, 'x')}, {"gender", "male"}, {"id_type", "resident_id"}, {"id_number", id}},
       "name"},
  };
  for (const auto& c : cases) {
    EXPECT_TRUE(IsProblem(http().Post("/v1/members", c.body, a.agent), 400, {}, c.field))
        << c.body.dump().substr(0, 200);
  }
  auto r = http().Get("/v1/members?id_number=" + id, a.agent);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_TRUE(r.json["items"].empty()) << "a rejected enrolment created a member: " << r;
}

TEST_F(MemberTest, PartnerKeyCannotBrowseMembers) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  EXPECT_TRUE(IsProblem(http().Get("/v1/members/" + std::to_string(m.member_id), a.t_key), 403));
  EXPECT_TRUE(IsProblem(http().Get("/v1/members?card_no=" + m.card_no, a.t_key), 403));
}

// ------------------------------------------------------------------ cards

TEST_F(CardTest, ReportLostMarksTheCardAndAccrualIsRefusedAtOnce) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 1000), a.r_key).status,
            201);
  auto lost = http().Call("POST", "/v1/cards/" + m.card_no + "/report-lost", std::nullopt, a.agent);
  ASSERT_EQ(lost.status, 200) << lost;
  EXPECT_EQ(lost.json["card_no"], m.card_no);
  EXPECT_EQ(lost.json["status"], "lost");

  auto profile = http().Get("/v1/members/" + std::to_string(m.member_id), a.agent);
  ASSERT_EQ(profile.status, 200) << profile;
  EXPECT_EQ(profile.json["cards"][0]["status"], "lost") << profile;

  auto refused = http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 5000), a.r_key);
  EXPECT_TRUE(IsProblem(refused, 422, "card_lost"));
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 10) << b;
  EXPECT_EQ(b["lifetime"], 10) << b;
}

TEST_F(CardTest, ReportLostOnUnknownCardIs404) {
  auto a = CreateAlliance();
  auto r = http().Call("POST", "/v1/cards/" + UnissuedCardNumber() + "/report-lost", std::nullopt, a.agent);
  EXPECT_TRUE(IsProblem(r, 404));
}

TEST_F(CardTest, ReplacementKeepsTheBalanceAndRetiresTheOldCard) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "data", 1234), a.t_key).status,
            201);
  ASSERT_EQ(http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 5678), a.r_key).status,
            201);
  const auto before = Balance(a.agent, m.member_id);
  ASSERT_EQ(before["available"], 24 + 56) << before;
  ASSERT_EQ(http().Call("POST", "/v1/cards/" + m.card_no + "/report-lost", std::nullopt, a.agent).status,
            200);

  auto r =
      http().Call("POST", "/v1/members/" + std::to_string(m.member_id) + "/cards", std::nullopt, a.agent);
  ASSERT_EQ(r.status, 201) << r;
  ASSERT_TRUE(r.json["card_no"].is_string()) << r;
  const auto fresh = r.json["card_no"].get<std::string>();
  EXPECT_NE(fresh, m.card_no);
  EXPECT_EQ(fresh.size(), 16u);
  EXPECT_TRUE(LuhnValid(fresh)) << fresh;

  const auto after = Balance(a.agent, m.member_id);
  EXPECT_EQ(after["available"], before["available"]) << after;
  EXPECT_EQ(after["by_source"], before["by_source"]) << after;
  EXPECT_EQ(after["lifetime"], before["lifetime"]) << after;

  auto profile = http().Get("/v1/members/" + std::to_string(m.member_id), a.agent);
  ASSERT_EQ(profile.status, 200) << profile;
  std::map<std::string, std::string> status;
  for (const auto& c : profile.json["cards"])
    status[c["card_no"].get<std::string>()] = c["status"].get<std::string>();
  EXPECT_EQ(status[m.card_no], "lost") << "a lost card stays lost when replaced: " << profile;
  EXPECT_EQ(status[fresh], "active") << profile;

  auto found = http().Get("/v1/members?card_no=" + fresh, a.agent);
  ASSERT_EQ(found.status, 200) << found;
  ASSERT_EQ(found.json["items"].size(), 1u) << found;
  EXPECT_EQ(found.json["items"][0]["member_id"], m.member_id);

  auto earn = http().Post("/v1/accruals", AmountEvent(NewEventId(), fresh, "retail", 300), a.r_key);
  ASSERT_EQ(earn.status, 201) << earn;
  EXPECT_EQ(earn.json["member_id"], m.member_id);
  EXPECT_EQ(earn.json["balance"], 24 + 56 + 3) << earn;

  auto old = http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 300), a.r_key);
  EXPECT_TRUE(IsProblem(old, 422, "card_lost")) << "the lost card still earns: " << old;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 24 + 56 + 3);
}

TEST_F(CardTest, ReplacingAnActiveCardAlsoRetiresIt) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  auto r =
      http().Call("POST", "/v1/members/" + std::to_string(m.member_id) + "/cards", std::nullopt, a.agent);
  ASSERT_EQ(r.status, 201) << r;
  auto old = http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 300), a.r_key);
  EXPECT_EQ(old.status, 422) << old;
  auto fresh =
      http().Post("/v1/accruals",
                  AmountEvent(NewEventId(), r.json["card_no"].get<std::string>(), "retail", 300), a.r_key);
  EXPECT_EQ(fresh.status, 201) << fresh;
}

TEST_F(CardTest, ReplacementForUnknownMemberIs404) {
  auto a = CreateAlliance();
  EXPECT_TRUE(IsProblem(http().Call("POST", "/v1/members/999999999/cards", std::nullopt, a.agent), 404));
  EXPECT_TRUE(
      IsProblem(http().Post("/v1/members/999999999/cards", {{"request_id", "nobody"}}, a.agent), 404));
}

TEST_F(CardTest, ReplacementWithARequestIdOrAnIssuingPartnerIsAnsweredAndReplayed) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto path = "/v1/members/" + std::to_string(m.member_id) + "/cards";
  // These bodies once brought the server down (a temporary destroyed twice in a coroutine).
  const json body{{"request_id", "card-" + RandomAlnum(8)}, {"issuing_partner", "R"}};
  auto first = http().Post(path, body, a.agent);
  ASSERT_EQ(first.status, 201) << first;
  auto again = http().Post(path, body, a.agent);
  EXPECT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.Header("Idempotent-Replay"), "true") << again;
  EXPECT_EQ(again.json["card_no"], first.json["card_no"]) << again;
  auto partner_only = http().Post(path, {{"issuing_partner", "T"}}, a.agent);
  EXPECT_EQ(partner_only.status, 201) << partner_only;
  EXPECT_NE(partner_only.json["card_no"], first.json["card_no"]) << partner_only;
  EXPECT_TRUE(IsProblem(http().Post(path, {{"issuing_partner", "NOPE"}}, a.agent), 422)) << "unknown partner";
  EXPECT_TRUE(IsProblem(
      http().Post(path, {{"request_id", "other-" + RandomAlnum(8)}, {"issuing_partner", "NOPE"}}, a.agent),
      422));
  EXPECT_EQ(http().Get("/healthz").status, 200);
  auto profile = http().Get("/v1/members/" + std::to_string(m.member_id), a.agent);
  ASSERT_EQ(profile.status, 200) << profile;
  EXPECT_EQ(profile.json["cards"].size(), 3u) << profile;
}

}  // namespace
}  // namespace unipoints::testing
