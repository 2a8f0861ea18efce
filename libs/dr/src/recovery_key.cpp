#include "anemone/dr/recovery_key.hpp"

#include <cstring>

#include <sodium.h>

#include "anemone/crypto/aead.hpp"
#include "anemone/ssh/sftp_session.hpp"

namespace anemone::dr {

namespace {

constexpr std::string_view k_salt_context = "anemone recovery key v1\n";

// SSH wire encoding into locked memory: uint32 length ‖ bytes.
class Writer {
public:
  explicit Writer(size_t capacity) : m_buffer(capacity) {}
  void u32(uint32_t value) {
    uint8_t bytes[4] = {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
                        static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
    raw({bytes, 4});
  }
  void string(core::ByteView bytes) {
    u32(static_cast<uint32_t>(bytes.size()));
    raw(bytes);
  }
  void string(std::string_view text) { string(core::as_bytes(text)); }
  void raw(core::ByteView bytes) {
    if (m_used + bytes.size() > m_buffer.size()) throw std::length_error("ssh key buffer too small");
    if (!bytes.empty()) std::memcpy(m_buffer.data() + m_used, bytes.data(), bytes.size());
    m_used += bytes.size();
  }
  core::ByteView view() const { return m_buffer.view().subspan(0, m_used); }
  size_t size() const { return m_used; }

private:
  crypto::SecretBytes m_buffer;
  size_t m_used = 0;
};

std::string base64(core::ByteView bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

core::Bytes public_blob(const uint8_t* public_key) {
  Writer writer(64);
  writer.string(std::string_view("ssh-ed25519"));
  writer.string(core::ByteView(public_key, crypto_sign_PUBLICKEYBYTES));
  return core::Bytes(writer.view().begin(), writer.view().end());
}

} // namespace

crypto::SecretBytes openssh_private_key(const crypto::SecretBytes& seed, std::string_view comment) {
  uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
  crypto::SecretBytes secret_key(crypto_sign_SECRETKEYBYTES); // seed ‖ public key
  crypto_sign_seed_keypair(public_key, secret_key.data(), seed.data());
  core::Bytes blob = public_blob(public_key);

  Writer body(4096);
  body.raw(core::as_bytes(std::string_view("openssh-key-v1\0", 15)));
  body.string(std::string_view("none")); // cipher
  body.string(std::string_view("none")); // kdf
  body.string(std::string_view(""));     // kdf options
  body.u32(1);
  body.string(blob);
  Writer section(1024);
  uint32_t check = randombytes_random();
  section.u32(check);
  section.u32(check);
  section.string(std::string_view("ssh-ed25519"));
  section.string(core::ByteView(public_key, sizeof public_key));
  section.string(secret_key.view());
  section.string(comment);
  for (uint8_t pad = 1; section.size() % 8 != 0; ++pad) section.raw({&pad, 1});
  body.string(section.view());

  // Base64 in 70-character lines, as ssh-keygen writes it; built in locked memory.
  size_t encoded_size = sodium_base64_ENCODED_LEN(body.size(), sodium_base64_VARIANT_ORIGINAL);
  crypto::SecretBytes encoded(encoded_size);
  sodium_bin2base64(reinterpret_cast<char*>(encoded.data()), encoded.size(), body.view().data(), body.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  size_t encoded_length = encoded_size - 1;
  constexpr std::string_view begin = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  constexpr std::string_view end = "-----END OPENSSH PRIVATE KEY-----\n";
  Writer text(begin.size() + encoded_length + encoded_length / 70 + 2 + end.size());
  text.raw(core::as_bytes(begin));
  for (size_t at = 0; at < encoded_length; at += 70) {
    text.raw(encoded.view().subspan(at, std::min<size_t>(70, encoded_length - at)));
    text.raw(core::as_bytes("\n"));
  }
  text.raw(core::as_bytes(end));
  // NUL-terminated: libssh2 1.10 runs strlen over key text it was given with a length, and locked
  // memory ends at a guard page.
  uint8_t nul = 0;
  crypto::SecretBytes out(text.size() + 1);
  std::memcpy(out.data(), text.view().data(), text.size());
  std::memcpy(out.data() + text.size(), &nul, 1);
  return out;
}

core::Result<RecoveryKey> derive_recovery_key(const crypto::SecretBytes& passphrase, std::string_view site,
                                              const std::string& peer_host_key) {
  // The salt binds the site's name and the peer's host key: the rebuilt site knows both before it
  // logs in, and no table computed in advance (for a common name, say) serves another site or peer.
  auto host_blob = TRY_CTX(ssh::public_key_blob(peer_host_key), "the peer's host key");
  std::string salt_input = std::string(k_salt_context) + std::string(site) + "\n";
  salt_input.append(reinterpret_cast<const char*>(host_blob.data()), host_blob.size());
  auto salt_hash = crypto::plain_hash(core::as_bytes(salt_input));
  crypto::KdfParams params;
  params.opslimit = 3;
  params.memlimit = 64ull << 20;
  params.salt.assign(salt_hash.begin(), salt_hash.begin() + crypto_pwhash_SALTBYTES);
  auto seed = TRY(crypto::derive_key(passphrase, params));

  RecoveryKey key;
  uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
  crypto::SecretBytes secret_key(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(public_key, secret_key.data(), seed.data());
  key.public_line = "ssh-ed25519 " + base64(public_blob(public_key)) + " " + std::string(k_recovery_key_comment);
  key.private_text = openssh_private_key(seed, k_recovery_key_comment);
  return key;
}

core::Result<crypto::SecretBytes> derive_digest_key(const crypto::SecretBytes& passphrase, core::ByteView salt) {
  crypto::KdfParams params;
  params.opslimit = 3;
  params.memlimit = 64ull << 20;
  params.salt.assign(salt.begin(), salt.end());
  return crypto::derive_key(passphrase, params);
}

} // namespace anemone::dr
