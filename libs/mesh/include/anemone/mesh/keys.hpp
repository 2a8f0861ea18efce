#pragma once
// Key material of the mesh: WireGuard's X25519 keys (standard base64, as `wg` prints them) and the
// Ed25519 key that signs invitations. Private halves live only in SecretBytes and 0600 files.
#include <string>

#include "anemone/core/error.hpp"
#include "anemone/crypto/secret.hpp"

namespace anemone::mesh {

inline constexpr size_t k_key_bytes = 32;

// Standard base64 with padding (44 characters for 32 bytes), as WireGuard writes keys.
std::string base64_encode(core::ByteView data);
// Strict: only canonical standard base64; Errc::usage otherwise.
core::Result<core::Bytes> base64_decode(std::string_view text);
// URL-safe base64 without padding, for codes that are pasted around.
std::string base64url_encode(core::ByteView data);
core::Result<core::Bytes> base64url_decode(std::string_view text);

// A fresh X25519 private key, clamped the way `wg genkey` stores it.
crypto::SecretBytes generate_wireguard_private();
std::string wireguard_public(const crypto::SecretBytes& private_key); // base64
// A public key as text: 44 characters of base64 decoding to 32 bytes.
core::Result<std::string> validate_wireguard_key(std::string_view text);

struct SigningKey {
  crypto::SecretBytes seed; // 32 bytes; the key pair derives from it
  std::string public_b64;   // 32 bytes
};
SigningKey generate_signing_key();
core::Result<SigningKey> signing_key_from_seed(crypto::SecretBytes seed);
core::Bytes sign(const SigningKey& key, core::ByteView message); // 64 bytes
bool verify_signature(std::string_view public_b64, core::ByteView message, core::ByteView signature);
core::Result<std::string> validate_signing_key(std::string_view text);

} // namespace anemone::mesh
