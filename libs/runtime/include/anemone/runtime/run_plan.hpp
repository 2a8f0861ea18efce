#pragma once
// When periodic and scheduled modes start their next backup, and how long a failed run waits before
// its retry. Pure functions of the last run's start and the current time (wall clock, ns), so a run
// missed while the core was down is found the same way at start as later, and tests need no clock.
#include <cstdint>
#include <optional>

#include "anemone/core/cron.hpp"

namespace anemone::runtime {

// periodic: `interval` after the last run started; at once when there was none or it is overdue.
int64_t next_periodic_ns(std::optional<int64_t> last_start_ns, int64_t interval_ns, int64_t now_ns);

// scheduled: at once when the schedule fired since the last run started (a run missed while the
// core was down happens once); else the next time it fires. With no run yet, the next firing.
// nullopt when the schedule never fires again within five years.
std::optional<int64_t> next_scheduled_ns(const core::CronSchedule& schedule, std::optional<int64_t> last_start_ns,
                                         int64_t now_ns);

// A failed run is retried after 1 minute, then 2, 4, … up to 1 hour while failures go on.
int64_t retry_delay_ms(int consecutive_failures);

} // namespace anemone::runtime
