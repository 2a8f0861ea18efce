#pragma once
// One line per event on stderr: "2026-11-22T04:30:00Z backup-sender info message". supervisord
// writes it under /logs. Never pass a secret to these functions.
#include <string_view>

#include <fmt/format.h>

namespace anemone::core {

enum class LogLevel { debug, info, warning, error };

void log_init(std::string_view tool, LogLevel minimum = LogLevel::info);
void log_line(LogLevel level, std::string_view message);

template <typename... Args> void log_info(fmt::format_string<Args...> f, Args&&... args) {
  log_line(LogLevel::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args> void log_warning(fmt::format_string<Args...> f, Args&&... args) {
  log_line(LogLevel::warning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args> void log_error(fmt::format_string<Args...> f, Args&&... args) {
  log_line(LogLevel::error, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args> void log_debug(fmt::format_string<Args...> f, Args&&... args) {
  log_line(LogLevel::debug, fmt::format(f, std::forward<Args>(args)...));
}

} // namespace anemone::core
