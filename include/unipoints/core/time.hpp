#pragma once
// Instants (UTC, microsecond precision, as PostgreSQL timestamptz stores them), their RFC 3339 wire
// form, settlement periods ("2026-10") and the clock that every service takes by injection.

#include <atomic>
#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace unipoints::core {

using Instant = std::chrono::sys_time<std::chrono::microseconds>;

std::int64_t ToUnixMicros(Instant instant);
Instant FromUnixMicros(std::int64_t micros);

// Strict RFC 3339 date-time: `YYYY-MM-DD('T'|'t')HH:MM:SS[.F{1,6}]('Z'|'z'|('+'|'-')HH:MM)`.
// The offset is required and the result is converted to UTC. Rejected: missing offset, a space
// instead of 'T', invalid civil dates (2026-02-30), hour 24, second 60 (leap seconds), offsets beyond
// 23:59, more than 6 fractional digits, any leading or trailing text. "-00:00" is read as UTC.
std::optional<Instant> ParseRfc3339(std::string_view text);

// UTC, e.g. "2026-10-05T08:30:00Z"; ".ffffff" (always 6 digits) only when the sub-second part is
// non-zero: "2026-10-05T08:30:00.250000Z". Years outside 0000..9999 are not supported.
std::string FormatRfc3339(Instant instant);

// A calendar month, the settlement period. Which instants it covers depends on the tenant's zone.
struct Period {
  int year = 0;
  unsigned month = 0;  // 1..12

  std::string ToString() const;  // "2026-10"
  Period Next() const;           // 2026-12 -> 2027-01
  Period Prev() const;           // 2026-01 -> 2025-12

  auto operator<=>(const Period&) const = default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 bug
};

// Exactly "YYYY-MM" with month 01..12.
std::optional<Period> ParsePeriod(std::string_view text);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Instant Now() const override;
};

// A clock that only moves when told to; for tests and for replaying jobs "as of" an instant.
// Thread-safe: readers and writers may race freely.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(Instant start) : micros_(ToUnixMicros(start)) {}

  Instant Now() const override { return FromUnixMicros(micros_.load(std::memory_order_relaxed)); }
  void Set(Instant instant) { micros_.store(ToUnixMicros(instant), std::memory_order_relaxed); }
  void Advance(std::chrono::microseconds by) { micros_.fetch_add(by.count(), std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> micros_;
};

// The server's clock when configured with clock = "settable" (tests and rehearsals, never
// production): the system clock shifted by an offset, or frozen at an instant; both set at run time
// through PUT /v1/ops/clock. Thread-safe.
class SettableClock final : public Clock {
 public:
  Instant Now() const override;
  // From now on Now() answers `instant`, then moves on with the system clock unless `frozen`.
  void Set(Instant instant, bool frozen);
  bool frozen() const { return frozen_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> offset_micros_{0};
  std::atomic<std::int64_t> frozen_micros_{0};
  std::atomic<bool> frozen_{false};
};

}  // namespace unipoints::core
