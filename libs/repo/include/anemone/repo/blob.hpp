#pragma once
// Blobs and their encoding. A blob's plaintext is a chunk of file content (data) or a serialized
// directory (tree). Stored form: seal(codec byte || payload), codec 0 = raw, 1 = zstd. Compression
// is skipped where it does not save at least 1/32 of the size.
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include "anemone/core/bytes.hpp"
#include "anemone/core/error.hpp"
#include "anemone/crypto/aead.hpp"

namespace anemone::repo {

enum class BlobType : uint8_t { data = 0, tree = 1 };
std::string_view blob_type_name(BlobType type);

using BlobId = crypto::Hash;

struct BlobIdHash {
  size_t operator()(const BlobId& id) const {
    size_t value;
    std::memcpy(&value, id.data(), sizeof value);
    return value;
  }
};

std::string id_hex(const BlobId& id);
// Errc::corrupt when `hex` is not 64 hex digits: ids are parsed from repository data (trees,
// snapshots, index files), where a bad one means damage.
core::Result<BlobId> parse_id(std::string_view hex);

enum class Codec : uint8_t { raw = 0, zstd = 1 };

// compress (when it helps) then seal. Thread-safe (a compression context per thread).
core::Bytes encode_blob(const crypto::SecretBytes& key, core::ByteView plaintext);
// open then decompress. Errc::corrupt when authentication or decompression fails.
core::Result<core::Bytes> decode_blob(const crypto::SecretBytes& key, core::ByteView sealed);

} // namespace anemone::repo
