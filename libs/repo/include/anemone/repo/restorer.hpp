#pragma once
// Restores a snapshot into a directory: source S goes to DIR/S/. Every blob is authenticated and
// re-hashed before it is written; a file with a damaged blob is reported and not written. Blobs are
// read pack by pack (restore_plan.hpp), in parallel, each needed range of a pack once. The walk
// uses directory descriptors and never follows a symlink, so nothing is written outside DIR.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "anemone/core/error.hpp"
#include "anemone/core/progress.hpp"
#include "anemone/repo/repository.hpp"

namespace anemone::repo {

struct RestoreOptions {
  std::filesystem::path target_dir;
  // Paths inside the snapshot ("data/docs/a.txt" or "/data/docs"); empty means everything.
  std::vector<std::string> includes;
  core::ProgressCounters* progress = nullptr;
  // Pack ranges read and decoded at once; 0: max(4, cores). A network backend limits the reads in
  // flight to its connections, and the other readers decode meanwhile.
  size_t readers = 0;
  // Sources written at these paths (source name → absolute path) instead of target_dir/<name>:
  // `restore --to /` puts each source back where it was backed up from.
  std::map<std::string, std::filesystem::path> source_paths{};
};

struct RestoreSummary {
  uint64_t files = 0;
  uint64_t dirs = 0;
  uint64_t links = 0; // symlinks, hard links and special files
  uint64_t bytes = 0;
  std::vector<std::string> damaged; // snapshot paths not restored because their data is damaged
  std::vector<std::string> warnings;
  std::vector<std::string> unmatched_includes; // --include paths the snapshot does not have
  double duration_s = 0;
};

// Whether a node at `path` (no leading '/') is selected by `includes`: inside an include, or an
// ancestor directory of one.
bool restore_selects(const std::vector<std::string>& includes, const std::string& path, bool& fully_inside);

core::Result<RestoreSummary> restore(Repository& repo, const Snapshot& snapshot, const RestoreOptions& options);

} // namespace anemone::repo
