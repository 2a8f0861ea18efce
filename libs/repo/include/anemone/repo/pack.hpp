#pragma once
// Pack files group many sealed blobs so a peer holds few files:
//   blob_0 || blob_1 || … || seal(header) || u32le(length of sealed header)
// header = u8 version (1), then per blob: u8 type, 32-byte id, u32le sealed length, u32le plain length.
// A pack's name is the unkeyed BLAKE2b-256 of its whole content, so anyone can check its integrity
// and only the key holder can read it.
#include <string>
#include <vector>

#include "anemone/core/bytes.hpp"
#include "anemone/core/error.hpp"
#include "anemone/crypto/secret.hpp"
#include "anemone/repo/blob.hpp"

namespace anemone::repo {

inline constexpr uint8_t k_pack_header_version = 1;
inline constexpr size_t k_pack_header_entry_size = 1 + 32 + 4 + 4;

struct PackedBlob {
  BlobType type = BlobType::data;
  BlobId id{};
  uint32_t offset = 0;
  uint32_t length = 0;       // sealed length in the pack
  uint32_t plain_length = 0; // length after decoding
};

class PackBuilder {
public:
  // `sealed` is encode_blob()'s output.
  void add(BlobType type, const BlobId& id, core::ByteView sealed, uint32_t plain_length);
  // Reserving the whole pack up front keeps a filling pack from doubling its buffer.
  void reserve(size_t bytes) { m_data.reserve(bytes); }
  size_t size() const { return m_data.size(); }
  size_t count() const { return m_blobs.size(); }
  bool empty() const { return m_blobs.empty(); }
  // Appends the sealed header; returns the pack's bytes and its blobs, leaving the builder empty.
  struct Finished {
    std::string id;
    core::Bytes data;
    std::vector<PackedBlob> blobs;
  };
  Finished finish(const crypto::SecretBytes& key);

private:
  core::Bytes m_data;
  std::vector<PackedBlob> m_blobs;
};

// Reads the blob list from a whole pack's bytes (or from its tail, given the full size).
core::Result<std::vector<PackedBlob>> parse_pack_header(const crypto::SecretBytes& key, core::ByteView tail,
                                                        uint64_t pack_size);

} // namespace anemone::repo
