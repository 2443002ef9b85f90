// Partner statements over HTTP: JSON and CSV derived from the stored run, checked against amounts
// computed by hand; access per partner; acknowledgement and dispute of a final run.

#include <cstdio>
#include <ctime>

#include <stdlib.h>

#include "settlement/settlement_fixture.hpp"

namespace unipoints::testing {
namespace {

// A tiny RFC 4180 reader: records of fields, CRLF line ends, quoted fields may hold anything.
std::vector<std::vector<std::string>> ParseCsv(std::string_view text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record(1);
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        record.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        record.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record.emplace_back();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      records.push_back(std::move(record));
      record.assign(1, "");
      ++i;
    } else {
      record.back() += c;
    }
  }
  if (record.size() > 1 || !record[0].empty()) records.push_back(std::move(record));
  return records;
}

// The first record whose first two fields are `section` and `key`.
std::vector<std::string> Find(const std::vector<std::vector<std::string>>& csv, const std::string& section,
                              const std::string& key) {
  for (const auto& r : csv) {
    if (r.size() >= 2 && r[0] == section && r[1] == key) return r;
  }
  return {};
}

class StatementTest : public SettlementFixture {
 protected:
  Response Statement(const std::string& period, const std::string& partner, const std::string& key,
                     const std::string& accept = {}) {
    CallOptions o;
    if (!accept.empty()) o.headers.emplace_back("Accept", accept);
    return http().Call("GET", "/v1/settlements/" + period + "/statements/" + partner, std::nullopt, key, o);
  }

  // The seed's two-partner case in the running month: T->R 690 points at 0.010000 (6.90 CNY),
  // R->T 250 - 125 cancelled = 125 points at 0.008000 (1.00 CNY); T pays R 5.90.
  json SeedRun(const Alliance& a) {
    auto m = Enrol(a.agent);
    Points(a.t_key, m.card_no, 2000);
    Points(a.r_key, m.card_no, 2000);
    Reward(a.admin, "R-GIFT", "R", {{"T", 345}});
    Reward(a.admin, "T-GIFT", "T", {{"R", 125}});
    Reward(a.admin, "R-OWN", "R", {{"R", 700}});
    Redeem(a.r_key, m.member_id, "R-GIFT");
    Redeem(a.r_key, m.member_id, "R-GIFT");
    Redeem(a.t_key, m.member_id, "T-GIFT");
    const auto cancelled = Redeem(a.t_key, m.member_id, "T-GIFT");
    Redeem(a.r_key, m.member_id, "R-OWN");
    EXPECT_EQ(http()
                  .Post("/v1/redemptions/" + std::to_string(cancelled) + "/cancel", json::object(), a.agent)
                  .status,
              200);
    auto run = http().Post("/v1/settlements", {{"period", CurrentPeriod()}}, a.finance);
    EXPECT_EQ(run.status, 201) << run;
    return run.json;
  }
};

