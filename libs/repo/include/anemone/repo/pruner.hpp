#pragma once
// prune: under an exclusive lock, removes data no snapshot references. Order keeps every moment
// safe to be killed: (1) repack still-used blobs of partly used packs into new packs, (2) write one
// index naming every pack kept or written, (3) delete the old index files, (4) delete packs no index
// names any more and temporary leftovers.
//
// With delete_only (a peer over its quota refuses every write, deletes stay allowed) nothing is
// written: packs no index names, and index files whose packs are all unused together with those
// packs, are deleted; what is left waits for a full prune once writes are allowed again.
#include <cstdint>

#include "anemone/core/error.hpp"
#include "anemone/repo/repository.hpp"

namespace anemone::repo {

struct PruneOptions {
  bool dry_run = false;
  bool delete_only = false;
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
  uint64_t packs_waiting = 0; // delete_only: packs with unused data that need a full prune
};

// The caller holds an exclusive lock (with delete_only, where no lock file can be written: the site lock).
core::Result<PruneSummary> prune(Repository& repo, const PruneOptions& options);

} // namespace anemone::repo
