#include "anemone/repo/pack.hpp"

#include "anemone/crypto/aead.hpp"

namespace anemone::repo {

void PackBuilder::add(BlobType type, const BlobId& id, core::ByteView sealed, uint32_t plain_length) {
  m_blobs.push_back(PackedBlob{type, id, static_cast<uint32_t>(m_data.size()), static_cast<uint32_t>(sealed.size()),
                               plain_length});
  m_data.insert(m_data.end(), sealed.begin(), sealed.end());
}

PackBuilder::Finished PackBuilder::finish(const crypto::SecretBytes& key) {
  core::Bytes header;
  header.reserve(1 + m_blobs.size() * k_pack_header_entry_size);
  header.push_back(k_pack_header_version);
  for (const auto& blob : m_blobs) {
    header.push_back(static_cast<uint8_t>(blob.type));
    header.insert(header.end(), blob.id.begin(), blob.id.end());
    core::put_u32le(header, blob.length);
    core::put_u32le(header, blob.plain_length);
  }
  size_t before = m_data.size();
  crypto::seal_append(key, header, m_data);
  core::put_u32le(m_data, static_cast<uint32_t>(m_data.size() - before));
  Finished finished;
  finished.id = core::to_hex(crypto::plain_hash(m_data));
  finished.data = std::move(m_data);
  finished.blobs = std::move(m_blobs);
  m_data = {};
  m_blobs = {};
  return finished;
}

core::Result<std::vector<PackedBlob>> parse_pack_header(const crypto::SecretBytes& key, core::ByteView tail,
                                                        uint64_t pack_size) {
  if (tail.size() < 4 || pack_size < tail.size()) return core::fail(core::Errc::corrupt, "pack too short");
  uint32_t header_length = core::get_u32le(tail.data() + tail.size() - 4);
  if (header_length + 4ull > tail.size())
    return core::fail(core::Errc::corrupt, "pack header length {} exceeds the data read", header_length);
  auto header = crypto::open(key, tail.subspan(tail.size() - 4 - header_length, header_length));
  if (!header) return core::fail(core::Errc::corrupt, "pack header: {}", header.error().message());
  if (header->empty() || (*header)[0] != k_pack_header_version)
    return core::fail(core::Errc::corrupt, "pack header version unknown");
  if ((header->size() - 1) % k_pack_header_entry_size != 0)
    return core::fail(core::Errc::corrupt, "pack header has a partial entry");
  std::vector<PackedBlob> blobs;
  uint64_t offset = 0;
  uint64_t data_end = pack_size - 4 - header_length;
  for (size_t pos = 1; pos < header->size(); pos += k_pack_header_entry_size) {
    const uint8_t* entry = header->data() + pos;
    PackedBlob blob;
    if (entry[0] > 1) return core::fail(core::Errc::corrupt, "pack header: unknown blob type {}", entry[0]);
    blob.type = static_cast<BlobType>(entry[0]);
    std::copy(entry + 1, entry + 33, blob.id.begin());
    blob.length = core::get_u32le(entry + 33);
    blob.plain_length = core::get_u32le(entry + 37);
    blob.offset = static_cast<uint32_t>(offset);
    offset += blob.length;
    if (offset > data_end) return core::fail(core::Errc::corrupt, "pack header: blobs exceed the pack");
    blobs.push_back(blob);
  }
  return blobs;
}

} // namespace anemone::repo
