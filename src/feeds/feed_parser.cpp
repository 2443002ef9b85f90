#include "unipoints/feeds/feed_parser.hpp"

#include <csv.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

#include "unipoints/core/error.hpp"
#include "unipoints/http/request.hpp"

namespace unipoints::feeds {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;

// How much the CSV parser is handed at once: bounds how far a record can overrun the limit.
constexpr std::size_t kCsvSlice = 4096;

const std::set<std::string>& IntegerColumns() {
  static const std::set<std::string> kColumns = {"member_id", "amount_minor", "points"};
  return kColumns;
}

// The field quoted as a CSV field (libcsv's quoting: always in double quotes, quotes doubled).
std::string Quote(std::string_view field) {
  const auto size = csv_write(nullptr, 0, field.data(), field.size());
  std::string out(size, '\0');
  csv_write(out.data(), out.size(), field.data(), field.size());
  return out;
}

// The field as a partner would write it: bare unless reading it back needs quotes (empty, a
// separator, a quote or a line break in it, or spaces at an end, which an unquoted field loses).
std::string QuoteIfNeeded(std::string_view field) {
  const bool needs = field.empty() || field.find_first_of(",\"\r\n") != std::string_view::npos ||
                     field.front() == ' ' || field.front() == '\t' || field.back() == ' ' ||
                     field.back() == '\t';
  return needs ? Quote(field) : std::string(field);
}

// An integer column's text as a JSON integer when it is one; else as text, for the event's
// validation to name.
json IntegerOrText(const std::string& text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc() && ptr == end) return value;
  return text;
}

DomainError BadFeed(const std::string& detail, const std::string& field = "body") {
  return DomainError(ErrorCode::kValidationFailed, detail, {{field, detail}});
}

}  // namespace

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ',';
    line += Quote(fields[i]);
  }
  return line + "\r\n";
}

const std::vector<std::string>& CsvColumns() {
  static const std::vector<std::string> kColumns = {"event_id",     "card_no", "member_id",  "category",
                                                    "amount_minor", "points",  "point_type", "occurred_at"};
  return kColumns;
}

struct FeedParser::Impl {
  FeedFormat format;
  std::vector<FeedRecord>* out = nullptr;
  std::int64_t line = 0;
  bool at_start = true;  // a UTF-8 byte order mark may come first
  std::string head;      // what came while at_start
  std::optional<DomainError> failure;

  // CSV
  csv_parser csv{};
  bool header_done = false;
  std::vector<std::string> columns;
  std::string header_text;
  std::vector<std::optional<std::string>> fields;
  std::size_t row_bytes = 0;

  // NDJSON
  std::string pending;
  bool skipping = false;  // inside a line past the limit, until its end

