#pragma once
// The JSON arrays of flat objects that set-based statements read with json_to_recordset, written
// straight into one string: no tree of nodes per row (on the accrual path the parameter trees
// were a large share of the server's allocations). Keys are the caller's identifiers; string
// values are escaped by nlohmann::json whenever they hold anything but plain printable ASCII.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace unipoints::db {

class JsonRecords {
 public:
  JsonRecords() : out_("[") {}

  JsonRecords& Row();  // starts the next object
  JsonRecords& Int(std::string_view key, std::int64_t value);
  JsonRecords& Bool(std::string_view key, bool value);
  JsonRecords& Str(std::string_view key, std::string_view value);
  JsonRecords& OptStr(std::string_view key, const std::optional<std::string>& value);
  JsonRecords& OptInt(std::string_view key, const std::optional<std::int64_t>& value);
  JsonRecords& Null(std::string_view key);
  JsonRecords& Raw(std::string_view key, std::string_view json_text);  // an already serialised value

  std::size_t rows() const { return rows_; }
  // The array; the writer is empty afterwards.
  std::string Take();

 private:
  void Key(std::string_view key);

  std::string out_;
  std::size_t rows_ = 0;
  bool first_field_ = true;
};

}  // namespace unipoints::db
