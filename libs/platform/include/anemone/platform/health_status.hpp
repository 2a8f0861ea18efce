#pragma once
// `health-checker status [--json] [--events N]`: every service and its backends with site, state,
// since when, latency, last error and whether drained, then the last N transitions. Read-only: a
// state file that does not exist yet is reported, not created.
#include <filesystem>

#include "anemone/core/error.hpp"
#include "anemone/state/db.hpp"

namespace anemone::platform {

struct HealthStatusOptions {
  bool json = false;
  int events = 10; // the newest transitions listed; 0: none
};

core::Result<void> cmd_health_status(const std::filesystem::path& state_path, const HealthStatusOptions& options);
// The same, from an open state file (tests).
core::Result<void> print_health_status(state::Db& db, const HealthStatusOptions& options);

} // namespace anemone::platform
