// Billing feeds over HTTP: CSV and gzip'd NDJSON applied line by line with rejects that never
// block the good lines, and a feed cut off mid-body (client gone, or its server killed) that a
// second post of the same Feed-Id finishes without applying anything twice.

#include <zlib.h>

#include <algorithm>
#include <csignal>

#include <boost/asio.hpp>

#include "harness.hpp"

namespace unipoints::testing {
namespace {

namespace asio = boost::asio;

class FeedTest : public IntegrationTest {
 public:
  // Small chunks, so that a cut-off feed has applied some chunks and not others.
  static void SetUpTestSuite() {
    StartSuite(ServerOptions{{{"UNIPOINTS_FEED_CHUNK_LINES", "50"},
                              {"UNIPOINTS_FEED_MAX_LISTED_REJECTS", "120"},
                              {"UNIPOINTS_FEED_WAIT_MS", "1500"}}});
  }

 protected:
  Response PostFeed(const std::string& key, const std::string& feed_id, const std::string& body,
                    const std::string& type = "text/csv", bool gzip = false) {
    auto options = RawBody(body, type);
    options.headers.emplace_back("Feed-Id", feed_id);
    if (gzip) options.headers.emplace_back("Content-Encoding", "gzip");
    return http().Call("POST", "/v1/feeds", std::nullopt, key, options);
  }

  static std::string Gzip(const std::string& data) {
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, data.size()) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
  }

  // Starts a POST /v1/feeds announcing `announced` bytes and sends only `sent` of them; the
  // socket stays open until the returned object is destroyed.
  std::unique_ptr<asio::ip::tcp::socket> StartFeed(const std::string& key, const std::string& feed_id,
                                                   const std::string& sent, std::size_t announced) {
    return StartFeedOn(server(), key, feed_id, sent, announced);
  }
  std::unique_ptr<asio::ip::tcp::socket> StartFeedOn(const TestServer& to, const std::string& key,
                                                     const std::string& feed_id, const std::string& sent,
                                                     std::size_t announced) {
    auto socket = std::make_unique<asio::ip::tcp::socket>(io_);
    socket->connect({asio::ip::make_address(to.host()), to.port()});
    std::string head = "POST /v1/feeds HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key +
                       "\r\nContent-Type: text/csv\r\nFeed-Id: " + feed_id +
                       "\r\nContent-Length: " + std::to_string(announced) + "\r\n\r\n";
    asio::write(*socket, asio::buffer(head + sent));
    return socket;
  }

  json Feed(const std::string& key, const std::string& feed_id) {
    auto r = http().Get("/v1/feeds/" + feed_id, key);
    EXPECT_EQ(r.status, 200) << r;
    return r.json;
  }

