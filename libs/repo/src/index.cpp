#include "anemone/repo/index.hpp"

#include <nlohmann/json.hpp>

#include "json_fields.hpp"

namespace anemone::repo {

using nlohmann::json;

void Index::add_pack(const IndexedPack& pack) {
  if (m_pack_numbers.count(pack.id)) return; // the same pack named by two index files
  auto number = static_cast<uint32_t>(m_packs.size());
  m_packs.push_back(pack);
  m_pack_numbers.emplace(pack.id, number);
  for (const auto& blob : pack.blobs) m_blobs.emplace(blob.id, Entry{number, blob});
}

bool Index::has(const BlobId& id) const { return m_blobs.count(id) != 0; }

std::optional<BlobLocation> Index::find(const BlobId& id) const {
  auto it = m_blobs.find(id);
  if (it == m_blobs.end()) return std::nullopt;
  return BlobLocation{m_packs[it->second.pack_number].id, it->second.blob};
}

core::Bytes Index::serialize(const std::vector<IndexedPack>& packs) {
  json doc = {{"version", 1}, {"packs", json::array()}};
  for (const auto& pack : packs) {
    json blobs = json::array();
    for (const auto& blob : pack.blobs)
      blobs.push_back({{"id", id_hex(blob.id)},
                       {"type", blob_type_name(blob.type)},
                       {"offset", blob.offset},
                       {"length", blob.length},
                       {"plain_length", blob.plain_length}});
    doc["packs"].push_back({{"id", pack.id}, {"blobs", std::move(blobs)}});
  }
  std::string text = doc.dump();
  return core::Bytes(text.begin(), text.end());
}

core::Result<std::vector<IndexedPack>> Index::parse(core::ByteView body) {
  json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("version") || doc["version"] != 1 ||
      !doc.contains("packs") || !doc["packs"].is_array())
    return core::fail(core::Errc::corrupt, "index is not a version 1 index");
  std::vector<IndexedPack> packs;
  try {
    for (const auto& pack_json : doc["packs"]) {
      IndexedPack pack;
      pack.id = pack_json.at("id").get<std::string>();
      TRY(parse_id(pack.id));
      for (const auto& blob_json : pack_json.at("blobs")) {
        PackedBlob blob;
        blob.id = TRY(parse_id(blob_json.at("id").get<std::string>()));
        blob.type = blob_json.at("type").get<std::string>() == "tree" ? BlobType::tree : BlobType::data;
        blob.offset = TRY(number_field<uint32_t>(blob_json, "offset"));
        blob.length = TRY(number_field<uint32_t>(blob_json, "length"));
        blob.plain_length = TRY(number_field<uint32_t>(blob_json, "plain_length"));
        pack.blobs.push_back(blob);
      }
      packs.push_back(std::move(pack));
    }
  } catch (const json::exception& error) {
    return core::fail(core::Errc::corrupt, "index: {}", error.what());
  }
  return packs;
}

} // namespace anemone::repo
