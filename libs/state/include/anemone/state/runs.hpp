#pragma once
// The history of runs (backup, prune, check, …) and the summaries of the snapshots they made.
#include <cstdint>
#include <string>
#include <vector>

#include "anemone/state/db.hpp"

namespace anemone::state {

struct RunRecord {
  int64_t id = 0;
  std::string tool;
  std::string command;
  std::string target;
  int64_t started_ns = 0;
  int64_t finished_ns = 0;
  std::string outcome; // running | ok | failed | interrupted
  std::string snapshot_id;
  std::string summary_json;
  std::string error;
};

core::Result<int64_t> begin_run(Db& db, std::string_view tool, std::string_view command, std::string_view target);
core::Result<void> finish_run(Db& db, int64_t run_id, std::string_view outcome, std::string_view snapshot_id,
                              std::string_view summary_json, std::string_view error);
core::Result<std::vector<RunRecord>> recent_runs(Db& db, std::string_view target, int limit);

struct SnapshotSummary {
  std::string target;
  std::string snapshot_id;
  int64_t time_ns = 0;
  std::string host;
  std::string sources;
  int64_t files = 0;
  int64_t bytes = 0;
};
core::Result<void> record_snapshot(Db& db, const SnapshotSummary& summary);
core::Result<void> forget_snapshot(Db& db, std::string_view target, std::string_view snapshot_id);

} // namespace anemone::state
