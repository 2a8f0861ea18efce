#pragma once
// health-checker's rules, pure: a backend's health and one probe's result in, the new health out.
// Times are passed in, so the rules are unit-tested without a clock or a network.
//
// Rise/fall: an up backend goes down after `fall` failed probes in a row, a down one comes up after
// `rise` passes in a row; a result against the streak only resets the counters. A backend never
// probed (state unknown: just registered, or no health row yet) is decided by its first probe,
// either way: unknown is not a state a proxy can route on, caddy-sync needs an answer within one
// probe, and there is no earlier verdict for hysteresis to protect (Envoy treats a new host the
// same way). A restart of health-checker keeps every state (they live in the state file), so only a
// new backend is ever unknown.
//
// Timing: the next probe is due `interval` after the start of the last one, and four times sooner
// (at least 100 ms) while the backend is changing state — a streak against its state has begun but
// not reached rise/fall — so a failing backend leaves rotation in about fall × interval/4 after its
// first failure rather than fall × interval, and a flapping one is watched closely. Every delay gets
// ±10 % jitter so that probes registered together drift apart instead of firing in bursts.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "anemone/config/platform.hpp"
#include "anemone/state/platform.hpp"

namespace anemone::platform {

// One probe's outcome, as the prober reports it.
struct ProbeResult {
  bool passed = false;
  double latency_ms = 0;     // from the start of the probe to its end (or failure)
  std::optional<int> status; // the HTTP status, if a response arrived
  std::string error;         // why it failed: "HTTP 500 (expected 200)", "connection refused"
};

struct HealthUpdate {
  state::BackendHealth health;
  std::optional<state::HealthEvent> event; // set when the state changed
};

// Applies one result. The event, if any, has its id unset (the state file assigns it) and a reason
// such as "3 failures in a row: HTTP 500 (expected 200)" or "2 passes in a row".
HealthUpdate apply_probe(const config::BackendSpec& backend, const state::BackendHealth& previous,
                         const ProbeResult& result, const config::HealthSpec& spec, int64_t now_ns);

// True while a streak against the backend's state has begun but not yet reached rise/fall.
bool changing_state(const state::BackendHealth& health, const config::HealthSpec& spec);

// Milliseconds from the start of the last probe to the next one (see the top of this file).
// `jitter` is a uniformly distributed value (jitter_value()); the result stays within ±10 % of the
// base delay and is at least 1.
int64_t next_probe_delay_ms(const state::BackendHealth& health, const config::HealthSpec& spec, uint64_t jitter);

// The first probe after health-checker starts or the backend is registered (or its probe changes):
// spread over min(interval, 1 s), so that a start does not fire every probe at once and yet every
// backend is probed within a second.
int64_t first_probe_delay_ms(const config::HealthSpec& spec, uint64_t jitter);

// A per-backend key: the name's hash mixed with a per-process seed, so that two processes (or two
// restarts) do not jitter in step.
uint64_t backend_jitter_key(std::string_view backend_name, uint64_t process_seed);
// The jitter for the backend's `sequence`-th probe (splitmix64 of the two).
uint64_t jitter_value(uint64_t backend_key, uint64_t sequence);

} // namespace anemone::platform
