#pragma once
// Groups the blobs a set of files needs by pack, so a restore reads each pack (or the needed ranges
// of it) once instead of once per blob: over SFTP every read costs round trips. A blob that several
// files (or one file, several times) contain is read and decoded once and written to every place.
#include <cstdint>
#include <string>
#include <vector>

#include "anemone/repo/index.hpp"

namespace anemone::repo {

struct BlobTarget {
  size_t file = 0;     // index into the files given to plan_restore
  uint64_t offset = 0; // byte offset in that file
};

struct PlannedBlob {
  PackedBlob blob;
  std::vector<BlobTarget> targets;
};

// One read of a pack: [offset, offset + length), holding `blobs` (sorted by offset).
struct PackRead {
  uint64_t offset = 0;
  uint64_t length = 0;
  std::vector<PlannedBlob> blobs;
};

struct PackPlan {
  std::string pack;
  std::vector<PackRead> reads;
};

struct RestorePlan {
  // In the order the files first need them, which is about the order the backup wrote them.
  std::vector<PackPlan> packs;
  // Per file: how many blob writes it waits for, its size by the index, and why it cannot be
  // restored (empty when it can).
  std::vector<size_t> writes_per_file;
  std::vector<uint64_t> planned_size;
  std::vector<std::string> problem;
};

// Neighbouring blobs of a pack are read together when at most `max_gap` unneeded bytes lie between
// them: one round trip is worth more than a few hundred KiB on any link.
inline constexpr uint64_t k_default_read_gap = 256 * 1024;

RestorePlan plan_restore(const Index& index, const std::vector<const std::vector<BlobId>*>& files,
                         uint64_t max_gap = k_default_read_gap);

} // namespace anemone::repo
