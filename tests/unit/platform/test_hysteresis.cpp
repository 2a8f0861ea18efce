// health-checker's rules: rise/fall streaks, the events they produce, and when the next probe is due.
#include <algorithm>
#include <vector>

#include <catch2/catch.hpp>

#include "anemone/platform/hysteresis.hpp"
#include "anemone/platform/prober.hpp"

namespace platform = anemone::platform;
using anemone::config::BackendSpec;
using anemone::config::HealthSpec;
using anemone::state::BackendHealth;
using anemone::state::BackendState;

namespace {

BackendSpec backend() {
  BackendSpec spec;
  spec.name = "api/10.0.0.1:8080";
  spec.service = "api";
  spec.site = "dijon";
  spec.addr = "10.0.0.1";
  spec.port = 8080;
  return spec;
}

HealthSpec health_spec(int rise = 2, int fall = 3, int64_t interval_ms = 4000) {
  HealthSpec spec;
  spec.interval_ms = interval_ms;
  spec.timeout_ms = 1000;
  spec.rise = rise;
  spec.fall = fall;
  return spec;
}

platform::ProbeResult pass(double latency_ms = 1.5) { return {true, latency_ms, 200, ""}; }
platform::ProbeResult http_500() { return {false, 2.0, 500, "HTTP 500 (expected 200)"}; }
platform::ProbeResult refused() { return {false, 0.1, std::nullopt, "connection refused"}; }

BackendHealth in_state(BackendState state, int64_t since_ns = 1) {
  BackendHealth health;
  health.backend = "api/10.0.0.1:8080";
  health.state = state;
  health.since_ns = since_ns;
  return health;
}

// Feeds results one per second from t = 1000 s; returns the updates.
std::vector<platform::HealthUpdate> feed(BackendHealth& health, const HealthSpec& spec,
                                         const std::vector<platform::ProbeResult>& results) {
  std::vector<platform::HealthUpdate> updates;
  int64_t t = 1000'000'000'000;
  for (const auto& result : results) {
    updates.push_back(platform::apply_probe(backend(), health, result, spec, t));
    health = updates.back().health;
    t += 1'000'000'000;
  }
  return updates;
}

} // namespace