TEST_F(StatementTest, JsonStatementIsTheRunSeenFromOnePartner) {
  auto a = CreateAlliance();
  const auto run = SeedRun(a);
  const auto period = CurrentPeriod();
  auto s = Statement(period, "T", a.finance);
  ASSERT_EQ(s.status, 200) << s;
  EXPECT_EQ(s.json["header"]["tenant"], a.tenant.code());
  EXPECT_EQ(s.json["header"]["partner"], "T");
  EXPECT_EQ(s.json["header"]["partner_name"], "省电信");
  EXPECT_EQ(s.json["header"]["period"], period);
  EXPECT_EQ(s.json["header"]["currency"], "CNY");
  EXPECT_EQ(s.json["header"]["status"], "draft");
  EXPECT_EQ(s.json["header"]["content_hash"], run["content_hash"]);
  // T receives 125 x 0.008000 = 100 from R and pays 690 x 0.010000 = 690 to R.
  ASSERT_EQ(s.json["receivables"].size(), 1u) << s;
  EXPECT_EQ(s.json["receivables"][0]["counterparty"], "R");
  EXPECT_EQ(s.json["receivables"][0]["counterparty_name"], "区域连锁超市");
  EXPECT_EQ(s.json["receivables"][0]["points"], 125);
  EXPECT_EQ(s.json["receivables"][0]["price_per_point"], "0.008000");
  EXPECT_EQ(s.json["receivables"][0]["amount_minor"], 100);
  ASSERT_EQ(s.json["payables"].size(), 1u) << s;
  EXPECT_EQ(s.json["payables"][0]["points"], 690);
  EXPECT_EQ(s.json["payables"][0]["amount_minor"], 690);
  EXPECT_EQ(s.json["position"],
            (json{{"receivable_minor", 100}, {"payable_minor", 690}, {"net_minor", -590}}));
  EXPECT_EQ(s.json["instructions"], (json::array({{{"from", "T"}, {"to", "R"}, {"amount_minor", 590}}})));
  EXPECT_EQ(s.json["cancellations"], (json::array({{{"payer", "R"}, {"payee", "T"}, {"points", 125}}})));
  ASSERT_EQ(s.json["bilateral_nets"].size(), 1u);
  EXPECT_EQ(s.json["bilateral_nets"][0]["net_minor"], 590);
  // The totals are the run's.
  for (const auto& p : run["positions"]) {
    if (p["partner"] == "T") {
      EXPECT_EQ(p["net_minor"], s.json["position"]["net_minor"]);
    }
  }
  // Detail: 2 x 345 (T->R), 2 x 125 (R->T) and the -125 cancellation; the internal R-OWN is not there.
  const auto& d = s.json["detail"];
  ASSERT_EQ(d.size(), 5u) << s;
  std::int64_t t_to_r = 0, r_to_t = 0;
  for (const auto& x : d) {
    (x["source"] == "T" ? t_to_r : r_to_t) += x["points"].get<std::int64_t>();
    EXPECT_NE(x["source"], x["fulfiller"]);
  }
  EXPECT_EQ(t_to_r, 690);
  EXPECT_EQ(r_to_t, 125);
  EXPECT_EQ(d[4]["kind"], "cancellation");
  EXPECT_EQ(d[4]["points"], -125);

  // A partner key sees its own statement only; unknown partner or period: 404.
  EXPECT_EQ(Statement(period, "T", a.t_key).status, 200);
  EXPECT_TRUE(IsProblem(Statement(period, "R", a.t_key), 403, "forbidden"));
  EXPECT_TRUE(IsProblem(Statement(period, "ZZ", a.finance), 404, "not_found"));
  EXPECT_TRUE(IsProblem(Statement("2025-07", "T", a.finance), 404, "not_found"));
  EXPECT_TRUE(IsProblem(Statement(period, "T", a.finance, "image/png"), 406, "not_acceptable"));
  EXPECT_EQ(Statement(period, "T", a.finance, "*/*").json, s.json);
}

