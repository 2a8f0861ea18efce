#pragma once
// Live progress on a terminal (files, bytes, rate, ETA), redrawn at most a few times a second; silent
// when stderr is not a terminal so logs and cron mails stay clean.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace anemone::core {

struct ProgressCounters {
  std::atomic<uint64_t> files_done{0};
  std::atomic<uint64_t> bytes_done{0};
  std::atomic<uint64_t> files_total{0}; // 0 while unknown
  std::atomic<uint64_t> bytes_total{0};
  std::atomic<bool> totals_known{false};
};

class ProgressPrinter {
public:
  enum class Mode { automatic, off };
  ProgressPrinter(std::string label, ProgressCounters& counters, Mode mode = Mode::automatic);
  ~ProgressPrinter(); // clears the line
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;
  bool enabled() const { return m_enabled; }

private:
  void loop();
  void draw(bool final_line);
  std::string m_label;
  ProgressCounters& m_counters;
  double m_start;
  bool m_enabled;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stop = false;
  std::thread m_thread;
};

} // namespace anemone::core
