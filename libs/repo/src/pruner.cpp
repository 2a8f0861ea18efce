#include "anemone/repo/pruner.hpp"

#include <map>
#include <set>

#include "anemone/core/log.hpp"
#include "anemone/repo/walker.hpp"

namespace anemone::repo {

using core::Errc;

core::Result<PruneSummary> prune(Repository& repo, const PruneOptions& options) {
  PruneSummary summary;
  TRY(repo.load_index());
  auto snapshots = TRY(repo.list_snapshots());
  auto used = TRY(used_blobs(repo, snapshots));
  for (const auto& id : used)
    if (!repo.index().has(id))
      return core::fail(Errc::corrupt, "blob {} is referenced but missing from the index; run check — prune refuses "
                        "to continue", id_hex(id));

  auto listed = TRY(repo.backend().list(FileType::pack));
  std::map<std::string, uint64_t> pack_sizes;
  for (const auto& file : listed) {
    pack_sizes[file.name] = file.size;
    summary.bytes_before += file.size;
  }

  // Decide per pack. A blob stored twice (an interrupted run re-uploaded it) is kept once.
  std::set<BlobId> kept_blobs;
  std::vector<IndexedPack> keep;
  std::vector<const IndexedPack*> repack;
  std::set<std::string> obsolete;
  for (const auto& pack : repo.index().packs()) {
    if (!pack_sizes.count(pack.id))
      return core::fail(Errc::corrupt, "pack {} is in the index but missing; run check — prune refuses to continue",
                        pack.id);
    size_t used_here = 0;
    bool all_needed = true;
    for (const auto& blob : pack.blobs) {
      if (used.count(blob.id) && !kept_blobs.count(blob.id)) ++used_here;
      else all_needed = false;
    }
    if (all_needed) {
      keep.push_back(pack);
      for (const auto& blob : pack.blobs) kept_blobs.insert(blob.id);
    } else if (used_here == 0) {
      obsolete.insert(pack.id);
      summary.blobs_removed += pack.blobs.size();
    } else {
      repack.push_back(&pack);
      obsolete.insert(pack.id);
      for (const auto& blob : pack.blobs)
        if (used.count(blob.id) && !kept_blobs.count(blob.id)) kept_blobs.insert(blob.id);
        else ++summary.blobs_removed;
    }
  }
  for (const auto& [name, size] : pack_sizes)
    if (!repo.index().has_pack(name)) obsolete.insert(name); // left by an interrupted run
  summary.packs_kept = keep.size();
  summary.packs_repacked = repack.size();
  summary.packs_deleted = obsolete.size();

  uint64_t written_bytes = 0;
  if (!options.dry_run) {
    // (1) repack: copy the sealed bytes of still-used blobs, after verifying them.
    std::set<BlobId> copied; // blobs already in a kept or new pack
    for (const auto& pack : keep)
      for (const auto& blob : pack.blobs) copied.insert(blob.id);
    PackBuilder builder;
    auto upload = [&]() -> core::Result<void> {
      if (builder.empty()) return {};
      auto pack = builder.finish(repo.key().encryption);
      TRY(repo.backend().save(FileType::pack, pack.id, pack.data));
      written_bytes += pack.data.size();
      ++summary.packs_written;
      keep.push_back({pack.id, std::move(pack.blobs)});
      return {};
    };
    for (const auto* pack : repack) {
      auto data = TRY_CTX(repo.backend().load(FileType::pack, pack->id), fmt::format("repack {}", pack->id));
      for (const auto& blob : pack->blobs) {
        if (!used.count(blob.id) || copied.count(blob.id)) continue;
        core::ByteView sealed = core::ByteView(data).subspan(blob.offset, blob.length);
        TRY_CTX(repo.decode_verified(blob, sealed), fmt::format("repack {}", pack->id));
        builder.add(blob.type, blob.id, sealed, blob.plain_length);
        copied.insert(blob.id);
        if (builder.size() >= k_target_pack_size) TRY(upload());
      }
    }
    TRY(upload());
    // (2) one index for everything that stays
    auto old_indexes = TRY(repo.backend().list(FileType::index));
    auto new_index = TRY(repo.save_file(FileType::index, Index::serialize(keep)));
    // (3) old index files
    for (const auto& file : old_indexes)
      if (file.name != new_index) TRY(repo.backend().remove(FileType::index, file.name));
    // (4) packs nothing names any more, and temporary leftovers
    for (const auto& name : obsolete) TRY(repo.backend().remove(FileType::pack, name));
    TRY(repo.backend().remove_leftovers(Backend::Leftovers::all));
    TRY(repo.load_index());
  }
  uint64_t removed_bytes = 0;
  for (const auto& name : obsolete) removed_bytes += pack_sizes[name];
  summary.bytes_after = summary.bytes_before - removed_bytes + written_bytes;
  summary.bytes_freed = removed_bytes > written_bytes ? removed_bytes - written_bytes : 0;
  return summary;
}

} // namespace anemone::repo
