// CSV quoting and parsing of statements and reconciliation uploads, and decimal amounts.

#include <gtest/gtest.h>

#include "unipoints/core/error.hpp"
#include "unipoints/settlement/statement_service.hpp"

namespace unipoints::settlement {
namespace {

TEST(StatementCsvTest, QuotesOnlyWhatRfc4180Requires) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("省电信"), "省电信");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\r\nlines"), "\"two\r\nlines\"");
  EXPECT_EQ(CsvField("lf\n"), "\"lf\n\"");
}

TEST(StatementCsvTest, SplitUndoesQuoting) {
  for (std::string v : {"plain", "a,b", "say \"hi\"", "", "省电信,\"x\""}) {
    auto fields = SplitCsvRecord(CsvField(v) + "," + CsvField("next"));
    ASSERT_TRUE(fields) << v;
    EXPECT_EQ(*fields, (std::vector<std::string>{v, "next"}));
  }
  EXPECT_EQ(*SplitCsvRecord("a,,c"), (std::vector<std::string>{"a", "", "c"}));
  EXPECT_FALSE(SplitCsvRecord("\"open"));
  EXPECT_FALSE(SplitCsvRecord("\"a\"b,c"));
  EXPECT_FALSE(SplitCsvRecord("a\"b"));
}

TEST(StatementCsvTest, FormatsMinorUnits) {
  EXPECT_EQ(FormatMinor(12345, 2), "123.45");
  EXPECT_EQ(FormatMinor(-590, 2), "-5.90");
  EXPECT_EQ(FormatMinor(5, 2), "0.05");
  EXPECT_EQ(FormatMinor(0, 2), "0.00");
  EXPECT_EQ(FormatMinor(-5, 3), "-0.005");
  EXPECT_EQ(FormatMinor(700, 0), "700");
  EXPECT_EQ(FormatMinor(INT64_MIN, 2), "-92233720368547758.08");
}

TEST(StatementCsvTest, ParsesReconcileUploads) {
  auto lines = ParseReconcileCsv("\xEF\xBB\xBFredemption_id,points\r\n7,100\r\n\"8\",-25\r\n\r\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].redemption_id, 8);
  EXPECT_EQ(lines[1].points, -25);
  auto line_of = [](std::string body) {
    try {
      ParseReconcileCsv(body);
    } catch (const core::DomainError& e) {
      return e.errors().empty() ? std::string(e.detail()) : e.errors()[0].field;
    }
    return std::string("accepted");
  };
  EXPECT_EQ(line_of("redemption_id,points\n1,2\n1x,3\n"), "line 3");
  EXPECT_EQ(line_of("id,points\n1,2\n"), "line 1");
  EXPECT_EQ(line_of(""), "line 1");
  EXPECT_EQ(line_of("redemption_id,points\n1,2,3\n"), "line 2");
  EXPECT_EQ(line_of("redemption_id,points\n1,2\n1,2\n"), "line 3");
  EXPECT_EQ(line_of("redemption_id,points\n0,2\n"), "line 2");
}

TEST(StatementCsvTest, NegotiatesAccept) {
  EXPECT_EQ(NegotiateStatementFormat(""), StatementFormat::kJson);
  EXPECT_EQ(NegotiateStatementFormat("*/*"), StatementFormat::kJson);
  EXPECT_EQ(NegotiateStatementFormat("text/csv"), StatementFormat::kCsv);
  EXPECT_EQ(NegotiateStatementFormat("application/json;q=0.5, text/csv"), StatementFormat::kCsv);
  EXPECT_EQ(NegotiateStatementFormat("Text/CSV; charset=utf-8"), StatementFormat::kCsv);
  EXPECT_EQ(NegotiateStatementFormat("application/pdf"), StatementFormat::kPdf);
  EXPECT_THROW(NegotiateStatementFormat("image/png"), core::DomainError);
  EXPECT_THROW(NegotiateStatementFormat("text/csv;q=0"), core::DomainError);
}

}  // namespace
}  // namespace unipoints::settlement