TEST_F(StatementTest, CsvOpensInASpreadsheetWithTheSameTotals) {
  auto a = CreateAlliance();
  const auto run = SeedRun(a);
  const auto period = CurrentPeriod();
  auto s = Statement(period, "R", a.r_key, "text/csv");
  ASSERT_EQ(s.status, 200) << s;
  EXPECT_EQ(s.ContentType().substr(0, 8), "text/csv");
  EXPECT_EQ(s.Header("content-disposition"), "attachment; filename=\"statement-" + period + "-R.csv\"");
  ASSERT_EQ(s.body.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_EQ(s.body.substr(s.body.size() - 2), "\r\n");
  EXPECT_EQ(s.body.find("\n", s.body.find("\n") + 1) - 1, s.body.find("\r", s.body.find("\n") + 1));
  const auto csv = ParseCsv(s.body.substr(3));
  ASSERT_FALSE(csv.empty());
  EXPECT_EQ(csv[0], (std::vector<std::string>{"section", "field", "value"}));
  EXPECT_EQ(Find(csv, "header", "partner_name"),
            (std::vector<std::string>{"header", "partner_name", "区域连锁超市"}));
  EXPECT_EQ(Find(csv, "header", "status")[2], "draft");
  EXPECT_EQ(Find(csv, "header", "content_hash")[2], run["content_hash"]);
  // R receives 6.90 from T and pays 1.00 to T: net 5.90 (amounts and minor integers).
  EXPECT_EQ(Find(csv, "position", "receivable"),
            (std::vector<std::string>{"position", "receivable", "6.90", "690"}));
  EXPECT_EQ(Find(csv, "position", "payable"),
            (std::vector<std::string>{"position", "payable", "1.00", "100"}));
  EXPECT_EQ(Find(csv, "position", "net"), (std::vector<std::string>{"position", "net", "5.90", "590"}));
  EXPECT_EQ(Find(csv, "receivable", "T"),
            (std::vector<std::string>{"receivable", "T", "省电信", "690", "0.010000", "6.90", "690"}));
  EXPECT_EQ(Find(csv, "payable", "T"),
            (std::vector<std::string>{"payable", "T", "省电信", "125", "0.008000", "1.00", "100"}));
  EXPECT_EQ(Find(csv, "instruction", "T"),
            (std::vector<std::string>{"instruction", "T", "R", "5.90", "590"}));
  // Sections are separated by one blank line, each with its own header row starting "section".
  int blanks = 0, detail = 0;
  for (std::size_t i = 0; i < csv.size(); ++i) {
    if (csv[i] == std::vector<std::string>{""}) {
      ++blanks;
      ASSERT_LT(i + 1, csv.size());
      EXPECT_EQ(csv[i + 1][0], "section");
    }
    if (csv[i][0] == "detail") ++detail;
  }
  EXPECT_EQ(blanks, 9);
  EXPECT_EQ(Find(csv, "breakage", "points_expired"),
            (std::vector<std::string>{"breakage", "points_expired", "0"}));
  EXPECT_EQ(detail, 5);
}

// Runs a poppler tool on `pdf` and returns its standard output.
std::string Poppler(const std::string& tool, const std::string& pdf) {
  char path[] = "/tmp/unipoints-statement-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return {};
  std::FILE* f = fdopen(fd, "wb");
  std::fwrite(pdf.data(), 1, pdf.size(), f);
  std::fclose(f);
  std::string out;
  const std::string command = tool + " " + path + (tool == "pdftotext" ? " - 2>/dev/null" : " 2>/dev/null");
  if (std::FILE* p = popen(command.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (pclose(p) != 0) out = "exit-nonzero:" + out;
  }
  std::remove(path);
  return out;
}

TEST_F(StatementTest, PdfOpensAndShowsTheSameTotalsAsTheJson) {
  auto a = CreateAlliance();
  SeedRun(a);
  const auto period = CurrentPeriod();
  auto pdf = Statement(period, "T", a.finance, "application/pdf");
  ASSERT_EQ(pdf.status, 200) << pdf.body.substr(0, 300);
  EXPECT_EQ(pdf.ContentType(), "application/pdf");
  ASSERT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
  const auto info = Poppler("pdfinfo", pdf.body);
  EXPECT_NE(info.find("Pages:"), std::string::npos) << info;
  EXPECT_EQ(info.rfind("exit-nonzero", 0), std::string::npos) << info;
  const auto text = Poppler("pdftotext", pdf.body);
  auto json = Statement(period, "T", a.finance).json;
  // The totals of the JSON statement, and the Chinese names, appear in the PDF's text.
  EXPECT_EQ(json["position"]["receivable_minor"], 100);
  EXPECT_EQ(json["position"]["payable_minor"], 690);
  for (const std::string expected :
       {"1.00", "6.90", "-5.90", "省电信", "区域连锁超市", "0.010000", "0.008000"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " not in:\n" << text;
  }
  EXPECT_NE(text.find(json["header"]["content_hash"].get<std::string>()), std::string::npos) << text;
  // The same statement renders to the same bytes.
  EXPECT_EQ(Statement(period, "T", a.finance, "application/pdf").body, pdf.body);
  // A partner gets its own PDF only.
  EXPECT_EQ(Statement(period, "T", a.r_key, "application/pdf").status, 403);
}

TEST_F(StatementTest, LaterCancellationLeavesTheFinalStatementByteForByte) {
  auto a = CreateAlliance();
  ASSERT_EQ(http()
                .Put("/v1/policy", {{"expiry", {{"kind", "never"}}}, {"cancel_window_hours", 8760}}, a.admin)
                .status,
            200);
  auto m = Enrol(a.agent);
  Points(a.t_key, m.card_no, 1000);
  Reward(a.admin, "R-GIFT", "R", {{"T", 345}});
  const auto id = Redeem(a.r_key, m.member_id, "R-GIFT");
  // Test set-up only: move the redemption and its line into January, as if made then (lines are
  // insert-only, so the guard is lifted for this one statement).
  server().Sql(
      "DO $$ BEGIN ALTER TABLE settlement_lines DISABLE TRIGGER settlement_lines_insert_only;"
      " UPDATE settlement_lines SET booked_at = '2026-01-20T10:00:00+08:00';"
      " UPDATE redemptions SET created_at = '2026-01-20T10:00:00+08:00';"
      " ALTER TABLE settlement_lines ENABLE TRIGGER settlement_lines_insert_only; END $$");
  auto january = http().Post("/v1/settlements/2026-01/finalize", json::object(), a.finance);
  ASSERT_EQ(january.status, 200) << january;
  ASSERT_EQ(january.json["pairs"].size(), 1u) << january;
  EXPECT_EQ(january.json["pairs"][0]["amount_minor"], 345);  // 345 x 0.010000
  const auto json_before = Statement("2026-01", "T", a.finance).body;
  const auto csv_before = Statement("2026-01", "T", a.finance, "text/csv").body;
  const auto pdf_before = Statement("2026-01", "T", a.finance, "application/pdf").body;

  ASSERT_EQ(http().Post("/v1/redemptions/" + std::to_string(id) + "/cancel", json::object(), a.agent).status,
            200);

  // The cancellation is booked now: January's run and statements do not move by a byte...
  EXPECT_EQ(http().Get("/v1/settlements/2026-01", a.finance).body, january.body);
  EXPECT_EQ(http().Post("/v1/settlements", {{"period", "2026-01"}}, a.finance).body, january.body);
  EXPECT_EQ(Statement("2026-01", "T", a.finance).body, json_before);
  EXPECT_EQ(Statement("2026-01", "T", a.finance, "text/csv").body, csv_before);
  EXPECT_EQ(Statement("2026-01", "T", a.finance, "application/pdf").body, pdf_before);
  // ... and the running month carries the negative line as a prior-period adjustment.
  auto now = http().Post("/v1/settlements", {{"period", CurrentPeriod()}}, a.finance);
  ASSERT_EQ(now.status, 201) << now;
  EXPECT_EQ(now.json["pairs"], (json::array({{{"payer", "T"},
                                              {"payee", "R"},
                                              {"points", -345},
                                              {"price_per_point", "0.010000"},
                                              {"amount_minor", -345}}})))
      << now;
  EXPECT_EQ(now.json["prior_period_adjustments"][0]["original_period"], "2026-01") << now;
  EXPECT_EQ(now.json["instructions"], (json::array({{{"from", "R"}, {"to", "T"}, {"amount_minor", 345}}})))
      << now;
}

TEST_F(StatementTest, PartnersAcknowledgeOrDisputeAFinalRunOnce) {
  auto a = CreateAlliance();
  ASSERT_EQ(http().Post("/v1/settlements/2026-01/finalize", json::object(), a.finance).status, 200);
  ASSERT_EQ(http().Post("/v1/settlements", {{"period", CurrentPeriod()}}, a.finance).status, 201);
  const std::string base = "/v1/settlements/2026-01/statements/";
  EXPECT_TRUE(IsProblem(http().Post("/v1/settlements/" + CurrentPeriod() + "/statements/T/acknowledge",
                                    json::object(), a.t_key),
                        409, "run_not_final"));
  EXPECT_EQ(Statement("2026-01", "T", a.t_key).json["header"]["status"], "final");
  auto ack = http().Post(base + "T/acknowledge", json::object(), a.t_key);
  ASSERT_EQ(ack.status, 200) << ack;
  EXPECT_EQ(ack.json["status"], "acknowledged");
  auto again = http().Post(base + "T/acknowledge", json::object(), a.t_key);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.json, ack.json);
  EXPECT_TRUE(
      IsProblem(http().Post(base + "T/dispute", {{"reason", "wrong"}}, a.t_key), 409, "already_answered"));
  auto s = Statement("2026-01", "T", a.finance);
  EXPECT_EQ(s.json["header"]["status"], "acknowledged");
  EXPECT_EQ(s.json["header"]["response"]["status"], "acknowledged");

  EXPECT_TRUE(IsProblem(http().Post(base + "R/dispute", json::object(), a.r_key), 400, "", "reason"));
  EXPECT_TRUE(IsProblem(http().Post(base + "R/acknowledge", json::object(), a.t_key), 403));
  EXPECT_TRUE(IsProblem(http().Post(base + "R/acknowledge", json::object(), a.finance), 403));
  auto dispute = http().Post(base + "R/dispute", {{"reason", "差额 3 元, \"line 7\""}}, a.r_key);
  ASSERT_EQ(dispute.status, 200) << dispute;
  auto csv = ParseCsv(Statement("2026-01", "R", a.finance, "text/csv").body.substr(3));
  EXPECT_EQ(Find(csv, "header", "status")[2], "disputed");
  EXPECT_EQ(Find(csv, "header", "response_reason")[2], "差额 3 元, \"line 7\"");
  EXPECT_TRUE(
      IsProblem(http().Post(base + "R/acknowledge", json::object(), a.r_key), 409, "already_answered"));
}

}  // namespace
}  // namespace unipoints::testing