  // Waits until the feed's status is `status` (the server notices a cut connection at once).
  json AwaitStatus(const std::string& key, const std::string& feed_id, const std::string& status) {
    json feed;
    for (int i = 0; i < 200; ++i) {
      auto r = http().Get("/v1/feeds/" + feed_id, key);  // 404 until the post has begun
      feed = r.json;
      if (r.status == 200 && feed["status"] == status) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return feed;
  }

  // Waits until a feed being received has applied `lines` lines.
  json AwaitLines(const std::string& key, const std::string& feed_id, int lines) {
    auto feed = AwaitStatus(key, feed_id, "receiving");
    for (int i = 0; i < 100 && feed["lines"] != lines; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      feed = Feed(key, feed_id);
    }
    return feed;
  }

  static std::string CsvLines(const std::vector<Enrolled>& members, int from, int to,
                              const std::string& prefix) {
    std::string body;
    for (int i = from; i < to; ++i) {
      body += prefix + std::to_string(i) + "," + members[i % members.size()].card_no + ",retail," +
              std::to_string(100 * (i + 1)) + ",2026-06-01T10:00:00+08:00\n";
    }
    return body;
  }

  asio::io_context io_;
};

constexpr const char* kHeader = "event_id,card_no,category,amount_minor,occurred_at\n";

TEST_F(FeedTest, CsvFeedAppliesGoodLinesAndListsRejectsWithReasons) {
  auto a = CreateAlliance();
  auto m1 = Enrol(a.agent);
  auto m2 = Enrol(a.agent);
  const auto p = Unique("f");
  std::string body = kHeader;
  std::int64_t expect1 = 0, expect2 = 0;
  for (int i = 0; i < 120; ++i) {
    const auto& m = i % 2 == 0 ? m1 : m2;
    body += p + "-" + std::to_string(i) + "," + m.card_no + ",retail," + std::to_string(100 * (i + 1)) +
            ",2026-06-01T10:00:00+08:00\r\n";
    (i % 2 == 0 ? expect1 : expect2) += i + 1;
  }
  body += p + "-3," + m2.card_no + ",retail,400,2026-06-01T10:00:00+08:00\n";  // 121: a repeat: duplicate
  body += p + "-x1," + UnissuedCardNumber() + ",retail,100,2026-06-01T10:00:00+08:00\n";  // 122: unknown card
  body += p + "-x2," + m1.card_no + ",retail,abc,2026-06-01T10:00:00+08:00\n";            // 123: bad amount
  body += p + "-x3,only-two-fields\n";                                                    // 124: unreadable
  body +=
      p + "-5," + m2.card_no + ",retail,999,2026-06-01T10:00:00+08:00\n";  // 125: id used with another body
  body += "\"" + p + "-q,1\"," + m1.card_no + ",retail,500,2026-06-01T10:00:00+08:00";  // 126, no line end
  expect1 += 5;

  auto r = PostFeed(a.r_key, p, body);
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.json["feed_id"], p);
  EXPECT_EQ(r.json["status"], "applied") << r;
  EXPECT_EQ(r.json["lines"], 126) << r;
  EXPECT_EQ(r.json["created"], 121) << r;
  EXPECT_EQ(r.json["duplicate"], 1) << r;
  EXPECT_EQ(r.json["rejected"], 4) << r;
  EXPECT_EQ(Feed(a.r_key, p), r.json);
  EXPECT_EQ(Balance(a.agent, m1.member_id)["available"], expect1);
  EXPECT_EQ(Balance(a.agent, m2.member_id)["available"], expect2);

  auto rejects = http().Get("/v1/feeds/" + p + "/rejects", a.r_key);
  ASSERT_EQ(rejects.status, 200) << rejects;
  EXPECT_EQ(rejects.ContentType().rfind("text/csv", 0), 0u) << rejects;
  const auto& csv = rejects.body;
  EXPECT_EQ(csv.rfind("\"line\",\"event_id\",\"code\",\"reason\",\"record\"\r\n", 0), 0u) << csv;
  EXPECT_NE(csv.find("\"122\",\"" + p + "-x1\",\"unknown_card\""), std::string::npos) << csv;
  // The record is the line as sent (quoted once more as the rejects file's last field).
  EXPECT_NE(csv.find(",\"" + p + "-x2," + m1.card_no + ",retail,abc,2026-06-01T10:00:00+08:00\"\r\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\"123\",\"" + p + "-x2\",\"validation_failed\",\"amount_minor:"), std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\"124\",\"\",\"unreadable\",\"line 124 has 2 fields"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\"125\",\"" + p + "-5\",\"idempotency_conflict\""), std::string::npos) << csv;
  // Paging: one line at a time, with a Link to the next page.
  auto first = http().Get("/v1/feeds/" + p + "/rejects?limit=1", a.r_key);
  EXPECT_EQ(first.Header("Link"), "</v1/feeds/" + p + "/rejects?after=122>; rel=\"next\"") << first;

