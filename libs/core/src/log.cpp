#include "anemone/core/log.hpp"

#include <cstdio>
#include <mutex>
#include <string>

#include "anemone/core/time.hpp"

namespace anemone::core {
namespace {
std::mutex g_log_mutex;
std::string g_tool = "anemone";
LogLevel g_minimum = LogLevel::info;

std::string_view level_name(LogLevel level) {
  switch (level) {
  case LogLevel::debug: return "debug";
  case LogLevel::info: return "info";
  case LogLevel::warning: return "warning";
  case LogLevel::error: return "error";
  }
  return "info";
}
} // namespace

void log_init(std::string_view tool, LogLevel minimum) {
  std::lock_guard lock(g_log_mutex);
  g_tool = std::string(tool);
  g_minimum = minimum;
}

void log_line(LogLevel level, std::string_view message) {
  if (level < g_minimum) return;
  std::string line = fmt::format("{} {} {} {}\n", format_utc(now_ns()), g_tool, level_name(level), message);
  std::lock_guard lock(g_log_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

} // namespace anemone::core
