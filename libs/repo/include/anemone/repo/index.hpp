#pragma once
// In-memory map from blob id to where the blob sits (pack, offset, length). Built from every index
// file in the repository; a run adds one index file naming the packs it wrote.
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "anemone/core/bytes.hpp"
#include "anemone/core/error.hpp"
#include "anemone/repo/pack.hpp"

namespace anemone::repo {

struct BlobLocation {
  std::string pack; // pack id (hex)
  PackedBlob blob;
};

struct IndexedPack {
  std::string id;
  std::vector<PackedBlob> blobs;
};

class Index {
public:
  void add_pack(const IndexedPack& pack);
  bool has(const BlobId& id) const;
  std::optional<BlobLocation> find(const BlobId& id) const;
  size_t blob_count() const { return m_blobs.size(); }
  // Packs named by any index file, with their blobs.
  const std::vector<IndexedPack>& packs() const { return m_packs; }
  bool has_pack(const std::string& id) const { return m_pack_numbers.count(id) != 0; }

  // Index file body (JSON): {"version":1,"packs":[{"id":…,"blobs":[{"id","type","offset","length","plain_length"}]}]}
  static core::Bytes serialize(const std::vector<IndexedPack>& packs);
  static core::Result<std::vector<IndexedPack>> parse(core::ByteView body);

private:
  struct Entry {
    uint32_t pack_number;
    PackedBlob blob;
  };
  std::vector<IndexedPack> m_packs;
  std::unordered_map<std::string, uint32_t> m_pack_numbers;
  std::unordered_map<BlobId, Entry, BlobIdHash> m_blobs;
};

} // namespace anemone::repo