  // Another partner does not see the feed.
  EXPECT_EQ(http().Get("/v1/feeds/" + p, a.t_key).status, 404);
  auto v = server().RunCli({"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(FeedTest, GzipNdjsonFeedIsApplied) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto p = Unique("g");
  std::string body;
  for (int i = 0; i < 300; ++i) {
    body += json({{"event_id", p + std::to_string(i)},
                  {"member_id", m.member_id},
                  {"points", 2},
                  {"occurred_at", "2026-06-01T10:00:00+08:00"}})
                .dump() +
            "\n";
  }
  body += "not json\n[1]\n";
  auto r = PostFeed(a.t_key, p, Gzip(body), "application/x-ndjson", true);
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.json["lines"], 302) << r;
  EXPECT_EQ(r.json["created"], 300) << r;
  EXPECT_EQ(r.json["rejected"], 2) << r;
  auto b = Balance(a.agent, m.member_id);
  EXPECT_EQ(b["available"], 600) << b;
  EXPECT_EQ(b["by_source"], json({{"T", 600}})) << b;
}

TEST_F(FeedTest, CutOffFeedIsFinishedByPostingItAgainWithoutApplyingAnythingTwice) {
  auto a = CreateAlliance();
  std::vector<Enrolled> members;
  for (int i = 0; i < 5; ++i) members.push_back(Enrol(a.agent));
  const auto p = Unique("c");
  const std::string body = std::string(kHeader) + CsvLines(members, 0, 400, p + "-");
  // The first post stops after 180 lines: three chunks of 50 are applied, the rest is not.
  {
    auto socket = StartFeed(a.r_key, p, body.substr(0, body.find(p + "-180,")), body.size());
    auto feed = AwaitLines(a.r_key, p, 150);
    EXPECT_EQ(feed["lines"], 150) << feed;
    // While it is being posted (longer than feed_wait_ms), a second post of the same Feed-Id is refused.
    auto busy = PostFeed(a.r_key, p, body);
    EXPECT_EQ(busy.status, 409) << busy;
    EXPECT_EQ(busy.json["type"].get<std::string>().ends_with("feed_in_progress"), true) << busy;
  }  // the connection drops
  auto interrupted = AwaitStatus(a.r_key, p, "interrupted");
  EXPECT_EQ(interrupted["status"], "interrupted") << interrupted;
  EXPECT_EQ(interrupted["lines"], 150) << interrupted;

  // A body that does not begin with the applied lines is refused and changes nothing.
  auto other = PostFeed(a.r_key, p, std::string(kHeader) + CsvLines(members, 0, 400, p + "-other-"));
  EXPECT_EQ(other.status, 409) << other;
  EXPECT_EQ(other.json["type"].get<std::string>().ends_with("feed_mismatch"), true) << other;
  EXPECT_EQ(Feed(a.r_key, p)["lines"], 150);

  auto r = PostFeed(a.r_key, p, body);
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.json["status"], "applied") << r;
  EXPECT_EQ(r.json["lines"], 400) << r;
  EXPECT_EQ(r.json["created"], 400) << r;  // the first 150 were skipped, not replayed as duplicates
  EXPECT_EQ(r.json["duplicate"], 0) << r;
  EXPECT_EQ(r.json["posts"], 2) << r;  // the refused post (409) is not counted
  std::int64_t total = 0;
  for (const auto& m : members) total += Balance(a.agent, m.member_id)["available"].get<std::int64_t>();
  EXPECT_EQ(total, 400 * 401 / 2);
  // Posting the finished feed again applies nothing.
  auto again = PostFeed(a.r_key, p, body);
  ASSERT_EQ(again.status, 202) << again;
  EXPECT_EQ(again.json["created"], 400) << again;
  EXPECT_EQ(again.json["lines"], 400) << again;
  EXPECT_EQ(again.json["duplicate"], 0) << again;
  // Posts refused before they apply anything leave the finished feed as it was.
  const auto finished = Feed(a.r_key, p);
  auto changed = PostFeed(a.r_key, p, std::string(kHeader) + CsvLines(members, 0, 400, p + "-other-"));
  EXPECT_EQ(changed.status, 409) << changed;
  EXPECT_EQ(PostFeed(a.r_key, p, "{}\n", "application/x-ndjson").status, 409);
  EXPECT_EQ(PostFeed(a.r_key, p, "event_id,colour,occurred_at\nx,red,2026-01-01T00:00:00Z\n").status, 400);
  const auto after = Feed(a.r_key, p);
  for (const auto* field : {"status", "finished_at", "posts", "error", "lines", "created"}) {
    EXPECT_EQ(after.value(field, json()), finished.value(field, json())) << field << ": " << after;
  }
  EXPECT_EQ(after["status"], "applied");
}

