#include "anemone/runtime/debouncer.hpp"

#include <algorithm>

namespace anemone::runtime {

void ChangeDebouncer::on_change(int64_t now_ms, uint64_t count) {
  if (count == 0) return;
  if (m_pending == 0) m_first_ms = now_ms;
  m_pending += count;
  m_last_ms = now_ms;
}

std::optional<int64_t> ChangeDebouncer::due_at() const {
  if (m_pending == 0) return std::nullopt;
  return std::min(m_last_ms + m_debounce_ms, m_first_ms + m_max_delay_ms);
}

void ChangeDebouncer::on_run_started() { m_pending = 0; }

void ChangeDebouncer::on_run_failed(int64_t now_ms, uint64_t changes) {
  if (m_pending == 0) {
    m_first_ms = now_ms;
    m_last_ms = now_ms;
  }
  m_pending += std::max<uint64_t>(changes, 1);
}

} // namespace anemone::runtime
