#include "anemone/crypto/aead.hpp"

#include <sodium.h>

namespace anemone::crypto {

static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == k_nonce_size);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == k_tag_size);
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == k_key_size);

void seal_append(const SecretBytes& key, core::ByteView plaintext, core::Bytes& out) {
  size_t start = out.size();
  out.resize(start + k_seal_overhead + plaintext.size());
  uint8_t* nonce = out.data() + start;
  randombytes_buf(nonce, k_nonce_size);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + k_nonce_size, &written, plaintext.data(), plaintext.size(),
                                             nullptr, 0, nullptr, nonce, key.data());
}

core::Bytes seal(const SecretBytes& key, core::ByteView plaintext) {
  core::Bytes out;
  out.reserve(plaintext.size() + k_seal_overhead);
  seal_append(key, plaintext, out);
  return out;
}

core::Result<core::Bytes> open(const SecretBytes& key, core::ByteView sealed) {
  if (sealed.size() < k_seal_overhead)
    return core::fail(core::Errc::corrupt, "ciphertext too short ({} bytes)", sealed.size());
  core::Bytes plain(sealed.size() - k_seal_overhead);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &written, nullptr, sealed.data() + k_nonce_size,
                                                 sealed.size() - k_nonce_size, nullptr, 0, sealed.data(),
                                                 key.data()) != 0)
    return core::fail(core::Errc::corrupt, "authentication failed (data altered or wrong key)");
  return plain;
}

Hash keyed_hash(const SecretBytes& key, core::ByteView data) {
  Hash out;
  crypto_generichash(out.data(), out.size(), data.data(), data.size(), key.data(), key.size());
  return out;
}

Hash plain_hash(core::ByteView data) {
  Hash out;
  crypto_generichash(out.data(), out.size(), data.data(), data.size(), nullptr, 0);
  return out;
}

static_assert(sizeof(crypto_generichash_state) <= 384);

Hasher::Hasher() {
  crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(m_state), nullptr, 0, k_hash_size);
}
void Hasher::update(core::ByteView data) {
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(m_state), data.data(), data.size());
}
Hash Hasher::finish() {
  Hash out;
  crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(m_state), out.data(), out.size());
  return out;
}

KdfParams new_kdf_params(KdfProfile profile) {
  KdfParams params;
  // moderate: RFC 9106's recommendation where memory is constrained (t=3, m=64 MiB), which a
  // Raspberry Pi affords beside a running backup; interactive: libsodium's (t=2, m=64 MiB).
  params.memlimit = 64ull << 20;
  params.opslimit = profile == KdfProfile::interactive ? crypto_pwhash_OPSLIMIT_INTERACTIVE : 3;
  params.salt.resize(crypto_pwhash_SALTBYTES);
  randombytes_buf(params.salt.data(), params.salt.size());
  return params;
}

core::Result<SecretBytes> derive_key(const SecretBytes& passphrase, const KdfParams& params) {
  if (params.salt.size() != crypto_pwhash_SALTBYTES)
    return core::fail(core::Errc::corrupt, "key derivation salt has {} bytes, expected {}", params.salt.size(),
                      crypto_pwhash_SALTBYTES);
  if (params.opslimit < crypto_pwhash_OPSLIMIT_MIN || params.opslimit > crypto_pwhash_OPSLIMIT_MAX ||
      params.memlimit < crypto_pwhash_MEMLIMIT_MIN || params.memlimit > (4ull << 30))
    return core::fail(core::Errc::corrupt, "key derivation parameters out of range (ops {}, memory {})",
                      params.opslimit, params.memlimit);
  SecretBytes key(k_key_size);
  if (crypto_pwhash(key.data(), key.size(), reinterpret_cast<const char*>(passphrase.data()), passphrase.size(),
                    params.salt.data(), params.opslimit, static_cast<size_t>(params.memlimit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0)
    return core::fail(core::Errc::failed, "key derivation ran out of memory ({} bytes needed)", params.memlimit);
  return key;
}

} // namespace anemone::crypto