TEST_F(FeedTest, ARetryWhileTheFirstPostRunsWaitsForItAndFinishesTheFeed) {
  auto a = CreateAlliance();
  std::vector<Enrolled> members;
  for (int i = 0; i < 3; ++i) members.push_back(Enrol(a.agent));
  const auto p = Unique("w");
  const std::string body = std::string(kHeader) + CsvLines(members, 0, 200, p + "-");
  auto socket = StartFeed(a.r_key, p, body.substr(0, body.find(p + "-120,")), body.size());
  ASSERT_EQ(AwaitLines(a.r_key, p, 100)["lines"], 100);
  // The client gives up on the first post a moment after it retried.
  std::thread give_up([&socket] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    socket.reset();
  });
  auto retried = PostFeed(a.r_key, p, body);
  give_up.join();
  ASSERT_EQ(retried.status, 202) << retried;
  EXPECT_EQ(retried.json["status"], "applied") << retried;
  EXPECT_EQ(retried.json["lines"], 200) << retried;
  EXPECT_EQ(retried.json["created"], 200) << retried;
  EXPECT_EQ(retried.json["duplicate"], 0) << retried;
  std::int64_t total = 0;
  for (const auto& m : members) total += Balance(a.agent, m.member_id)["available"].get<std::int64_t>();
  EXPECT_EQ(total, 200 * 201 / 2);
}

TEST_F(FeedTest, TheFirstLineOfARepeatedEventIdWinsWhateverPartsTheLinesFallIn) {
  auto a = CreateAlliance();
  std::vector<Enrolled> members;
  for (int i = 0; i < 3; ++i) members.push_back(Enrol(a.agent));  // ids in three parts (id % 3)
  const auto p = Unique("d");
  auto line = [&](const Enrolled& m, std::int64_t points) {
    return "{\"event_id\":\"" + p + "-x\",\"member_id\":" + std::to_string(m.member_id) +
           ",\"points\":" + std::to_string(points) +
           ",\"point_type\":\"bonus\",\"occurred_at\":\"2026-06-01T10:00:00Z\"}\n";
  };
  // The same event id for three members (three parts), then a repeat of the first line.
  auto r = PostFeed(a.r_key, p,
                    line(members[2], 30) + line(members[1], 20) + line(members[0], 10) + line(members[2], 30),
                    "application/x-ndjson");
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.json["created"], 1) << r;
  EXPECT_EQ(r.json["duplicate"], 1) << r;
  EXPECT_EQ(r.json["rejected"], 2) << r;
  EXPECT_EQ(Balance(a.agent, members[2].member_id)["available"], 30);
  EXPECT_EQ(Balance(a.agent, members[1].member_id)["available"], 0);
  EXPECT_EQ(Balance(a.agent, members[0].member_id)["available"], 0);
  auto rejects = http().Get("/v1/feeds/" + p + "/rejects", a.r_key);
  EXPECT_NE(rejects.body.find("\"2\",\"" + p + "-x\",\"idempotency_conflict\""), std::string::npos)
      << rejects.body;
  EXPECT_NE(rejects.body.find("\"3\",\"" + p + "-x\",\"idempotency_conflict\""), std::string::npos)
      << rejects.body;
}

TEST_F(FeedTest, FeedOfACrashedServerIsFinishedByPostingItAgainElsewhere) {
  auto a = CreateAlliance();
  std::vector<Enrolled> members;
  for (int i = 0; i < 4; ++i) members.push_back(Enrol(a.agent));
  const auto p = Unique("k");
  const std::string body = std::string(kHeader) + CsvLines(members, 0, 300, p + "-");
  // A second server process takes the first 130 lines (two chunks of 50 applied) and is killed.
  TestServer doomed(ServerOptions{{{"UNIPOINTS_FEED_CHUNK_LINES", "50"}}, &server()});
  ASSERT_EQ(doomed.Start(), "");
  auto socket = StartFeedOn(doomed, a.r_key, p, body.substr(0, body.find(p + "-130,")), body.size());
  auto feed = AwaitLines(a.r_key, p, 100);
  ASSERT_EQ(feed["lines"], 100) << feed;
  doomed.Signal(SIGKILL);
  EXPECT_EQ(doomed.Wait(std::chrono::seconds(10)), 128 + SIGKILL);
  socket.reset();
  // Nobody is posting it any more: it reads as interrupted, and this server takes it up.
  auto left = AwaitStatus(a.r_key, p, "interrupted");
  EXPECT_EQ(left["status"], "interrupted") << left;
  EXPECT_EQ(left["lines"], 100) << left;
  auto r = PostFeed(a.r_key, p, body);
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.json["status"], "applied") << r;
  EXPECT_EQ(r.json["lines"], 300) << r;
  EXPECT_EQ(r.json["created"], 300) << r;
  EXPECT_EQ(r.json["duplicate"], 0) << r;
  std::int64_t total = 0;
  for (const auto& m : members) total += Balance(a.agent, m.member_id)["available"].get<std::int64_t>();
  EXPECT_EQ(total, 300 * 301 / 2);
}

