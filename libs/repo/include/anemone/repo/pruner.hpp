#pragma once
// prune: under an exclusive lock, removes data no snapshot references. Order keeps every moment
// safe to be killed: (1) repack still-used blobs of partly used packs into new packs, (2) write one
// index naming every pack kept or written, (3) delete the old index files, (4) delete packs no index
// names any more and temporary leftovers.
#include <cstdint>

#include "anemone/core/error.hpp"
#include "anemone/repo/repository.hpp"

namespace anemone::repo {

struct PruneOptions {
  bool dry_run = false;
};

struct PruneSummary {
  uint64_t packs_deleted = 0;
  uint64_t packs_repacked = 0;
  uint64_t packs_written = 0;
  uint64_t packs_kept = 0;
  uint64_t blobs_removed = 0;
  uint64_t bytes_freed = 0; // backend bytes removed minus written
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
};

// The caller holds an exclusive lock.
core::Result<PruneSummary> prune(Repository& repo, const PruneOptions& options);

} // namespace anemone::repo
