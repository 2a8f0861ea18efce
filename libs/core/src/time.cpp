#include "anemone/core/time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include <fmt/format.h>

namespace anemone::core {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
std::tm utc_tm(int64_t time_ns) {
  time_t seconds = static_cast<time_t>(time_ns / 1000000000);
  if (time_ns < 0 && time_ns % 1000000000 != 0) --seconds;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return tm;
}
} // namespace

std::string format_utc(int64_t time_ns) {
  std::tm tm = utc_tm(time_ns);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string format_utc_precise(int64_t time_ns) {
  std::tm tm = utc_tm(time_ns);
  int64_t fraction = ((time_ns % 1000000000) + 1000000000) % 1000000000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fraction);
}

std::optional<int64_t> parse_utc(std::string_view text) {
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second,
                  &consumed) != 6)
    return std::nullopt;
  int64_t fraction = 0;
  size_t pos = static_cast<size_t>(consumed);
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        fraction = fraction * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    for (; digits < 9; ++digits) fraction *= 10;
  }
  if (pos >= s.size() || s[pos] != 'Z' || pos + 1 != s.size()) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  time_t seconds = timegm(&tm);
  int64_t ns = 0;
  // Nanoseconds since 1970 in 64 bits reach the year 2262; a later date is not a time we wrote.
  if (__builtin_mul_overflow(static_cast<int64_t>(seconds), int64_t{1000000000}, &ns) ||
      __builtin_add_overflow(ns, fraction, &ns))
    return std::nullopt;
  return ns;
}

double monotonic_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

namespace {
struct DurationUnit {
  std::string_view suffix;
  int64_t ms;
};
// "ms" comes first so that it is not read as minutes followed by garbage.
constexpr DurationUnit k_duration_units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
} // namespace

std::optional<int64_t> parse_duration_ms(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0 || digits > 9) return std::nullopt;
    int64_t number = std::stoll(std::string(text.substr(0, digits)));
    text.remove_prefix(digits);
    const DurationUnit* unit = nullptr;
    for (const auto& candidate : k_duration_units)
      if (text.starts_with(candidate.suffix)) {
        unit = &candidate;
        break;
      }
    if (unit == nullptr) return std::nullopt;
    text.remove_prefix(unit->suffix.size());
    total += number * unit->ms;
  }
  return total;
}

std::string format_duration_ms(int64_t ms) {
  if (ms == 0) return "0s";
  if (ms % 1000 != 0) return fmt::format("{}ms", ms);
  if (ms % 86400000 == 0) return fmt::format("{}d", ms / 86400000);
  // Hours rather than days otherwise: "26h" reads better than "1d2h".
  std::string text;
  for (const auto& unit : {k_duration_units[3], k_duration_units[2], k_duration_units[1]})
    if (ms >= unit.ms) {
      text += fmt::format("{}{}", ms / unit.ms, unit.suffix);
      ms %= unit.ms;
    }
  return text;
}

} // namespace anemone::core
