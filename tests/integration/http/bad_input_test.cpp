// Bad input never changes anything and never yields a 500: each case is answered with problem+json
// naming the field, and a request rejected before processing does not use up its event_id.

#include <set>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

class BadInputTest : public IntegrationTest {};

constexpr std::size_t kMaxBody = 16 * 1024 * 1024;

struct Case {
  std::string name;
  std::string body;                         // sent raw
  std::optional<std::string> content_type;  // nullopt: no Content-Type
  int status;
  std::string code;              // expected problem code, "" = any
  std::set<std::string> fields;  // errors[0..].field must include one of these ("" set = any)
  std::string event_id;          // the id the body carries, reusable afterwards when not 422
};

std::string Str(const json& j) { return j.dump(); }

TEST_F(BadInputTest, AccrualBadInputTable) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  ASSERT_EQ(
      http().Post("/v1/accruals", AmountEvent(NewEventId(), m.card_no, "retail", 12300), a.r_key).status,
      201);
  const auto before_balance = Balance(a.agent, m.member_id);
  const auto before_ledger = Ledger(a.agent, m.member_id);

  auto event = [&](const std::string& id) { return AmountEvent(id, m.card_no, "retail", 1000); };
  auto with = [&](const std::string& id, const std::string& key, json value) {
    json e = event(id);
    e[key] = std::move(value);
    return e;
  };
  auto without = [&](const std::string& id, const std::string& key) {
    json e = event(id);
    e.erase(key);
    return e;
  };
  const std::string json_type = "application/json";
  std::vector<Case> cases;
  auto add = [&](std::string name, std::string body, std::optional<std::string> type, int status,
                 std::string code, std::set<std::string> fields, std::string id) {
    cases.push_back({std::move(name), std::move(body), std::move(type), status, std::move(code),
                     std::move(fields), std::move(id)});
  };
  std::string id;

  id = NewEventId();
  add("truncated JSON", "{\"event_id\": \"" + id + "\", \"card_no\": ", json_type, 400, "", {"body"}, id);
  add("not JSON at all", "amount=100&card=1", json_type, 400, "", {"body"}, "");
  add("JSON array instead of object", "[1, 2, 3]", json_type, 400, "", {"body"}, "");
  add("JSON string instead of object", "\"hello\"", json_type, 400, "", {"body"}, "");
  add("empty body with JSON content type", "", json_type, 400, "", {"body", "event_id"}, "");
  id = NewEventId();
  add("trailing garbage", Str(event(id)) + "}}", json_type, 400, "", {"body"}, id);
  id = NewEventId();
  add("amount as string", Str(with(id, "amount_minor", "1000")), json_type, 400, "", {"amount_minor"}, id);
  id = NewEventId();
  add("amount with fraction", Str(with(id, "amount_minor", 10.5)), json_type, 400, "", {"amount_minor"}, id);
  id = NewEventId();
  add("amount as bool", Str(with(id, "amount_minor", true)), json_type, 400, "", {"amount_minor"}, id);
  id = NewEventId();
  add("negative amount", Str(with(id, "amount_minor", -1000)), json_type, 400, "", {"amount_minor"}, id);
  id = NewEventId();
  add("amount beyond int64",
      "{\"event_id\":\"" + id + "\",\"card_no\":\"" + m.card_no +
          "\",\"category\":\"retail\",\"amount_minor\":92233720368547758070,\"occurred_at\":\"2026-06-01T10:"
          "00:00+08:00\"}",
      json_type, 400, "", {"amount_minor"}, id);
  id = NewEventId();
  add("amount just past int64",
      "{\"event_id\":\"" + id + "\",\"card_no\":\"" + m.card_no +
          "\",\"category\":\"retail\",\"amount_minor\":9223372036854775808,\"occurred_at\":\"2026-06-01T10:"
          "00:00+08:00\"}",
      json_type, 400, "", {"amount_minor"}, id);
  id = NewEventId();
  add("huge amount in int64", Str(with(id, "amount_minor", INT64_MAX)), json_type, 400, "", {"amount_minor"},
      id);
  id = NewEventId();
  add("amount in exponent form",
      "{\"event_id\":\"" + id + "\",\"card_no\":\"" + m.card_no +
          "\",\"category\":\"retail\",\"amount_minor\":1e3,\"occurred_at\":\"2026-06-01T10:00:00+08:00\"}",
      json_type, 400, "", {"amount_minor"}, id);
  id = NewEventId();
  add("amount beyond a double",
      "{\"event_id\":\"" + id + "\",\"card_no\":\"" + m.card_no +
          "\",\"category\":\"retail\",\"amount_minor\":1e400,\"occurred_at\":\"2026-06-01T10:00:00+08:00\"}",
      json_type, 400, "", {"body"}, id);
  id = NewEventId();
  add("unknown field beyond a double", Str(event(id)).insert(1, "\"x\":-1e400,"), json_type, 400, "",
      {"body"}, id);
  id = NewEventId();
  add("occurred_at in year 0", Str(with(id, "occurred_at", "0000-01-01T00:00:00Z")), json_type, 400, "",
      {"occurred_at"}, id);
  id = NewEventId();
  {
    json e = without(id, "amount_minor");
    e["points"] = -5;
    add("negative direct points", Str(e), json_type, 400, "", {"points"}, id);
  }
  id = NewEventId();
  {
    json e = without(id, "amount_minor");
    e["points"] = 99999999999999LL;
    add("huge direct points", Str(e), json_type, 400, "", {"points"}, id);
  }
  id = NewEventId();
  {
    json e = event(id);
    e["points"] = 10;
    add("both amount and points", Str(e), json_type, 400, "", {"amount_minor", "points"}, id);
  }
  id = NewEventId();
  add("neither amount nor points", Str(without(id, "amount_minor")), json_type, 400, "",
      {"amount_minor", "points"}, id);
  add("missing event_id", Str(without("", "event_id")), json_type, 400, "", {"event_id"}, "");
  add("empty event_id", Str(event("")), json_type, 400, "", {"event_id"}, "");
  add("event_id with spaces", Str(event("has spaces in it")), json_type, 400, "", {"event_id"}, "");
  add("event_id too long", Str(event(std::string(300, 'e'))), json_type, 400, "", {"event_id"}, "");
  add("event_id as number", Str(with("", "event_id", 12345)), json_type, 400, "", {"event_id"}, "");
  id = NewEventId();
  add("missing category", Str(without(id, "category")), json_type, 400, "", {"category"}, id);
  id = NewEventId();
  add("category as number", Str(with(id, "category", 7)), json_type, 400, "", {"category"}, id);
  id = NewEventId();
  add("missing occurred_at", Str(without(id, "occurred_at")), json_type, 400, "", {"occurred_at"}, id);
  id = NewEventId();
  add("occurred_at not a time", Str(with(id, "occurred_at", "yesterday")), json_type, 400, "",
      {"occurred_at"}, id);
  id = NewEventId();
  add("occurred_at without offset", Str(with(id, "occurred_at", "2026-06-01T10:00:00")), json_type, 400, "",
      {"occurred_at"}, id);
  id = NewEventId();
  add("occurred_at impossible date", Str(with(id, "occurred_at", "2026-02-30T10:00:00+08:00")), json_type,
      400, "", {"occurred_at"}, id);
  id = NewEventId();
  add("missing card and member", Str(without(id, "card_no")), json_type, 400, "", {"card_no", "member_id"},
      id);
  id = NewEventId();
  add("card_no as number", Str(with(id, "card_no", 8812345678901234LL)), json_type, 400, "", {"card_no"}, id);
  id = NewEventId();
  {
    json e = without(id, "card_no");
    e["member_id"] = std::to_string(m.member_id);
    add("member_id as string", Str(e), json_type, 400, "", {"member_id"}, id);
  }
  id = NewEventId();
  add("point_type unknown", Str(with(id, "point_type", "platinum")), json_type, 400, "", {"point_type"}, id);
  id = NewEventId();
  {
    std::string body = Str(event(id));
    body.replace(body.find("retail"), 6, "ret\xff\xfeil");
    add("non-UTF-8 bytes", body, json_type, 400, "", {"body", "category"}, id);
  }
  id = NewEventId();
  {
    std::string body = Str(event(id));
    body.replace(body.find("retail"), 6, "ret\xc3");  // truncated multi-byte sequence
    add("truncated UTF-8 sequence", body, json_type, 400, "", {"body", "category"}, id);
  }
  id = NewEventId();
  add("text/plain body", Str(event(id)), std::string("text/plain"), 415, "",
      {"Content-Type", "content-type", "body"}, id);
  id = NewEventId();
  add("form body", Str(event(id)), std::string("application/x-www-form-urlencoded"), 415, "",
      {"Content-Type", "content-type", "body"}, id);
  id = NewEventId();
  add("JSON body without content type", Str(event(id)), std::nullopt, 415, "",
      {"Content-Type", "content-type", "body"}, id);
  id = NewEventId();
  add("unknown category", Str(with(id, "category", "jewellery")), json_type, 422, "unknown_category",
      {"category"}, "");
  add("unknown card", Str(with(NewEventId(), "card_no", UnissuedCardNumber())), json_type, 422,
      "unknown_card", {}, "");

  std::vector<std::string> reusable;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    CallOptions o = RawBody(c.body, c.content_type);
    auto r = http().Call("POST", "/v1/accruals", std::nullopt, a.r_key, o);
    EXPECT_LT(r.status, 500) << c.name << ": " << r;
    EXPECT_TRUE(IsProblem(r, c.status, c.code)) << c.name;
    if (!c.fields.empty() && r.json.is_object() && r.json.contains("errors") && r.json["errors"].is_array()) {
      bool named = false;
      for (const auto& e : r.json["errors"]) named = named || c.fields.count(e.value("field", "")) > 0;
      EXPECT_TRUE(named) << c.name << ": errors[] should name one of the expected fields; got " << r;
    }
    EXPECT_FALSE(r.Header("x-request-id").empty()) << c.name;
    if (!c.event_id.empty() && c.status != 422) reusable.push_back(c.event_id);
  }

  // Nothing changed ...
  const auto after_balance = Balance(a.agent, m.member_id);
  EXPECT_EQ(after_balance["available"], before_balance["available"]) << after_balance;
  EXPECT_EQ(after_balance["lifetime"], before_balance["lifetime"]) << after_balance;
  EXPECT_EQ(after_balance["by_source"], before_balance["by_source"]) << after_balance;
  EXPECT_EQ(Ledger(a.agent, m.member_id).size(), before_ledger.size());

  // ... and an id refused before processing is still free to use.
  std::int64_t expected = before_balance["available"].get<std::int64_t>();
  for (const auto& used : reusable) {
    auto r = http().Post("/v1/accruals", AmountEvent(used, m.card_no, "retail", 200), a.r_key);
    EXPECT_EQ(r.status, 201) << "event_id " << used << " was used up by a rejected request: " << r;
    if (r.status == 201) expected += 2;
  }
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], expected);
}