TEST_F(FeedTest, LinesWithNulBytesOrHugeNumbersAreRejectedAndTheOthersApplied) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto p = Unique("n") + "/with%slash";  // read back as %2F-escaped
  std::string body =
      std::string(kHeader) + p + "-1," + m.card_no + ",retail,1000,2026-06-01T10:00:00+08:00\n";
  body += p + std::string("-2\0x,") + m.card_no + ",retail,2000,2026-06-01T10:00:00+08:00\n";
  body += p + "-3," + m.card_no + ",retail,3000,0000-06-01T10:00:00+08:00\n";
  body += p + "-4," + m.card_no + ",retail,4000,2026-06-01T10:00:00+08:00\n";
  // 10,000,000,000 points at 1 point per CNY: more than one event may earn (its balance would
  // overflow after nine such lines and fail the member's whole part).
  body += p + "-5," + m.card_no + ",retail,1000000000000,2026-06-01T10:00:00+08:00\n";
  auto r = PostFeed(a.r_key, p, body);
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.json["created"], 2) << r;
  EXPECT_EQ(r.json["rejected"], 3) << r;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 50);
  const auto path = "/v1/feeds/" + UrlEncode(p);
  auto feed = http().Get(path, a.r_key);
  ASSERT_EQ(feed.status, 200) << feed;
  EXPECT_EQ(feed.json["feed_id"], p) << feed;
  auto rejects = http().Get(path + "/rejects", a.r_key);
  ASSERT_EQ(rejects.status, 200) << rejects;
  EXPECT_NE(rejects.body.find("\n\"2\","), std::string::npos) << rejects.body;
  EXPECT_NE(rejects.body.find("\n\"3\","), std::string::npos) << rejects.body;
  EXPECT_NE(rejects.body.find("\n\"5\","), std::string::npos) << rejects.body;
  EXPECT_NE(rejects.body.find("more points than one event may"), std::string::npos) << rejects.body;
  EXPECT_EQ(rejects.body.find('\0'), std::string::npos) << "a NUL is stored as U+FFFD";

  const auto q = Unique("j");
  std::string lines =
      "{\"event_id\":\"" + q + "-1\",\"member_id\":" + std::to_string(m.member_id) +
      ",\"category\":\"retail\",\"amount_minor\":1e400,\"occurred_at\":\"2026-06-01T10:00:00Z\"}\n";
  lines += "{\"event_id\":\"" + q + "-2\\u0000\",\"member_id\":" + std::to_string(m.member_id) +
           ",\"category\":\"retail\",\"amount_minor\":100,\"occurred_at\":\"2026-06-01T10:00:00Z\"}\n";
  lines += "{\"event_id\":\"" + q + "-3\",\"member_id\":" + std::to_string(m.member_id) +
           ",\"category\":\"retail\",\"amount_minor\":500,\"occurred_at\":\"2026-06-01T10:00:00Z\"}\n";
  auto n = PostFeed(a.r_key, q, lines, "application/x-ndjson");
  ASSERT_EQ(n.status, 202) << n;
  EXPECT_EQ(n.json["created"], 1) << n;
  EXPECT_EQ(n.json["rejected"], 2) << n;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 55);
}

