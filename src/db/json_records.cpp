#include "unipoints/db/json_records.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

namespace unipoints::db {
namespace {

bool Plain(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

}  // namespace

JsonRecords& JsonRecords::Row() {
  if (rows_ > 0) out_ += "},";
  out_ += '{';
  ++rows_;
  first_field_ = true;
  return *this;
}

void JsonRecords::Key(std::string_view key) {
  if (!first_field_) out_ += ',';
  first_field_ = false;
  out_ += '"';
  out_ += key;
  out_ += "\":";
}

JsonRecords& JsonRecords::Int(std::string_view key, std::int64_t value) {
  Key(key);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  out_.append(buf, static_cast<std::size_t>(end - buf));
  return *this;
}

JsonRecords& JsonRecords::Bool(std::string_view key, bool value) {
  Key(key);
  out_ += value ? "true" : "false";
  return *this;
}

JsonRecords& JsonRecords::Str(std::string_view key, std::string_view value) {
  Key(key);
  if (Plain(value)) {
    out_ += '"';
    out_ += value;
    out_ += '"';
  } else {
    // Invalid UTF-8 becomes U+FFFD rather than a parameter PostgreSQL refuses.
    out_ += nlohmann::json(std::string(value)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return *this;
}

JsonRecords& JsonRecords::OptStr(std::string_view key, const std::optional<std::string>& value) {
  return value ? Str(key, *value) : Null(key);
}

JsonRecords& JsonRecords::OptInt(std::string_view key, const std::optional<std::int64_t>& value) {
  return value ? Int(key, *value) : Null(key);
}

JsonRecords& JsonRecords::Null(std::string_view key) {
  Key(key);
  out_ += "null";
  return *this;
}

JsonRecords& JsonRecords::Raw(std::string_view key, std::string_view json_text) {
  Key(key);
  out_ += json_text;
  return *this;
}

std::string JsonRecords::Take() {
  if (rows_ > 0) out_ += '}';
  out_ += ']';
  std::string done = std::move(out_);
  out_.assign(1, '[');
  rows_ = 0;
  first_field_ = true;
  return done;
}

}  // namespace unipoints::db
