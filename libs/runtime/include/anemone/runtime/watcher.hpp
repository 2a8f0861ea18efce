#pragma once
// The watcher: starts `backup-sender run --wait` after a quiet period (live), on an interval
// (periodic) or on a schedule (scheduled), one run at a time, and publishes its state for
// `watcher status`. Runs in the foreground until SIGTERM/SIGINT, which it passes on to a running
// backup and waits for.
#include <filesystem>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"

namespace anemone::runtime {

struct WatcherOptions {
  std::filesystem::path backup_sender; // the backup-sender binary; default: beside this one
};

core::Result<void> run_watcher(const config::Config& config, const WatcherOptions& options);

// Directories a live watcher never watches even inside a source: a backup writes into them.
std::vector<std::filesystem::path> written_by_the_core(const config::Config& config);

} // namespace anemone::runtime
