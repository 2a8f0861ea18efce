// Periodic and scheduled modes: when the next run starts, a missed run caught up once at start, and
// the retry delays after failures.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "anemone/runtime/run_plan.hpp"

using namespace anemone;
using runtime::next_periodic_ns;
using runtime::next_scheduled_ns;

namespace {
constexpr int64_t k_s = 1'000'000'000;
constexpr int64_t k_min = 60 * k_s;
// 2026-12-01T10:00:00Z, a Tuesday.
constexpr int64_t k_tuesday_10h = 1796119200LL * k_s;

struct UtcZone {
  UtcZone() {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  ~UtcZone() {
    ::unsetenv("TZ");
    ::tzset();
  }
};
} // namespace

TEST_CASE("periodic: an interval after the last run, at once when there was none or it is overdue", "[runtime]") {
  CHECK(next_periodic_ns(std::nullopt, 60 * k_min, k_tuesday_10h) == k_tuesday_10h);
  CHECK(next_periodic_ns(k_tuesday_10h - 10 * k_min, 60 * k_min, k_tuesday_10h) == k_tuesday_10h + 50 * k_min);
  // The core was down for three intervals: one run now, not three.
  CHECK(next_periodic_ns(k_tuesday_10h - 180 * k_min, 60 * k_min, k_tuesday_10h) == k_tuesday_10h);
}

TEST_CASE("scheduled: the next firing, or once at start for a firing missed since the last run", "[runtime]") {
  UtcZone utc;
  auto daily3 = core::CronSchedule::parse("0 3 * * *");
  REQUIRE(daily3);
  int64_t wednesday_3h = k_tuesday_10h + 17 * 60 * k_min;
  // No run yet: wait for the schedule rather than run at once.
  CHECK(next_scheduled_ns(*daily3, std::nullopt, k_tuesday_10h) == wednesday_3h);
  // Last run today at 03:00: nothing missed.
  CHECK(next_scheduled_ns(*daily3, k_tuesday_10h - 7 * 60 * k_min, k_tuesday_10h) == wednesday_3h);
  // Last run two days ago: the firings since then were missed; one run now.
  CHECK(next_scheduled_ns(*daily3, k_tuesday_10h - 55 * 60 * k_min, k_tuesday_10h) == k_tuesday_10h);
  auto never = core::CronSchedule::parse("0 0 30 2 *");
  REQUIRE(never);
  CHECK_FALSE(next_scheduled_ns(*never, std::nullopt, k_tuesday_10h));
}

TEST_CASE("failed runs are retried after 1 minute, doubling up to an hour", "[runtime]") {
  CHECK(runtime::retry_delay_ms(1) == 60'000);
  CHECK(runtime::retry_delay_ms(2) == 120'000);
  CHECK(runtime::retry_delay_ms(6) == 1'920'000);
  CHECK(runtime::retry_delay_ms(7) == 3'600'000);
  CHECK(runtime::retry_delay_ms(100) == 3'600'000);
}
