#include "anemone/core/progress.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "anemone/core/bytes.hpp"
#include "anemone/core/system.hpp"
#include "anemone/core/time.hpp"

namespace anemone::core {

ProgressPrinter::ProgressPrinter(std::string label, ProgressCounters& counters, Mode mode)
    : m_label(std::move(label)), m_counters(counters), m_start(monotonic_seconds()),
      m_enabled(mode == Mode::automatic && stderr_is_terminal()) {
  if (m_enabled) m_thread = std::thread([this] { loop(); });
}

ProgressPrinter::~ProgressPrinter() {
  if (!m_enabled) return;
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  m_thread.join();
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
}

void ProgressPrinter::loop() {
  std::unique_lock lock(m_mutex);
  while (!m_wake.wait_for(lock, std::chrono::milliseconds(250), [this] { return m_stop; })) draw(false);
}

void ProgressPrinter::draw(bool) {
  double elapsed = monotonic_seconds() - m_start;
  uint64_t bytes = m_counters.bytes_done.load();
  double rate = elapsed > 0 ? static_cast<double>(bytes) / elapsed : 0;
  std::string line = fmt::format("{} {:.0f}s  {} files  {}  {}/s", m_label, elapsed, m_counters.files_done.load(),
                                 format_bytes(bytes), format_bytes(static_cast<uint64_t>(rate)));
  if (m_counters.totals_known.load()) {
    uint64_t total = m_counters.bytes_total.load();
    line += fmt::format(" of {} files, {}", m_counters.files_total.load(), format_bytes(total));
    if (rate > 0 && total > bytes)
      line += fmt::format("  ETA {:.0f}s", static_cast<double>(total - bytes) / rate);
  }
  std::fputs(("\r\033[K" + line).c_str(), stderr);
  std::fflush(stderr);
}

} // namespace anemone::core
