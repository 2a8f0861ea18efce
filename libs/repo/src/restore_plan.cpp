#include "anemone/repo/restore_plan.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "anemone/repo/blob.hpp"

namespace anemone::repo {

RestorePlan plan_restore(const Index& index, const std::vector<const std::vector<BlobId>*>& files, uint64_t max_gap) {
  RestorePlan plan;
  plan.writes_per_file.assign(files.size(), 0);
  plan.planned_size.assign(files.size(), 0);
  plan.problem.assign(files.size(), {});

  // pack id → (blob offset in the pack → planned blob); packs numbered in first-use order.
  std::unordered_map<std::string, size_t> pack_numbers;
  std::vector<std::string> pack_order;
  std::vector<std::map<uint32_t, PlannedBlob>> blobs_by_pack;

  for (size_t file = 0; file < files.size(); ++file) {
    std::vector<std::pair<BlobLocation, uint64_t>> placed;
    uint64_t offset = 0;
    for (const auto& id : *files[file]) {
      auto location = index.find(id);
      if (!location) {
        plan.problem[file] = "blob " + id_hex(id) + " is not in the index";
        break;
      }
      placed.emplace_back(*location, offset);
      offset += location->blob.plain_length;
    }
    if (!plan.problem[file].empty()) continue; // nothing of a file that cannot be whole
    plan.planned_size[file] = offset;
    plan.writes_per_file[file] = placed.size();
    for (auto& [location, file_offset] : placed) {
      auto [it, added] = pack_numbers.emplace(location.pack, pack_order.size());
      if (added) {
        pack_order.push_back(location.pack);
        blobs_by_pack.emplace_back();
      }
      auto& planned = blobs_by_pack[it->second][location.blob.offset];
      planned.blob = location.blob;
      planned.targets.push_back({file, file_offset});
    }
  }

  for (size_t number = 0; number < pack_order.size(); ++number) {
    PackPlan pack{pack_order[number], {}};
    for (auto& [offset, planned] : blobs_by_pack[number]) {
      uint64_t end = uint64_t{planned.blob.offset} + planned.blob.length;
      if (!pack.reads.empty() && offset <= pack.reads.back().offset + pack.reads.back().length + max_gap) {
        auto& read = pack.reads.back();
        read.length = std::max(read.length, end - read.offset);
        read.blobs.push_back(std::move(planned));
      } else {
        pack.reads.push_back({offset, planned.blob.length, {}});
        pack.reads.back().blobs.push_back(std::move(planned));
      }
    }
    plan.packs.push_back(std::move(pack));
  }
  return plan;
}

} // namespace anemone::repo
