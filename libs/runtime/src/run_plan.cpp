#include "anemone/runtime/run_plan.hpp"

#include <algorithm>

namespace anemone::runtime {

namespace {
constexpr int64_t k_ns_per_s = 1'000'000'000;
constexpr int64_t k_first_retry_ms = 60'000;
constexpr int64_t k_max_retry_ms = 3'600'000;
} // namespace

int64_t next_periodic_ns(std::optional<int64_t> last_start_ns, int64_t interval_ns, int64_t now_ns) {
  if (!last_start_ns) return now_ns;
  return std::max(now_ns, *last_start_ns + interval_ns);
}

std::optional<int64_t> next_scheduled_ns(const core::CronSchedule& schedule, std::optional<int64_t> last_start_ns,
                                         int64_t now_ns) {
  std::time_t now_s = static_cast<std::time_t>(now_ns / k_ns_per_s);
  if (last_start_ns) {
    auto due = schedule.next_after(static_cast<std::time_t>(*last_start_ns / k_ns_per_s));
    if (due && *due <= now_s) return now_ns;
  }
  auto next = schedule.next_after(now_s);
  if (!next) return std::nullopt;
  return static_cast<int64_t>(*next) * k_ns_per_s;
}

int64_t retry_delay_ms(int consecutive_failures) {
  int64_t delay = k_first_retry_ms;
  for (int i = 1; i < consecutive_failures && delay < k_max_retry_ms; ++i) delay *= 2;
  return std::min(delay, k_max_retry_ms);
}

} // namespace anemone::runtime
