#include "anemone/repo/pruner.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "anemone/core/log.hpp"
#include "anemone/repo/walker.hpp"

namespace anemone::repo {

using core::Errc;

namespace {

using BlobSet = std::unordered_set<BlobId, BlobIdHash>;

// The delete-only prune (see pruner.hpp). Order: index files first, then the packs they named, so
// no index ever names a missing pack.
core::Result<PruneSummary> prune_by_deletion(Repository& repo, const BlobSet& used,
                                             const std::map<std::string, uint64_t>& pack_sizes, bool dry_run,
                                             PruneSummary summary) {
  std::set<std::string> unused_packs;
  std::map<std::string, size_t> blobs_in_pack;
  for (const auto& pack : repo.index().packs()) {
    blobs_in_pack[pack.id] = pack.blobs.size();
    if (std::none_of(pack.blobs.begin(), pack.blobs.end(), [&](const PackedBlob& b) { return used.count(b.id) != 0; }))
      unused_packs.insert(pack.id);
  }
  std::vector<std::string> doomed_indexes;
  std::set<std::string> still_named;
  for (const auto& file : TRY(repo.backend().list(FileType::index))) {
    auto body = TRY_CTX(repo.load_file(FileType::index, file.name), fmt::format("index {}", file.name));
    auto packs = TRY_CTX(Index::parse(body), fmt::format("index {}", file.name));
    if (std::all_of(packs.begin(), packs.end(), [&](const IndexedPack& p) { return unused_packs.count(p.id) != 0; }))
      doomed_indexes.push_back(file.name);
    else
      for (const auto& pack : packs) still_named.insert(pack.id);
  }
  std::set<std::string> doomed_packs;
  for (const auto& [name, size] : pack_sizes)
    if (!repo.index().has_pack(name) || (unused_packs.count(name) && !still_named.count(name))) doomed_packs.insert(name);
  uint64_t removed_bytes = 0;
  for (const auto& name : doomed_packs) {
    removed_bytes += pack_sizes.at(name);
    if (auto it = blobs_in_pack.find(name); it != blobs_in_pack.end()) summary.blobs_removed += it->second;
  }
  for (const auto& pack : repo.index().packs()) {
    if (doomed_packs.count(pack.id)) continue;
    ++summary.packs_kept;
    if (std::any_of(pack.blobs.begin(), pack.blobs.end(), [&](const PackedBlob& b) { return !used.count(b.id); }))
      ++summary.packs_waiting;
  }
  summary.packs_deleted = doomed_packs.size();
  if (!dry_run) {
    for (const auto& name : doomed_indexes) TRY(repo.backend().remove(FileType::index, name));
    for (const auto& name : doomed_packs) TRY(repo.backend().remove(FileType::pack, name));
    TRY(repo.backend().remove_leftovers(Backend::Leftovers::all));
    TRY(repo.load_index());
  }
  summary.bytes_after = summary.bytes_before - removed_bytes;
  summary.bytes_freed = removed_bytes;
  return summary;
}

} // namespace

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
  for (const auto& pack : repo.index().packs())
    if (!pack_sizes.count(pack.id))
      return core::fail(Errc::corrupt, "pack {} is in the index but missing; run check — prune refuses to continue",
                        pack.id);
  if (options.delete_only) return prune_by_deletion(repo, used, pack_sizes, options.dry_run, summary);

  // Decide per pack. A blob stored twice (an interrupted run re-uploaded it) is kept once.
  std::set<BlobId> kept_blobs;
  std::vector<IndexedPack> keep;
  std::vector<const IndexedPack*> repack;
  std::set<std::string> obsolete;
  for (const auto& pack : repo.index().packs()) {
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
