#include "unipoints/http/fields.hpp"

namespace unipoints::http {
namespace {

bool IsPrintableAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// Counts code points; the JSON parser has already rejected invalid UTF-8.
std::size_t Utf8Length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace

Fields::Fields(const nlohmann::json& object, std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {
  if (!object_.is_object()) errors_.push_back({prefix_.empty() ? "body" : prefix_, "must be a JSON object"});
}

std::string Fields::Path(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

void Fields::Error(std::string_view key, std::string message) {
  errors_.push_back({Path(key), std::move(message)});
}

void Fields::Absorb(std::vector<core::FieldError> errors) {
  for (auto& e : errors) errors_.push_back(std::move(e));
}

bool Fields::Has(std::string_view key) const {
  return object_.is_object() && object_.contains(key) && !object_[std::string(key)].is_null();
}

const nlohmann::json* Fields::Raw(std::string_view key) const {
  if (!Has(key)) return nullptr;
  return &object_[std::string(key)];
}

std::optional<std::string> Fields::OptStr(std::string_view key, std::size_t max_len) {
  const auto* v = Raw(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Error(key, "must be a string");
    return std::nullopt;
  }
  auto s = v->get<std::string>();
  if (s.empty()) {
    Error(key, "must not be empty");
    return std::nullopt;
  }
  if (Utf8Length(s) > max_len) {
    Error(key, "must be at most " + std::to_string(max_len) + " characters");
    return std::nullopt;
  }
  if (s.find('\0') != std::string::npos) {
    Error(key, "must not contain NUL characters");
    return std::nullopt;
  }
  // Text is for people: tabs and line breaks pass, other control characters do not, and a value
  // of only spaces is as good as none.
  bool blank = true;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f) {
      Error(key, "must not contain control characters");
      return std::nullopt;
    }
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') blank = false;
  }
  if (blank) {
    Error(key, "must not be blank");
    return std::nullopt;
  }
  return s;
}

std::string Fields::Str(std::string_view key, std::size_t max_len) {
  if (!Has(key)) {
    Error(key, "is required");
    return {};
  }
  return OptStr(key, max_len).value_or("");
}

std::optional<std::string> Fields::OptEnum(std::string_view key,
                                           const std::vector<std::string_view>& allowed) {
  auto s = OptStr(key, 64);
  if (!s) return std::nullopt;
  for (auto a : allowed) {
    if (*s == a) return s;
  }
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  Error(key, "must be one of: " + list);
  return std::nullopt;
}

std::string Fields::Enum(std::string_view key, const std::vector<std::string_view>& allowed) {
  if (!Has(key)) {
    Error(key, "is required");
    return {};
  }
  return OptEnum(key, allowed).value_or("");
}

std::optional<std::int64_t> Fields::OptInt(std::string_view key, std::int64_t min, std::int64_t max) {
  const auto* v = Raw(key);
  if (v == nullptr) return std::nullopt;
  std::int64_t value = 0;
  if (v->is_number_unsigned()) {
    auto u = v->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(INT64_MAX)) {
      Error(key, "must be at most " + std::to_string(max));
      return std::nullopt;
    }
    value = static_cast<std::int64_t>(u);
  } else if (v->is_number_integer()) {
    value = v->get<std::int64_t>();
  } else {
    Error(key, v->is_number_float() ? "must be an integer (no fraction or exponent)" : "must be an integer");
    return std::nullopt;
  }
  if (value < min || value > max) {
    Error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return value;
}

std::int64_t Fields::Int(std::string_view key, std::int64_t min, std::int64_t max) {
  if (!Has(key)) {
    Error(key, "is required");
    return 0;
  }
  return OptInt(key, min, max).value_or(0);
}

std::optional<core::Instant> Fields::OptTime(std::string_view key) {
  auto s = OptStr(key, 64);
  if (!s) return std::nullopt;
  auto t = core::ParseRfc3339(*s);
  if (!t) Error(key, "must be an RFC 3339 instant with offset, e.g. 2026-10-05T08:30:00+08:00");
  return t;
}

core::Instant Fields::Time(std::string_view key) {
  if (!Has(key)) {
    Error(key, "is required");
    return {};
  }
  return OptTime(key).value_or(core::Instant{});
}

std::string Fields::Id(std::string_view key) {
  auto s = Str(key, 128);
  if (!s.empty() && !IsPrintableAscii(s)) {
    Error(key, "must be printable ASCII without spaces");
    return {};
  }
  return s;
}

void Fields::Done() {
  if (errors_.empty()) return;
  std::string detail = errors_.front().field + ": " + errors_.front().message;
  if (errors_.size() > 1) detail += " (and " + std::to_string(errors_.size() - 1) + " more)";
  throw core::DomainError(core::ErrorCode::kValidationFailed, detail, std::move(errors_));
}

}  // namespace unipoints::http
