#include "anemone/mesh/keys.hpp"

#include <sodium.h>

namespace anemone::mesh {

using core::Errc;

namespace {

std::string encode(core::ByteView data, int variant) {
  if (data.empty()) return {};
  std::string out(sodium_base64_encoded_len(data.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), variant);
  out.resize(out.size() - 1); // the terminating NUL
  return out;
}

core::Result<core::Bytes> decode(std::string_view text, int variant) {
  if (text.empty()) return core::fail(Errc::usage, "empty where base64 was expected"); // (and libsodium wants a buffer)
  core::Bytes out(text.size());
  size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &length, &end, variant) != 0 ||
      end != text.data() + text.size())
    return core::fail(Errc::usage, "not valid base64");
  out.resize(length);
  // Canonical only: re-encoding must give the same text (no stray bits in the last character).
  if (encode(out, variant) != text) return core::fail(Errc::usage, "not canonical base64");
  return out;
}

} // namespace

std::string base64_encode(core::ByteView data) { return encode(data, sodium_base64_VARIANT_ORIGINAL); }
core::Result<core::Bytes> base64_decode(std::string_view text) { return decode(text, sodium_base64_VARIANT_ORIGINAL); }
std::string base64url_encode(core::ByteView data) { return encode(data, sodium_base64_VARIANT_URLSAFE_NO_PADDING); }
core::Result<core::Bytes> base64url_decode(std::string_view text) {
  return decode(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

crypto::SecretBytes generate_wireguard_private() {
  auto key = crypto::SecretBytes::random(k_key_bytes);
  key.data()[0] &= 248;
  key.data()[31] = static_cast<uint8_t>((key.data()[31] & 127) | 64);
  return key;
}

std::string wireguard_public(const crypto::SecretBytes& private_key) {
  uint8_t public_key[crypto_scalarmult_curve25519_BYTES];
  crypto_scalarmult_curve25519_base(public_key, private_key.data());
  return base64_encode(core::ByteView(public_key, sizeof public_key));
}

core::Result<std::string> validate_wireguard_key(std::string_view text) {
  auto bytes = base64_decode(text);
  if (!bytes || bytes->size() != k_key_bytes)
    return core::fail(Errc::usage, "'{}' is not a WireGuard public key (44 characters of base64)", text.substr(0, 60));
  return std::string(text);
}

SigningKey generate_signing_key() {
  return *signing_key_from_seed(crypto::SecretBytes::random(crypto_sign_SEEDBYTES));
}

core::Result<SigningKey> signing_key_from_seed(crypto::SecretBytes seed) {
  if (seed.size() != crypto_sign_SEEDBYTES) return core::fail(Errc::corrupt, "a signing key seed has 32 bytes");
  uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
  crypto::SecretBytes secret(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(public_key, secret.data(), seed.data());
  return SigningKey{std::move(seed), base64_encode(core::ByteView(public_key, sizeof public_key))};
}

core::Bytes sign(const SigningKey& key, core::ByteView message) {
  uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
  crypto::SecretBytes secret(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(public_key, secret.data(), key.seed.data());
  core::Bytes signature(crypto_sign_BYTES);
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), secret.data());
  return signature;
}

bool verify_signature(std::string_view public_b64, core::ByteView message, core::ByteView signature) {
  auto key = base64_decode(public_b64);
  if (!key || key->size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), key->data()) == 0;
}

core::Result<std::string> validate_signing_key(std::string_view text) {
  auto bytes = base64_decode(text);
  if (!bytes || bytes->size() != crypto_sign_PUBLICKEYBYTES)
    return core::fail(Errc::usage, "'{}' is not an Ed25519 signing key (44 characters of base64)", text.substr(0, 60));
  return std::string(text);
}

} // namespace anemone::mesh
