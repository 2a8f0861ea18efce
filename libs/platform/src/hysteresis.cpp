#include "anemone/platform/hysteresis.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace anemone::platform {

using state::BackendState;

namespace {

// Streak counters stop here: they only need to be compared with rise and fall (at most a few
// dozen), and an int that counts one probe a second for decades must not overflow.
constexpr int k_max_streak = 1'000'000;
constexpr int64_t k_min_fast_delay_ms = 100;
constexpr int64_t k_first_probe_spread_ms = 1000;
constexpr double k_jitter_fraction = 0.10;

int bumped(int count) { return std::min(count + 1, k_max_streak); }

std::string in_a_row(int count, std::string_view one, std::string_view many) {
  if (count == 1) return fmt::format("1 {}", one);
  return fmt::format("{} {} in a row", count, many);
}

// A uniform double in [0, 1) from the top 53 bits.
double unit_interval(uint64_t value) { return static_cast<double>(value >> 11) * 0x1.0p-53; }

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

} // namespace

HealthUpdate apply_probe(const config::BackendSpec& backend, const state::BackendHealth& previous,
                         const ProbeResult& result, const config::HealthSpec& spec, int64_t now_ns) {
  HealthUpdate update{previous, std::nullopt};
  auto& health = update.health;
  health.backend = backend.name;
  health.checked_ns = now_ns;
  health.last_status = result.status;
  // A latency without a response (refused, timed out) would only measure the failure.
  health.latency_ms = result.status ? std::optional<double>(result.latency_ms) : std::nullopt;
  if (result.passed) {
    health.passes = bumped(health.passes);
    health.failures = 0;
    health.last_error.clear();
  } else {
    health.failures = bumped(health.failures);
    health.passes = 0;
    health.last_error = result.error.empty() ? "failed" : result.error;
  }

  BackendState to = health.state;
  std::string reason;
  switch (health.state) {
  case BackendState::unknown:
    to = result.passed ? BackendState::up : BackendState::down;
    reason = result.passed ? "first probe passed" : fmt::format("first probe failed: {}", health.last_error);
    break;
  case BackendState::up:
    if (!result.passed && health.failures >= spec.fall) {
      to = BackendState::down;
      reason = fmt::format("{}: {}", in_a_row(health.failures, "failure", "failures"), health.last_error);
    }
    break;
  case BackendState::down:
    if (result.passed && health.passes >= spec.rise) {
      to = BackendState::up;
      reason = in_a_row(health.passes, "pass", "passes");
    }
    break;
  }
  if (to == health.state) return update;

  state::HealthEvent event;
  event.time_ns = now_ns;
  event.backend = backend.name;
  event.service = backend.service;
  event.site = backend.site;
  event.from = health.state;
  event.to = to;
  event.reason = std::move(reason);
  health.state = to;
  health.since_ns = now_ns;
  update.event = std::move(event);
  return update;
}

bool changing_state(const state::BackendHealth& health, const config::HealthSpec& spec) {
  switch (health.state) {
  case BackendState::up: return health.failures > 0 && health.failures < spec.fall;
  case BackendState::down: return health.passes > 0 && health.passes < spec.rise;
  case BackendState::unknown: return false;
  }
  return false;
}

int64_t next_probe_delay_ms(const state::BackendHealth& health, const config::HealthSpec& spec, uint64_t jitter) {
  int64_t interval = std::max<int64_t>(spec.interval_ms, 1);
  int64_t base = interval;
  if (changing_state(health, spec))
    base = std::clamp<int64_t>(interval / 4, std::min(k_min_fast_delay_ms, interval), interval);
  double factor = 1.0 + k_jitter_fraction * (2.0 * unit_interval(jitter) - 1.0);
  return std::max<int64_t>(static_cast<int64_t>(static_cast<double>(base) * factor), 1);
}

int64_t first_probe_delay_ms(const config::HealthSpec& spec, uint64_t jitter) {
  int64_t spread = std::clamp<int64_t>(spec.interval_ms, 1, k_first_probe_spread_ms);
  return static_cast<int64_t>(unit_interval(jitter) * static_cast<double>(spread));
}

uint64_t backend_jitter_key(std::string_view backend_name, uint64_t process_seed) {
  uint64_t hash = 0xcbf29ce484222325ULL; // FNV-1a
  for (unsigned char c : backend_name) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return splitmix64(hash ^ splitmix64(process_seed));
}

uint64_t jitter_value(uint64_t backend_key, uint64_t sequence) {
  return splitmix64(backend_key ^ splitmix64(sequence + 0x632be59bd9b4e019ULL));
}

} // namespace anemone::platform