TEST_F(BadInputTest, BodyOfExactly16MiBIsAcceptedAndOneByteMoreIs413) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto id = NewEventId();
  const std::string compact = AmountEvent(id, m.card_no, "retail", 1000).dump();
  // JSON allows any amount of whitespace: pad the same event to the exact limit.
  std::string at_limit = compact;
  at_limit.insert(1, kMaxBody - compact.size(), ' ');
  ASSERT_EQ(at_limit.size(), kMaxBody);
  std::string over = at_limit;
  over.insert(1, 1, ' ');

  auto too_big = http().Call("POST", "/v1/accruals", std::nullopt, a.r_key, RawBody(over));
  EXPECT_TRUE(IsProblem(too_big, 413));
  ASSERT_TRUE(too_big.json.is_object()) << too_big;
  EXPECT_FALSE(too_big.json["errors"].empty()) << "a 413 should name the field (body): " << too_big;
  EXPECT_FALSE(too_big.Header("x-request-id").empty()) << too_big;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 0);

  auto fits = http().Call("POST", "/v1/accruals", std::nullopt, a.r_key, RawBody(at_limit));
  EXPECT_EQ(fits.status, 201) << "a 16 MiB body is within the limit and its id was not used up by the 413: "
                              << fits;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 10);
}

TEST_F(BadInputTest, OversizedBatchBodyIs413) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  json e = AmountEvent(NewEventId(), m.card_no, "retail", 1000);
  e["note"] = std::string(kMaxBody, 'n');
  auto r = http().Post("/v1/accruals/batch", {{"events", {e}}}, a.r_key);
  EXPECT_TRUE(IsProblem(r, 413));
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 0);
}