TEST_F(FeedTest, ALineTheDatabaseRefusesIsRejectedAloneAndItsPartStillApplies) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto p = Unique("poison");
  PoisonAccruals();
  std::string body = std::string(kHeader);
  body += p + "-1," + m.card_no + ",retail,1000,2026-06-01T10:00:00+08:00\n";
  body += p + "-poison," + m.card_no + ",retail,5000,2026-06-01T10:00:00+08:00\n";
  body += p + "-2," + m.card_no + ",retail,300,2026-06-01T10:00:00+08:00\n";
  auto r = PostFeed(a.r_key, p, body);
  CurePoison();
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.json["status"], "applied") << r;
  EXPECT_EQ(r.json["created"], 2) << r;
  EXPECT_EQ(r.json["rejected"], 1) << r;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 13) << "only the two applied lines";
  auto rejects = http().Get("/v1/feeds/" + p + "/rejects", a.r_key);
  EXPECT_NE(rejects.body.find("\"2\",\"" + p + "-poison\",\"internal_error\""), std::string::npos)
      << rejects.body;
  // The part is recorded: posting the feed again applies nothing more.
  auto again = PostFeed(a.r_key, p, body);
  ASSERT_EQ(again.status, 202) << again;
  EXPECT_EQ(again.json["created"], 2) << again;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 13);
  // The refused line's id was not used up.
  EXPECT_EQ(
      http().Post("/v1/accruals", AmountEvent(p + "-poison", m.card_no, "retail", 5000), a.r_key).status,
      201);
}

TEST_F(FeedTest, RejectsBeyondTheListedCapAreCountedNotListedAndGoodLinesStillApply) {
  auto a = CreateAlliance();
  auto m = Enrol(a.agent);
  const auto p = Unique("r");
  std::string body = kHeader;
  for (int i = 0; i < 400; ++i) {
    if (i % 4 == 0) {
      body += p + "-" + std::to_string(i) + "," + m.card_no + ",retail,100,2026-06-01T10:00:00+08:00\n";
    } else {
      body += "x,y,z,w,v\n";  // unreadable: a small gzip body can hold millions of these
    }
  }
  auto r = PostFeed(a.r_key, p, body);
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.json["created"], 100) << r;
  EXPECT_EQ(r.json["rejected"], 300) << r;
  const auto listed = r.json["rejects_listed"].get<std::int64_t>();
  EXPECT_GE(listed, 120) << r;
  EXPECT_LE(listed, 120 + 2 * 50) << "the cap, passed by at most what parts in flight carry: " << r;
  EXPECT_EQ(Balance(a.agent, m.member_id)["available"], 100);
  auto rejects = http().Get("/v1/feeds/" + p + "/rejects?limit=1000", a.r_key);
  ASSERT_EQ(rejects.status, 200) << rejects;
  EXPECT_EQ(std::count(rejects.body.begin(), rejects.body.end(), '\n'), listed + 1)
      << "header and listed rows";
}

TEST_F(FeedTest, BadFeedsAreRefusedClearly) {
  auto a = CreateAlliance();
  const auto p = Unique("b");
  auto no_id = http().Call("POST", "/v1/feeds", std::nullopt, a.r_key, RawBody(kHeader, "text/csv"));
  EXPECT_EQ(no_id.status, 400) << no_id;
  auto json_type = PostFeed(a.r_key, p, "{}", "application/json");
  EXPECT_EQ(json_type.status, 415) << json_type;
  auto header = PostFeed(a.r_key, p, "event_id,colour,occurred_at\nx,red,2026-01-01T00:00:00Z\n");
  EXPECT_EQ(header.status, 400) << header;
  EXPECT_NE(header.body.find("colour"), std::string::npos) << header;
  EXPECT_EQ(Feed(a.r_key, p)["status"], "failed");
  auto gzip = PostFeed(a.r_key, Unique("z"), "definitely not gzip", "text/csv", true);
  EXPECT_EQ(gzip.status, 400) << gzip;
  EXPECT_EQ(http().Post("/v1/feeds", json::object(), a.agent).status, 403);
  EXPECT_EQ(http().Get("/v1/feeds/none-such", a.r_key).status, 404);
  EXPECT_EQ(http().Get("/v1/feeds/none-such/rejects", a.r_key).status, 404);
  // The server is fine afterwards.
  EXPECT_EQ(http().Get("/healthz").status, 200);
}

}  // namespace
}  // namespace unipoints::testing
