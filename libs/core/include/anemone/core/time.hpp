#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace anemone::core {

// Wall-clock time in nanoseconds since the Unix epoch.
int64_t now_ns();
// "2026-11-22T04:30:00Z" (seconds precision, UTC).
std::string format_utc(int64_t time_ns);
// "2026-11-22T04:30:00.123456789Z": round-trips through parse_utc.
std::string format_utc_precise(int64_t time_ns);
std::optional<int64_t> parse_utc(std::string_view text);
// "500ms", "30s", "5m", "26h", "7d", or combined "1h30m": milliseconds; nullopt for anything else
// (a bare number has no unit, so it is refused rather than guessed).
std::optional<int64_t> parse_duration_ms(std::string_view text);
// The shortest of those forms: 93600000 -> "26h", 5400000 -> "1h30m", 1500 -> "1500ms".
std::string format_duration_ms(int64_t ms);
// Monotonic seconds for durations.
double monotonic_seconds();

} // namespace anemone::core