TEST_CASE("an up backend goes down only after fall failures in a row", "[platform]") {
  auto health = in_state(BackendState::up);
  auto updates = feed(health, health_spec(2, 3), {http_500(), http_500(), http_500()});
  CHECK_FALSE(updates[0].event);
  CHECK_FALSE(updates[1].event);
  CHECK(updates[1].health.state == BackendState::up);
  REQUIRE(updates[2].event);
  const auto& event = *updates[2].event;
  CHECK(event.from == BackendState::up);
  CHECK(event.to == BackendState::down);
  CHECK(event.backend == "api/10.0.0.1:8080");
  CHECK(event.service == "api");
  CHECK(event.site == "dijon");
  CHECK(event.reason == "3 failures in a row: HTTP 500 (expected 200)");
  CHECK(event.time_ns == 1002'000'000'000);
  CHECK(health.state == BackendState::down);
  CHECK(health.since_ns == 1002'000'000'000);
  CHECK(health.failures == 3);
  CHECK(health.passes == 0);
  CHECK(health.last_error == "HTTP 500 (expected 200)");
  CHECK(health.last_status == 500);
}

TEST_CASE("a down backend comes up only after rise passes in a row", "[platform]") {
  auto health = in_state(BackendState::down);
  auto updates = feed(health, health_spec(2, 3), {pass(), pass()});
  CHECK_FALSE(updates[0].event);
  REQUIRE(updates[1].event);
  CHECK(updates[1].event->from == BackendState::down);
  CHECK(updates[1].event->to == BackendState::up);
  CHECK(updates[1].event->reason == "2 passes in a row");
  CHECK(health.state == BackendState::up);
  CHECK(health.last_error.empty());
  CHECK(health.latency_ms == Approx(1.5));
}

TEST_CASE("a single failure among passes does not flip the state", "[platform]") {
  auto health = in_state(BackendState::up, 7);
  auto updates = feed(health, health_spec(2, 3), {pass(), refused(), pass(), refused(), refused(), pass(), pass()});
  for (const auto& update : updates) CHECK_FALSE(update.event);
  CHECK(health.state == BackendState::up);
  CHECK(health.since_ns == 7);
  CHECK(health.passes == 2);
  CHECK(health.failures == 0);

  // And a single pass among failures does not bring a down backend back.
  auto down = in_state(BackendState::down, 9);
  auto more = feed(down, health_spec(2, 3), {refused(), pass(), refused(), pass(), refused()});
  for (const auto& update : more) CHECK_FALSE(update.event);
  CHECK(down.state == BackendState::down);
  CHECK(down.since_ns == 9);
  CHECK(down.last_error == "connection refused");
}

TEST_CASE("a failure without a response records no latency", "[platform]") {
  auto health = in_state(BackendState::up);
  feed(health, health_spec(), {refused()});
  CHECK_FALSE(health.latency_ms);
  CHECK_FALSE(health.last_status);
  feed(health, health_spec(), {http_500()});
  CHECK(health.latency_ms == Approx(2.0));
}

TEST_CASE("a backend never probed is decided by its first probe", "[platform]") {
  SECTION("a pass: up at once") {
    auto health = in_state(BackendState::unknown);
    auto updates = feed(health, health_spec(3, 3), {pass()});
    REQUIRE(updates[0].event);
    CHECK(updates[0].event->from == BackendState::unknown);
    CHECK(updates[0].event->to == BackendState::up);
    CHECK(updates[0].event->reason == "first probe passed");
  }
  SECTION("a failure: down at once") {
    auto health = in_state(BackendState::unknown);
    auto updates = feed(health, health_spec(3, 3), {refused()});
    REQUIRE(updates[0].event);
    CHECK(updates[0].event->to == BackendState::down);
    CHECK(updates[0].event->reason == "first probe failed: connection refused");
    CHECK(health.state == BackendState::down);
  }
}

TEST_CASE("fall 1 and rise 1 act on the first result", "[platform]") {
  auto health = in_state(BackendState::up);
  auto updates = feed(health, health_spec(1, 1), {refused(), pass()});
  REQUIRE(updates[0].event);
  CHECK(updates[0].event->reason == "1 failure: connection refused");
  REQUIRE(updates[1].event);
  CHECK(updates[1].event->reason == "1 pass");
}

TEST_CASE("probes come faster while a backend is changing state", "[platform]") {
  auto spec = health_spec(2, 3, 4000);
  auto health = in_state(BackendState::up);
  CHECK_FALSE(platform::changing_state(health, spec));
  uint64_t middle = uint64_t{1} << 63; // jitter factor 1.0
  CHECK(platform::next_probe_delay_ms(health, spec, middle) == 4000);

  feed(health, spec, {refused()});
  CHECK(platform::changing_state(health, spec));
  CHECK(platform::next_probe_delay_ms(health, spec, middle) == 1000);

  feed(health, spec, {refused(), refused()}); // down now: a steady state again
  CHECK(health.state == BackendState::down);
  CHECK_FALSE(platform::changing_state(health, spec));
  CHECK(platform::next_probe_delay_ms(health, spec, middle) == 4000);

  feed(health, spec, {pass()});
  CHECK(platform::changing_state(health, spec));
  CHECK(platform::next_probe_delay_ms(health, spec, middle) == 1000);

  // A short interval still leaves 100 ms between probes, and never more than the interval.
  CHECK(platform::next_probe_delay_ms(health, health_spec(2, 3, 200), middle) == 100);
  CHECK(platform::next_probe_delay_ms(health, health_spec(2, 3, 100), middle) == 100);
}

TEST_CASE("jitter stays within 10 % and spreads the probes", "[platform]") {
  auto spec = health_spec(2, 3, 1000);
  auto health = in_state(BackendState::up);
  uint64_t key = platform::backend_jitter_key("api/10.0.0.1:8080", 42);
  int64_t low = 1'000'000, high = 0;
  double sum = 0;
  for (uint64_t i = 0; i < 10'000; ++i) {
    int64_t delay = platform::next_probe_delay_ms(health, spec, platform::jitter_value(key, i));
    low = std::min(low, delay);
    high = std::max(high, delay);
    sum += static_cast<double>(delay);
  }
  CHECK(low >= 900);
  CHECK(high <= 1100);
  CHECK(low < 910);  // the whole range is used...
  CHECK(high > 1090);
  CHECK(sum / 10'000 == Approx(1000).epsilon(0.01)); // ...and the interval holds on average

  // Deterministic for a key, different between backends and between processes.
  CHECK(platform::jitter_value(key, 5) == platform::jitter_value(key, 5));
  CHECK(platform::backend_jitter_key("api/10.0.0.2:8080", 42) != key);
  CHECK(platform::backend_jitter_key("api/10.0.0.1:8080", 43) != key);

  // First probes spread over min(interval, 1 s).
  for (uint64_t i = 0; i < 1000; ++i) {
    int64_t first = platform::first_probe_delay_ms(health_spec(2, 3, 5000), platform::jitter_value(key, i));
    CHECK(first >= 0);
    CHECK(first < 1000);
    CHECK(platform::first_probe_delay_ms(health_spec(2, 3, 300), platform::jitter_value(key, i)) < 300);
  }
}

TEST_CASE("the probe schedule yields backends in due order and honours reschedules", "[platform]") {
  platform::ProbeSchedule schedule;
  schedule.set(1, 300);
  schedule.set(2, 100);
  schedule.set(3, 200);
  schedule.set(1, 50); // supersedes 300
  CHECK(schedule.size() == 3);
  CHECK(schedule.next_due() == 50);
  CHECK_FALSE(schedule.pop_due(49));
  CHECK(schedule.pop_due(1000) == 1u);
  schedule.erase(3);
  CHECK(schedule.pop_due(1000) == 2u);
  CHECK_FALSE(schedule.pop_due(1000)); // 1's old entry and 3 are gone
  CHECK_FALSE(schedule.next_due());
  CHECK(schedule.size() == 0);
}
