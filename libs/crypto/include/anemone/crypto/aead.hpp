#pragma once
// Authenticated encryption and hashing, all libsodium:
// - seal/open: XChaCha20-Poly1305 (IETF) under a random 24-byte nonce: nonce || ciphertext || tag.
// - keyed_hash: BLAKE2b-256 keyed, for blob ids that reveal nothing without the key.
// - plain_hash: BLAKE2b-256 unkeyed, for names of files that hold only ciphertext (packs).
// - Argon2id key derivation from a passphrase.
#include <array>
#include <cstdint>

#include "anemone/core/bytes.hpp"
#include "anemone/core/error.hpp"
#include "anemone/crypto/secret.hpp"

namespace anemone::crypto {

inline constexpr size_t k_key_size = 32;
inline constexpr size_t k_nonce_size = 24;
inline constexpr size_t k_tag_size = 16;
inline constexpr size_t k_seal_overhead = k_nonce_size + k_tag_size;
inline constexpr size_t k_hash_size = 32;

using Hash = std::array<uint8_t, k_hash_size>;

core::Bytes seal(const SecretBytes& key, core::ByteView plaintext);
// Appends nonce || ciphertext || tag to `out` (avoids a copy when building packs).
void seal_append(const SecretBytes& key, core::ByteView plaintext, core::Bytes& out);
// Errc::corrupt when the data was altered or the key is wrong.
core::Result<core::Bytes> open(const SecretBytes& key, core::ByteView sealed);

Hash keyed_hash(const SecretBytes& key, core::ByteView data);
Hash plain_hash(core::ByteView data);

// Streaming unkeyed BLAKE2b-256, for pack files written piecewise.
class Hasher {
public:
  Hasher();
  void update(core::ByteView data);
  Hash finish();

private:
  alignas(64) unsigned char m_state[384];
};

struct KdfParams {
  uint64_t opslimit = 0;
  uint64_t memlimit = 0;
  core::Bytes salt; // 16 bytes
};

enum class KdfProfile { interactive, moderate };
KdfParams new_kdf_params(KdfProfile profile);
core::Result<SecretBytes> derive_key(const SecretBytes& passphrase, const KdfParams& params);

} // namespace anemone::crypto
