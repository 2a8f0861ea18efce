#pragma once
// Metadata files (config, index, snapshots, locks) are stored as blobs are: compressed when it
// helps, then sealed with the repository's encryption key.
#include "anemone/repo/blob.hpp"

namespace anemone::repo {
inline core::Bytes seal_file(const crypto::SecretBytes& key, core::ByteView plaintext) {
  return encode_blob(key, plaintext);
}
inline core::Result<core::Bytes> open_file(const crypto::SecretBytes& key, core::ByteView sealed) {
  return decode_blob(key, sealed);
}
} // namespace anemone::repo
