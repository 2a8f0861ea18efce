#pragma once
// What the watcher publishes in the state file for `watcher status` (and the tests) to read.
#include <cstdint>
#include <optional>
#include <string>

#include "anemone/state/db.hpp"

namespace anemone::runtime {

struct WatcherStatus {
  int pid = 0;
  std::string mode;
  int64_t started_ns = 0;
  uint64_t watched_dirs = 0;
  uint64_t pending_changes = 0;
  std::optional<int64_t> first_change_ns;
  std::optional<int64_t> next_run_ns;
  std::optional<int> run_pid;
  std::optional<int64_t> run_started_ns;
  uint64_t runs_started = 0;
  std::optional<int64_t> last_started_ns;
  std::optional<int64_t> last_finished_ns;
  std::optional<std::string> last_outcome; // ok | failed | interrupted
  std::optional<int> last_exit_code;
  int consecutive_failures = 0;
  uint64_t overflows = 0;
  int64_t updated_ns = 0;

  bool operator==(const WatcherStatus&) const = default;
};

core::Result<void> publish_status(state::Db& db, const WatcherStatus& status);
core::Result<std::optional<WatcherStatus>> read_status(state::Db& db);

// The start of the newest `backup-sender run` on this site, whoever started it.
core::Result<std::optional<int64_t>> last_backup_start_ns(state::Db& db);

} // namespace anemone::runtime
