// Feed records as the server reads them: CSV through libcsv with a header row, NDJSON per line,
// gzip through zlib; fed in pieces of any size, with bounded memory per record.

#include <zlib.h>

#include <gtest/gtest.h>

#include "unipoints/core/error.hpp"
#include "unipoints/feeds/feed_parser.hpp"

namespace unipoints::feeds {
namespace {

using nlohmann::json;

std::vector<FeedRecord> ParseAll(FeedFormat format, const std::string& body, std::size_t piece) {
  FeedParser parser(format);
  std::vector<FeedRecord> out;
  for (std::size_t at = 0; at < body.size(); at += piece)
    parser.Write(std::string_view(body).substr(at, piece), out);
  parser.Finish(out);
  return out;
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(FeedParserTest, CsvRecordsBecomeEventsWhateverThePieceSize) {
  const std::string body =
      "\xEF\xBB\xBF"
      "event_id,card_no,category,amount_minor,occurred_at\r\n"
      "e1,8800000000000001,retail,1050,2026-06-01T10:00:00+08:00\r\n"
      "\r\n"
      "\"e,2\",8800000000000001,\"say \"\"hi\"\"\",abc,2026-06-01T10:00:00+08:00\n"
      "e3,,retail,,2026-06-01T10:00:00+08:00\n"
      "e4,only-two\n"
      "e5,8800000000000001,\"multi\nline\",7,2026-06-01T10:00:00+08:00";
  for (std::size_t piece : {1u, 3u, 7u, 64u, 100000u}) {
    auto records = ParseAll(FeedFormat::kCsv, body, piece);
    ASSERT_EQ(records.size(), 5u) << "piece " << piece;
    EXPECT_EQ(records[0].line, 1);
    EXPECT_EQ(records[0].event, json({{"event_id", "e1"},
                                      {"card_no", "8800000000000001"},
                                      {"category", "retail"},
                                      {"amount_minor", 1050},
                                      {"occurred_at", "2026-06-01T10:00:00+08:00"}}));
    // Quoted fields keep their commas and quotes; a non-integer amount stays text for validation.
    EXPECT_EQ(records[1].event["event_id"], "e,2");
    EXPECT_EQ(records[1].event["category"], "say \"hi\"");
    EXPECT_EQ(records[1].event["amount_minor"], "abc");
    // Empty cells are absent fields.
    EXPECT_FALSE(records[2].event.contains("card_no"));
    EXPECT_FALSE(records[2].event.contains("amount_minor"));
    EXPECT_EQ(records[3].line, 4);
    EXPECT_NE(records[3].error.find("has 2 fields"), std::string::npos) << records[3].error;
    EXPECT_EQ(records[4].event["category"], "multi\nline");
    EXPECT_EQ(records[4].event["amount_minor"], 7);
    // Each record's text is the line as sent, quoted only where reading it back needs quotes.
    EXPECT_EQ(records[0].text, "e1,8800000000000001,retail,1050,2026-06-01T10:00:00+08:00");
    EXPECT_EQ(records[1].text, "\"e,2\",8800000000000001,\"say \"\"hi\"\"\",abc,2026-06-01T10:00:00+08:00");
    EXPECT_EQ(records[2].text, "e3,,retail,,2026-06-01T10:00:00+08:00");
    EXPECT_EQ(records[3].text, "e4,only-two");
    EXPECT_EQ(records[4].text, "e5,8800000000000001,\"multi\nline\",7,2026-06-01T10:00:00+08:00");
  }
}

TEST(FeedParserTest, CsvHeaderMustNameKnownColumnsOnce) {
  auto bad = [](const std::string& body) {
    try {
      ParseAll(FeedFormat::kCsv, body, 1000);
    } catch (const core::DomainError& e) {
      return e.detail();
    }
    return std::string();
  };
  EXPECT_NE(bad("event_id,colour,occurred_at\n").find("unknown column 'colour'"), std::string::npos);
  EXPECT_NE(bad("event_id,occurred_at,event_id\n").find("twice"), std::string::npos);
  EXPECT_NE(bad("event_id,points\n").find("occurred_at"), std::string::npos);
  EXPECT_NE(bad("").find("no header"), std::string::npos);
}

TEST(FeedParserTest, OverlongCsvRecordStopsTheFeed) {
  std::string body = "event_id,occurred_at\n\"" + std::string(kMaxRecordBytes + 10, 'x');
  EXPECT_THROW(ParseAll(FeedFormat::kCsv, body, 4096), core::DomainError);
}

TEST(FeedParserTest, NdjsonLinesAreObjectsOrRejectedAlone) {
  const std::string body =
      "{\"event_id\":\"a\",\"points\":5}\r\n"
      "\n"
      "not json\n"
      "[1,2]\n" +
      std::string(70000, ' ') + "{}\n" +  // past the record limit
      "{\"event_id\":\"b\"}";
  for (std::size_t piece : {1u, 5u, 4096u, 1000000u}) {
    auto records = ParseAll(FeedFormat::kNdjson, body, piece);
    ASSERT_EQ(records.size(), 5u) << "piece " << piece;
    EXPECT_EQ(records[0].event, json({{"event_id", "a"}, {"points", 5}}));
    EXPECT_EQ(records[0].text, "{\"event_id\":\"a\",\"points\":5}");
    EXPECT_FALSE(records[1].error.empty());
    EXPECT_EQ(records[2].error, "is not a JSON object");
    EXPECT_NE(records[3].error.find("longer than"), std::string::npos);
    EXPECT_EQ(records[4].line, 5);
    EXPECT_EQ(records[4].event["event_id"], "b");
  }
}

TEST(FeedParserTest, GzipInflatesInPiecesAndAcrossMembers) {
  const std::string a(100000, 'a');
  const std::string b = "the second member";
  const auto zipped = Gzip(a) + Gzip(b);
  for (std::size_t piece : {1u, 100u, 8192u}) {
    GzipInflater inflater;
    std::string out;
    for (std::size_t at = 0; at < zipped.size(); at += piece)
      inflater.Write(std::string_view(zipped).substr(at, piece), out);
    inflater.Finish();
    EXPECT_EQ(out, a + b) << "piece " << piece;
  }
}

TEST(FeedParserTest, BrokenGzipIsRefused) {
  GzipInflater garbage;
  std::string out;
  EXPECT_THROW(garbage.Write("this is not gzip at all", out), core::DomainError);
  const auto zipped = Gzip(std::string(1000, 'z'));
  GzipInflater cut;
  cut.Write(std::string_view(zipped).substr(0, zipped.size() / 2), out);
  EXPECT_THROW(cut.Finish(), core::DomainError);
}

TEST(FeedParserTest, CsvLineQuotesEveryField) {
  EXPECT_EQ(CsvLine({"a", "b,c", "say \"x\""}), "\"a\",\"b,c\",\"say \"\"x\"\"\"\r\n");
}

}  // namespace
}  // namespace unipoints::feeds
