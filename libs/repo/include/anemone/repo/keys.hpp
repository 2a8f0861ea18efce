#pragma once
// The repository key and the key files that wrap it. The master key is random; each key file holds
// it sealed under a key derived by Argon2id from one passphrase, so several passphrases can open one
// repository and changing one never re-encrypts data.
#include <array>
#include <string>

#include "anemone/core/bytes.hpp"
#include "anemone/core/error.hpp"
#include "anemone/crypto/aead.hpp"

namespace anemone::repo {

struct MasterKey {
  crypto::SecretBytes encryption;   // XChaCha20-Poly1305 key for every blob and file
  crypto::SecretBytes id_key;       // BLAKE2b key for blob ids
  crypto::SecretBytes chunker_seed; // derives the chunker's gear table

  static MasterKey generate();
};

std::array<uint64_t, 256> gear_table(const crypto::SecretBytes& seed);

struct KeyFileInfo {
  std::string created;
  std::string host;
  uint64_t opslimit = 0;
  uint64_t memlimit = 0;
};

core::Result<core::Bytes> make_key_file(const MasterKey& key, const crypto::SecretBytes& passphrase, crypto::KdfProfile profile,
                          const std::string& host);
// Errc::wrong_passphrase when the passphrase does not open this key file, Errc::corrupt when it
// does not parse.
core::Result<MasterKey> open_key_file(core::ByteView content, const crypto::SecretBytes& passphrase);
core::Result<KeyFileInfo> describe_key_file(core::ByteView content);

} // namespace anemone::repo