TEST_F(BadInputTest, BadInputOnOtherWritesIs400Or415) {
  auto a = CreateAlliance();
  const std::vector<std::pair<std::string, std::string>> targets = {{"POST", "/v1/members"},
                                                                    {"POST", "/v1/partners"},
                                                                    {"POST", "/v1/keys"},
                                                                    {"PUT", "/v1/policy"},
                                                                    {"PUT", "/v1/partners/R/earning-rules"},
                                                                    {"POST", "/v1/accruals/batch"}};
  for (const auto& [method, target] : targets) {
    const std::string& key = target == "/v1/accruals/batch" ? a.r_key : a.admin;
    auto malformed = http().Call(method, target, std::nullopt, key, RawBody("{\"name\": "));
    EXPECT_TRUE(IsProblem(malformed, 400, {}, "body")) << method << " " << target;
    auto not_utf8 = http().Call(method, target, std::nullopt, key, RawBody("{\"name\": \"\xc0\xaf\"}"));
    EXPECT_TRUE(IsProblem(not_utf8, 400)) << method << " " << target;
    auto plain = http().Call(method, target, std::nullopt, key, RawBody("{}", std::string("text/plain")));
    EXPECT_TRUE(IsProblem(plain, 415)) << method << " " << target;
    auto options = RawBody("{}");
    options.headers.emplace_back("Content-Encoding", "br");
    auto encoded = http().Call(method, target, std::nullopt, key, options);
    EXPECT_TRUE(IsProblem(encoded, 415, {}, "Content-Encoding")) << method << " " << target << " " << encoded;
  }
  auto partners = http().Get("/v1/partners", a.admin);
  EXPECT_EQ(partners.json["items"].size(), 2u) << partners;
}

TEST_F(BadInputTest, BlankTextOrControlCharactersAre400AndCreateNothing) {
  auto a = CreateAlliance();
  for (const std::string name : {"   ", "\n\t\r", "bad\bname", "bell\x07"}) {
    auto r = http().Post("/v1/partners", {{"code", "Z" + RandomAlnum(4)}, {"name", name}, {"kind", "retail"}},
                         a.admin);
    EXPECT_TRUE(IsProblem(r, 400, "validation_failed", "name")) << r;
  }
  auto fine = http().Post(
      "/v1/partners", {{"code", "Z" + RandomAlnum(4)}, {"name", "Two\tparts"}, {"kind", "retail"}}, a.admin);
  EXPECT_EQ(fine.status, 201) << fine;
  auto partners = http().Get("/v1/partners", a.admin);
  EXPECT_EQ(partners.json["items"].size(), 3u) << partners;
}

}  // namespace
}  // namespace unipoints::testing
