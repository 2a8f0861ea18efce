#pragma once
// When a live-mode backup starts: after `debounce` without a change, or `max_delay` after the first
// change if changes never stop. Pure (times are passed in, monotonic milliseconds), so the rules are
// unit-tested without a clock.
//
// A run takes the pending changes with it (on_run_started); changes that arrive while it runs are
// pending again and make exactly one more run after it, however many there were.
#include <cstdint>
#include <optional>

namespace anemone::runtime {

class ChangeDebouncer {
public:
  ChangeDebouncer(int64_t debounce_ms, int64_t max_delay_ms) : m_debounce_ms(debounce_ms), m_max_delay_ms(max_delay_ms) {}

  void on_change(int64_t now_ms, uint64_t count = 1);
  // When the next run is due; nullopt while nothing is pending.
  std::optional<int64_t> due_at() const;
  bool due(int64_t now_ms) const { return due_at() && *due_at() <= now_ms; }
  void on_run_started();
  // A run that failed: its changes are pending again (the retry policy decides when).
  void on_run_failed(int64_t now_ms, uint64_t changes);

  uint64_t pending_changes() const { return m_pending; }
  std::optional<int64_t> first_change_ms() const { return m_pending ? std::optional(m_first_ms) : std::nullopt; }

private:
  int64_t m_debounce_ms;
  int64_t m_max_delay_ms;
  uint64_t m_pending = 0;
  int64_t m_first_ms = 0;
  int64_t m_last_ms = 0;
};

} // namespace anemone::runtime
