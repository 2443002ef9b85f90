#include "unipoints/core/time.hpp"

#include <cstdio>

#include <date/date.h>

namespace unipoints::core {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads `count` digits at `pos` as a number; false if any of them is not a digit.
bool ReadDigits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) {
    return false;
  }
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!IsDigit(text[i])) {
      return false;
    }
    value = value * 10 + (text[i] - '0');
  }
  out = value;
  return true;
}

}  // namespace

std::int64_t ToUnixMicros(Instant instant) { return instant.time_since_epoch().count(); }

Instant FromUnixMicros(std::int64_t micros) { return Instant{std::chrono::microseconds{micros}}; }

std::optional<Instant> ParseRfc3339(std::string_view text) {
  // 0123456789012345678
  // YYYY-MM-DDTHH:MM:SS
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (text.size() < 20) {
    return std::nullopt;  // the shortest form ends with a one-character 'Z'
  }
  if (!ReadDigits(text, 0, 4, year) || text[4] != '-' || !ReadDigits(text, 5, 2, month) || text[7] != '-' ||
      !ReadDigits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
      !ReadDigits(text, 11, 2, hour) || text[13] != ':' || !ReadDigits(text, 14, 2, minute) ||
      text[16] != ':' || !ReadDigits(text, 17, 2, second)) {
    return std::nullopt;
  }
  const date::year_month_day civil{date::year{year}, date::month{static_cast<unsigned>(month)},
                                   date::day{static_cast<unsigned>(day)}};
  if (!civil.ok() || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }

  std::size_t pos = 19;
  std::int64_t fraction_micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t begin = pos;
    while (pos < text.size() && IsDigit(text[pos])) {
      ++pos;
    }
    const std::size_t digits = pos - begin;
    if (digits == 0 || digits > 6) {
      return std::nullopt;
    }
    for (std::size_t i = begin; i < pos; ++i) {
      fraction_micros = fraction_micros * 10 + (text[i] - '0');
    }
    for (std::size_t i = digits; i < 6; ++i) {
      fraction_micros *= 10;
    }
  }

  if (pos >= text.size()) {
    return std::nullopt;  // the offset is required
  }
  std::chrono::minutes offset{0};
  const char zone = text[pos];
  if (zone == 'Z' || zone == 'z') {
    ++pos;
  } else if (zone == '+' || zone == '-') {
    int offset_hours = 0;
    int offset_minutes = 0;
    if (!ReadDigits(text, pos + 1, 2, offset_hours) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ReadDigits(text, pos + 4, 2, offset_minutes)) {
      return std::nullopt;
    }
    if (offset_hours > 23 || offset_minutes > 59) {
      return std::nullopt;
    }
    offset = std::chrono::hours{offset_hours} + std::chrono::minutes{offset_minutes};
    if (zone == '-') {
      offset = -offset;
    }
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) {
    return std::nullopt;
  }

  // Local time = UTC + offset, so UTC = local time - offset.
  const date::sys_days days{civil};
  const Instant instant = Instant{days} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
                          std::chrono::seconds{second} + std::chrono::microseconds{fraction_micros} - offset;
  // Years 1 to 9999 in UTC: PostgreSQL has no year 0, and every instant is stored and formatted
  // with four-digit years.
  constexpr auto kFirst = date::sys_days{date::year{1} / 1 / 1};
  constexpr auto kAfterLast = date::sys_days{date::year{10000} / 1 / 1};
  if (instant < Instant{kFirst} || instant >= Instant{kAfterLast}) {
    return std::nullopt;
  }
  return instant;
}

std::string FormatRfc3339(Instant instant) {
  const auto days = std::chrono::floor<date::days>(instant);
  const date::year_month_day civil{days};
  const std::int64_t micros_of_day = (instant - days).count();
  const auto micros_of_second = static_cast<int>(micros_of_day % 1'000'000);
  const std::int64_t seconds_of_day = micros_of_day / 1'000'000;
  const auto year = static_cast<int>(civil.year());
  const int fields[] = {static_cast<int>(static_cast<unsigned>(civil.month())),
                        static_cast<int>(static_cast<unsigned>(civil.day())),
                        static_cast<int>(seconds_of_day / 3600), static_cast<int>(seconds_of_day / 60 % 60),
                        static_cast<int>(seconds_of_day % 60)};

  char buffer[96];
  std::size_t length = 0;
  if (year >= 0 && year <= 9999) {
    // Digits written directly: every accrual formats several instants, and snprintf was a tenth of
    // the server's time in a billing feed.
    auto put = [&buffer, &length](int value, int width) {
      for (int i = width - 1; i >= 0; --i, value /= 10) {
        buffer[length + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      }
      length += static_cast<std::size_t>(width);
    };
    constexpr char kSeparators[] = {'-', '-', 'T', ':', ':'};
    put(year, 4);
    for (std::size_t i = 0; i < 5; ++i) {
      buffer[length++] = kSeparators[i];
      put(fields[i], 2);
    }
    if (micros_of_second != 0) {
      buffer[length++] = '.';
      put(micros_of_second, 6);
    }
  } else {
    int n = std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d", year, fields[0], fields[1],
                          fields[2], fields[3], fields[4]);
    if (micros_of_second != 0) {
      n += std::snprintf(buffer + n, sizeof buffer - static_cast<std::size_t>(n), ".%06d", micros_of_second);
    }
    length = static_cast<std::size_t>(n);
  }
  buffer[length++] = 'Z';
  return std::string(buffer, length);
}

std::string Period::ToString() const {
  char buffer[32];
  const int length = std::snprintf(buffer, sizeof buffer, "%04d-%02u", year, month);
  return std::string(buffer, static_cast<std::size_t>(length));
}

Period Period::Next() const { return month == 12 ? Period{year + 1, 1} : Period{year, month + 1}; }

Period Period::Prev() const { return month == 1 ? Period{year - 1, 12} : Period{year, month - 1}; }

std::optional<Period> ParsePeriod(std::string_view text) {
  int year = 0;
  int month = 0;
  if (text.size() != 7 || !ReadDigits(text, 0, 4, year) || text[4] != '-' || !ReadDigits(text, 5, 2, month)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12) {
    return std::nullopt;
  }
  return Period{year, static_cast<unsigned>(month)};
}

Instant SystemClock::Now() const {
  return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

Instant SettableClock::Now() const {
  if (frozen_.load(std::memory_order_acquire))
    return FromUnixMicros(frozen_micros_.load(std::memory_order_relaxed));
  return SystemClock().Now() + std::chrono::microseconds(offset_micros_.load(std::memory_order_relaxed));
}

void SettableClock::Set(Instant instant, bool frozen) {
  frozen_micros_.store(ToUnixMicros(instant), std::memory_order_relaxed);
  offset_micros_.store(ToUnixMicros(instant) - ToUnixMicros(SystemClock().Now()), std::memory_order_relaxed);
  frozen_.store(frozen, std::memory_order_release);
}

}  // namespace unipoints::core
