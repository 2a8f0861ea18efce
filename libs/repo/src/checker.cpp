#include "anemone/repo/checker.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <unordered_map>

#include "anemone/core/log.hpp"
#include "anemone/repo/walker.hpp"

namespace anemone::repo {

using core::Errc;

namespace {

struct Checker {
  Repository& repo;
  const CheckOptions& options;
  CheckReport report;
  std::unordered_map<BlobId, std::string, BlobIdHash> damaged_blobs; // id -> pack

  void error(std::string message) {
    core::log_error("{}", message);
    report.errors.push_back(std::move(message));
  }

  core::Result<void> run() {
    auto listed = TRY(repo.backend().list(FileType::pack));
    std::map<std::string, uint64_t> pack_sizes;
    for (const auto& file : listed) pack_sizes[file.name] = file.size;

    // The index: every index file must load; a damaged one is an error, not a reason to stop.
    auto index_files = TRY(repo.backend().list(FileType::index));
    for (const auto& file : index_files) {
      auto body = repo.load_file(FileType::index, file.name);
      if (!body) error(fmt::format("index {}: {}", file.name, body.error().message()));
      else if (auto parsed = Index::parse(*body); !parsed) error(fmt::format("index {}: {}", file.name, parsed.error().message()));
    }
    TRY(repo.load_index());
    const Index& index = repo.index();
    report.packs = index.packs().size();
    report.blobs = index.blob_count();
    for (const auto& pack : index.packs()) {
      auto it = pack_sizes.find(pack.id);
      if (it == pack_sizes.end()) {
        error(fmt::format("pack {}: missing (the index names it)", pack.id));
        for (const auto& blob : pack.blobs) damaged_blobs.emplace(blob.id, pack.id);
        continue;
      }
      uint64_t end = 0;
      for (const auto& blob : pack.blobs) end = std::max<uint64_t>(end, uint64_t{blob.offset} + blob.length);
      if (it->second < end + 4) {
        error(fmt::format("pack {}: {} bytes, shorter than its index entries need", pack.id, it->second));
        for (const auto& blob : pack.blobs) damaged_blobs.emplace(blob.id, pack.id);
      }
    }
    for (const auto& [name, size] : pack_sizes)
      if (!index.has_pack(name))
        report.warnings.push_back(fmt::format("pack {}: in no index (left by an interrupted run; prune removes it)", name));

    if (options.read_data != CheckOptions::ReadData::none) TRY(read_packs(pack_sizes));
    return check_snapshots();
  }

  core::Result<void> read_packs(const std::map<std::string, uint64_t>& pack_sizes) {
    std::vector<const IndexedPack*> selected;
    for (const auto& pack : repo.index().packs())
      if (pack_sizes.count(pack.id)) selected.push_back(&pack);
    if (options.read_data == CheckOptions::ReadData::subset) {
      std::mt19937_64 random(std::random_device{}());
      std::shuffle(selected.begin(), selected.end(), random);
      double share = std::clamp(options.subset_percent, 0.0, 100.0) / 100.0;
      auto count = static_cast<size_t>(std::ceil(share * static_cast<double>(selected.size())));
      selected.resize(std::min(selected.size(), std::max<size_t>(count, selected.empty() ? 0 : 1)));
    }
    if (options.progress) {
      uint64_t total = 0;
      for (const auto* pack : selected) total += pack_sizes.at(pack->id);
      options.progress->bytes_total = total;
      options.progress->files_total = selected.size();
      options.progress->totals_known = true;
    }
    for (const auto* pack : selected) {
      TRY(read_pack(*pack));
      if (options.progress) {
        options.progress->files_done += 1;
        options.progress->bytes_done += pack_sizes.at(pack->id);
      }
    }
    return {};
  }

  core::Result<void> read_pack(const IndexedPack& pack) {
    ++report.packs_read;
    auto data = repo.backend().load(FileType::pack, pack.id);
    if (!data) {
      error(fmt::format("pack {}: cannot be read: {}", pack.id, data.error().message()));
      mark_pack(pack);
      return {};
    }
    bool damaged = false;
    if (core::to_hex(crypto::plain_hash(*data)) != pack.id) {
      error(fmt::format("pack {}: content does not match its name (damaged)", pack.id));
      damaged = true;
    }
    auto header = parse_pack_header(repo.key().encryption, *data, data->size());
    if (!header) {
      error(fmt::format("pack {}: {}", pack.id, header.error().message()));
      damaged = true;
    } else if (header->size() != pack.blobs.size()) {
      error(fmt::format("pack {}: header lists {} blobs, the index {}", pack.id, header->size(), pack.blobs.size()));
      damaged = true;
    }
    for (const auto& blob : pack.blobs) {
      ++report.blobs_read;
      if (uint64_t{blob.offset} + blob.length > data->size()) {
        error(fmt::format("pack {}: blob {} lies past the end", pack.id, id_hex(blob.id)));
        damaged_blobs.emplace(blob.id, pack.id);
        continue;
      }
      auto plain = repo.decode_verified(blob, core::ByteView(*data).subspan(blob.offset, blob.length));
      if (!plain) {
        error(fmt::format("pack {}: {}", pack.id, plain.error().message()));
        damaged_blobs.emplace(blob.id, pack.id);
        damaged = true;
      }
    }
    if (damaged) report.damaged_packs.push_back(pack.id);
    return {};
  }

  void mark_pack(const IndexedPack& pack) {
    report.damaged_packs.push_back(pack.id);
    for (const auto& blob : pack.blobs) damaged_blobs.emplace(blob.id, pack.id);
  }

  core::Result<void> check_snapshots() {
    auto files = TRY(repo.backend().list(FileType::snapshot));
    const Index& index = repo.index();
    for (const auto& file : files) {
      auto body = repo.load_file(FileType::snapshot, file.name);
      if (!body) {
        error(fmt::format("snapshot {}: {}", file.name, body.error().message()));
        continue;
      }
      auto snapshot = parse_snapshot(*body, file.name);
      if (!snapshot) {
        error(snapshot.error().message());
        continue;
      }
      ++report.snapshots;
      std::string short_id = file.name.substr(0, 8);
      auto walked = walk_tree(repo, snapshot->tree, "", [&](const std::string& path, const Node& node) -> core::Result<void> {
        for (const auto& id : node.content) {
          auto damaged = damaged_blobs.find(id);
          if (damaged != damaged_blobs.end()) {
            report.damaged_files.push_back(fmt::format("snapshot {}: {}", short_id, path));
            error(fmt::format("snapshot {}: {}: data damaged (pack {})", short_id, path, damaged->second));
            break;
          }
          if (!index.has(id)) {
            report.damaged_files.push_back(fmt::format("snapshot {}: {}", short_id, path));
            error(fmt::format("snapshot {}: {}: blob {} missing from the index", short_id, path, id_hex(id)));
            break;
          }
        }
        return {};
      });
      if (!walked) error(fmt::format("snapshot {}: {}", short_id, walked.error().message()));
    }
    return {};
  }
};

} // namespace

core::Result<CheckReport> check(Repository& repo, const CheckOptions& options) {
  Checker checker{repo, options, {}, {}};
  TRY(checker.run());
  return std::move(checker.report);
}

} // namespace anemone::repo
