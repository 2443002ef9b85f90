#pragma once
// Reading a billing feed as it streams in: gzip inflation (zlib) and records of CSV (libcsv, with a
// header row naming the accrual fields) or NDJSON (one JSON object per line). Each data record
// comes out as the accrual event it describes, or with the reason it cannot be one; only a feed
// that cannot be read on at all (a bad CSV header, a CSV record past kMaxRecordBytes, broken gzip)
// throws. Memory stays bounded by the size of one record whatever the feed's size.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace unipoints::feeds {

enum class FeedFormat { kCsv, kNdjson };

inline constexpr std::size_t kMaxRecordBytes = 64 * 1024;

struct FeedRecord {
  std::int64_t line = 0;  // 1-based number among the data records (the CSV header is not one)
  nlohmann::json event;   // the event object when the record could be read
  std::string error;      // why it could not (empty when it could)
  std::string text;       // the record as sent (a CSV record with quotes only where needed, or the JSON
                          // line), for the rejects file and the feed's digest
};

// One CSV record of `fields` (each quoted, RFC 4180), ending in CRLF.
std::string CsvLine(const std::vector<std::string>& fields);

// The columns a CSV feed may have; event_id and occurred_at are required.
const std::vector<std::string>& CsvColumns();

class FeedParser {
 public:
  explicit FeedParser(FeedFormat format);
  ~FeedParser();
  FeedParser(const FeedParser&) = delete;
  FeedParser& operator=(const FeedParser&) = delete;

  // Feeds body bytes; complete records are appended to `out`. Throws core::DomainError (400).
  void Write(std::string_view bytes, std::vector<FeedRecord>& out);
  // The body ended: the last record may lack its line end.
  void Finish(std::vector<FeedRecord>& out);
  // The CSV header as read ("" for NDJSON or before it was read).
  const std::string& header() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Inflates a gzip body (several concatenated members allowed). Throws core::DomainError (400) on
// corrupt data; Finish throws when the body ended inside a member.
class GzipInflater {
 public:
  GzipInflater();
  ~GzipInflater();
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  // Appends the inflated bytes of `in` to `out`.
  void Write(std::string_view in, std::string& out);
  void Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace unipoints::feeds
