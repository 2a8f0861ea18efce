#pragma once
// check: the structure (every indexed pack present, every snapshot's trees readable, every blob a
// snapshot names indexed) and, with read_data, every selected pack read whole, its name re-hashed,
// its header compared with the index and each blob authenticated and re-hashed. Damage is named by
// pack, snapshot and file path.
#include <string>
#include <vector>

#include "anemone/core/error.hpp"
#include "anemone/core/progress.hpp"
#include "anemone/repo/repository.hpp"

namespace anemone::repo {

struct CheckOptions {
  enum class ReadData { none, all, subset };
  ReadData read_data = ReadData::none;
  double subset_percent = 100;
  core::ProgressCounters* progress = nullptr;
};

struct CheckReport {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  std::vector<std::string> damaged_packs;
  std::vector<std::string> damaged_files; // "snapshot 1a2b3c4d: data/docs/a.txt"
  uint64_t snapshots = 0;
  uint64_t packs = 0;
  uint64_t packs_read = 0;
  uint64_t blobs = 0;
  uint64_t blobs_read = 0;
  bool ok() const { return errors.empty(); }
};

core::Result<CheckReport> check(Repository& repo, const CheckOptions& options);

} // namespace anemone::repo
