#pragma once
// The archiver walks the sources, skips files the files cache knows unchanged, chunks the rest on
// this thread while worker threads hash, compress, seal and pack the chunks, writes one tree per
// directory, then the snapshot, last.
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"
#include "anemone/core/progress.hpp"
#include "anemone/repo/repository.hpp"
#include "anemone/state/files_cache.hpp"

namespace anemone::repo {

struct ArchiveSummary {
  std::string snapshot_id;
  uint64_t files_new = 0;
  uint64_t files_changed = 0;
  uint64_t files_unchanged = 0;
  uint64_t dirs = 0;
  uint64_t bytes_read = 0;  // file content actually read
  uint64_t bytes_total = 0; // size of every file in the snapshot
  uint64_t bytes_added = 0; // bytes written to the repository
  uint64_t blobs_added = 0;
  std::vector<std::string> warnings;
  double duration_s = 0;
};

struct ArchiveOptions {
  std::vector<config::Source> sources;
  std::string host;
  core::ProgressCounters* progress = nullptr;
  // Test hook: called with a file's path just before it is opened for reading.
  std::function<void(const std::string&)> before_read_file;
};

// Glob excludes: a pattern with '/' matches the path relative to the source, one without matches
// the base name; a trailing '/' limits it to directories.
bool is_excluded(const std::vector<std::string>& patterns, const std::string& relative_path, bool is_dir);

// Counts the files and bytes the sources hold (excludes honoured) into progress totals, so a terminal
// shows an ETA. Runs beside the archiver; returns early when `stop` becomes true.
void scan_totals(const std::vector<config::Source>& sources, core::ProgressCounters& progress,
                 const std::atomic<bool>& stop);

core::Result<ArchiveSummary> archive(Repository& repo, state::FilesCache& cache, const ArchiveOptions& options);

} // namespace anemone::repo