  explicit Impl(FeedFormat f) : format(f) {
    if (format == FeedFormat::kCsv && csv_init(&csv, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) {
      throw std::bad_alloc();
    }
  }
  ~Impl() {
    if (format == FeedFormat::kCsv) csv_free(&csv);
  }

  static void OnField(void* s, std::size_t len, void* data) {
    auto* self = static_cast<Impl*>(data);
    self->row_bytes += len;
    self->fields.push_back(s == nullptr
                               ? std::nullopt
                               : std::optional<std::string>(std::string(static_cast<const char*>(s), len)));
  }
  static void OnRow(int, void* data) { static_cast<Impl*>(data)->EndRow(); }

  std::string RowText() const {
    std::string text;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) text += ',';
      if (fields[i]) text += QuoteIfNeeded(*fields[i]);
    }
    return text;
  }

  void EndRow() {
    const bool blank = fields.empty() || (fields.size() == 1 && (!fields[0] || fields[0]->empty()));
    if (!blank && !failure) {
      if (!header_done) {
        ReadHeader();
      } else {
        ReadRecord();
      }
    }
    fields.clear();
    row_bytes = 0;
  }

  void ReadHeader() {
    header_done = true;
    header_text = RowText();
    std::set<std::string> seen;
    for (const auto& f : fields) {
      std::string name = f.value_or("");
      const auto& known = CsvColumns();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        failure = BadFeed("The CSV header names an unknown column '" + name + "' (columns: " + list + ")",
                          "header");
        return;
      }
      if (!seen.insert(name).second) {
        failure = BadFeed("The CSV header names column '" + name + "' twice", "header");
        return;
      }
      columns.push_back(name);
    }
    for (const char* required : {"event_id", "occurred_at"}) {
      if (!seen.contains(required)) {
        failure = BadFeed(std::string("The CSV header lacks the column '") + required + "'", "header");
        return;
      }
    }
  }

  void ReadRecord() {
    FeedRecord r;
    r.line = ++line;
    r.text = RowText();
    if (fields.size() != columns.size()) {
      r.error = "has " + std::to_string(fields.size()) + " fields; the header names " +
                std::to_string(columns.size());
    } else {
      json event = json::object();
      for (std::size_t i = 0; i < columns.size(); ++i) {
        if (!fields[i] || fields[i]->empty()) continue;  // an empty cell is an absent field
        if (!http::IsValidUtf8(*fields[i])) {
          r.error = columns[i] + ": is not valid UTF-8";
          break;
        }
        event[columns[i]] =
            IntegerColumns().contains(columns[i]) ? IntegerOrText(*fields[i]) : json(*fields[i]);
      }
      if (r.error.empty()) r.event = std::move(event);
    }
    out->push_back(std::move(r));
  }

  void ThrowIfFailed() {
    if (failure) {
      auto e = *failure;
      failure.reset();
      throw e;
    }
  }

  void WriteCsv(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = std::min(bytes.size(), kCsvSlice);
      if (csv_parse(&csv, bytes.data(), n, OnField, OnRow, this) != n) {
        throw BadFeed(std::string("The CSV cannot be read: ") + csv_strerror(csv_error(&csv)));
      }
      ThrowIfFailed();
      bytes.remove_prefix(n);
      if (csv_get_buffer_size(&csv) > kMaxRecordBytes || row_bytes > kMaxRecordBytes) {
        throw BadFeed("CSV record " + std::to_string(line + 1) + " is longer than " +
                      std::to_string(kMaxRecordBytes) + " bytes");
      }
    }
  }

  void Line(std::string_view text) {
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) return;  // blank lines are no records
    FeedRecord r;
    r.line = ++line;
    r.text = std::string(text);
    try {
      auto event = http::ParseJsonText(text);
      if (event.is_object()) {
        r.event = std::move(event);
      } else {
        r.error = "is not a JSON object";
      }
    } catch (const DomainError& e) {
      r.error = e.detail();
    }
    out->push_back(std::move(r));
  }

  void TooLong() {
    FeedRecord r;
    r.line = ++line;
    r.error = "is longer than " + std::to_string(kMaxRecordBytes) + " bytes";
    out->push_back(std::move(r));
  }

  void WriteNdjson(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto nl = bytes.find('\n');
      const auto piece = bytes.substr(0, nl);
      if (!skipping) {
        pending.append(piece);
        if (pending.size() > kMaxRecordBytes) {
          skipping = true;
          pending.clear();
          pending.shrink_to_fit();
        }
      }
      if (nl == std::string_view::npos) return;
      if (skipping) {
        TooLong();
        skipping = false;
      } else {
        Line(pending);
      }
      pending.clear();
      bytes.remove_prefix(nl + 1);
    }
  }

  void Write(std::string_view bytes) {
    std::string start;  // the first bytes, held until they show whether a byte order mark begins the body
    if (at_start) {
      static constexpr std::string_view kBom = "\xEF\xBB\xBF";
      head.append(bytes);
      if (head.size() < kBom.size() && kBom.starts_with(head)) return;  // may still be a BOM: wait
      at_start = false;
      start = std::move(head);
      bytes = start;
      if (bytes.starts_with(kBom)) bytes.remove_prefix(kBom.size());
    }
    if (format == FeedFormat::kCsv) {
      WriteCsv(bytes);
    } else {
      WriteNdjson(bytes);
    }
  }

  void Finish() {
    if (at_start && !head.empty()) {  // a body shorter than a byte order mark
      at_start = false;
      std::string rest = std::move(head);
      Write(rest);
    }
    if (format == FeedFormat::kCsv) {
      csv_fini(&csv, OnField, OnRow, this);
      ThrowIfFailed();
      if (!header_done) throw BadFeed("The CSV feed has no header row");
    } else if (skipping) {
      TooLong();
    } else if (!pending.empty()) {
      Line(pending);
      pending.clear();
    }
  }
};

FeedParser::FeedParser(FeedFormat format) : impl_(std::make_unique<Impl>(format)) {}
FeedParser::~FeedParser() = default;

void FeedParser::Write(std::string_view bytes, std::vector<FeedRecord>& out) {
  impl_->out = &out;
  impl_->Write(bytes);
}

void FeedParser::Finish(std::vector<FeedRecord>& out) {
  impl_->out = &out;
  impl_->Finish();
}

const std::string& FeedParser::header() const { return impl_->header_text; }

struct GzipInflater::Impl {
  z_stream z{};
  bool in_member = false;

  Impl() {
    // 16 + MAX_WBITS: a gzip wrapper, not zlib's.
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
  }
  ~Impl() { inflateEnd(&z); }
};

GzipInflater::GzipInflater() : impl_(std::make_unique<Impl>()) {}
GzipInflater::~GzipInflater() = default;

void GzipInflater::Write(std::string_view in, std::string& out) {
  auto& z = impl_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[16384];
  bool more_output = false;  // the last call filled the buffer: zlib may hold more
  while (z.avail_in > 0 || more_output) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    if (z.avail_in > 0) impl_->in_member = true;
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    more_output = z.avail_out == 0;
    if (rc == Z_STREAM_END) {
      impl_->in_member = false;
      more_output = false;
      if (z.avail_in > 0 && inflateReset(&z) != Z_OK) throw BadFeed("The body is not valid gzip");
      continue;
    }
    if (rc == Z_BUF_ERROR) break;  // no progress possible without more input
    if (rc != Z_OK) {
      throw BadFeed(std::string("The body is not valid gzip: ") +
                    (z.msg != nullptr ? z.msg : "corrupt data"));
    }
  }
}

void GzipInflater::Finish() {
  if (impl_->in_member) throw BadFeed("The gzip body ended before its end");
}

}  // namespace unipoints::feeds
