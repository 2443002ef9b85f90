#pragma once
// Reading typed fields out of a JSON object while collecting every problem, so a bad request is
// answered with all of its field errors at once.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "unipoints/core/error.hpp"
#include "unipoints/core/time.hpp"

namespace unipoints::http {

class Fields {
 public:
  // `prefix` names the object in error paths, e.g. "events[3]".
  explicit Fields(const nlohmann::json& object, std::string prefix = "");

  bool Has(std::string_view key) const;
  const nlohmann::json* Raw(std::string_view key) const;

  std::string Str(std::string_view key, std::size_t max_len = 200);
  std::optional<std::string> OptStr(std::string_view key, std::size_t max_len = 200);
  // One of `allowed`.
  std::string Enum(std::string_view key, const std::vector<std::string_view>& allowed);
  std::optional<std::string> OptEnum(std::string_view key, const std::vector<std::string_view>& allowed);
  std::int64_t Int(std::string_view key, std::int64_t min, std::int64_t max);
  std::optional<std::int64_t> OptInt(std::string_view key, std::int64_t min, std::int64_t max);
  core::Instant Time(std::string_view key);
  std::optional<core::Instant> OptTime(std::string_view key);
  // A client id (event_id, request_id...): 1..128 printable ASCII characters.
  std::string Id(std::string_view key);

  void Error(std::string_view key, std::string message);
  // Appends errors that already carry full paths (from a nested Fields).
  void Absorb(std::vector<core::FieldError> errors);
  std::string Path(std::string_view key) const;
  bool ok() const { return errors_.empty(); }
  const std::vector<core::FieldError>& errors() const { return errors_; }
  std::vector<core::FieldError> TakeErrors() { return std::move(errors_); }
  // Throws a 400 DomainError with every collected error, if any.
  void Done();

 private:
  const nlohmann::json& object_;
  std::string prefix_;
  std::vector<core::FieldError> errors_;
};

}  // namespace unipoints::http
