#pragma once
// `health-checker run`: probes every backend of the registry, applies rise/fall (hysteresis.hpp),
// and records each backend's health and every transition in the state file, in the foreground until
// SIGTERM/SIGINT (then it returns success: supervisord stopping it is not a failure).
//
// - The registry is re-read when platform_generation changes (checked every second) and every ten
//   seconds regardless, so backends added, removed or changed while it runs are picked up; an empty
//   registry is not an error, the checker waits for backends.
// - Health rows are written in batches (one transaction at most every second); a transition is
//   written at once, with its event, and logged as one line:
//   "backend api/10.0.0.1:8080 (site dijon) up -> down: 3 failures in a row: connection refused".
// - One thread: probes run concurrently over one libcurl multi handle, at most max_in_flight at a
//   time. A write to the state file that waits for a lock (busy timeout) delays probing meanwhile.
// - A restart keeps every backend's state (up stays up until `fall` failures); streak counters
//   older than three intervals (at least 10 s) start again, so "3 failures in a row" never spans a
//   stop of the checker.
// - Drained backends are probed like the others, so an operator sees their health before putting
//   them back in rotation.
#include <cstddef>
#include <cstdint>

#include "anemone/core/error.hpp"
#include "anemone/state/db.hpp"

namespace anemone::platform {

struct HealthCheckerOptions {
  size_t max_in_flight = 256;
  int64_t flush_every_ms = 1000;      // health rows, at most this often
  int64_t generation_check_ms = 1000; // platform_generation, this often
  int64_t reload_every_ms = 10'000;   // the whole registry, this often in any case
};

core::Result<void> run_health_checker(state::Db& db, const HealthCheckerOptions& options);

} // namespace anemone::platform
