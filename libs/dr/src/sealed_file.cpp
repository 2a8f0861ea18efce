#include "anemone/dr/sealed_file.hpp"

#include <sodium.h>

#include <nlohmann/json.hpp>

namespace anemone::dr {

using core::Errc;
using core::fail;
using json = nlohmann::json;

namespace {

constexpr size_t k_max_header = 1024;
constexpr uint64_t k_max_opslimit = 10;         // written: 3 (moderate) or 2 (interactive)
constexpr uint64_t k_max_memlimit = 1ull << 30; // written: 64 MiB
constexpr std::string_view k_encryption_context = "anemone config-backup v1 encryption";
constexpr std::string_view k_check_context = "anemone config-backup v1 key check";

struct Header {
  crypto::KdfParams kdf;
  core::Bytes check; // keyed hash under the derived key: tells a wrong passphrase from damage
  uint64_t body_size = 0;
};

core::Result<core::Bytes> unhex(const std::string& text, size_t size, std::string_view what) {
  core::Bytes out(size);
  size_t length = 0;
  if (text.size() != size * 2 ||
      sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &length, nullptr) != 0 || length != size)
    return fail(Errc::corrupt, "damaged: the header's {} is not {} bytes of hex", what, size);
  return out;
}

struct Keys {
  crypto::SecretBytes encryption;
  crypto::Hash check{};
};

core::Result<Keys> derive_keys(const crypto::SecretBytes& passphrase, const crypto::KdfParams& params) {
  auto root = TRY(crypto::derive_key(passphrase, params));
  Keys keys;
  auto encryption = crypto::keyed_hash(root, core::as_bytes(k_encryption_context));
  keys.encryption = crypto::SecretBytes::copy_of(encryption);
  sodium_memzero(encryption.data(), encryption.size());
  keys.check = crypto::keyed_hash(root, core::as_bytes(k_check_context));
  return keys;
}

struct Parsed {
  Header header;
  core::ByteView associated; // magic and header line
  core::ByteView body;
};

core::Result<Parsed> parse(core::ByteView file) {
  auto text = [&](size_t from, size_t length) {
    return std::string_view(reinterpret_cast<const char*>(file.data()) + from, length);
  };
  if (file.size() < k_sealed_magic.size() || text(0, k_sealed_magic.size()) != k_sealed_magic)
    return fail(Errc::corrupt, "not an anemone config backup (its first line is not '{}')",
                k_sealed_magic.substr(0, k_sealed_magic.size() - 1));
  size_t start = k_sealed_magic.size();
  size_t end = start;
  while (end < file.size() && end - start < k_max_header && file[end] != '\n') ++end;
  if (end >= file.size()) return fail(Errc::corrupt, "truncated: the file ends inside its header");
  if (file[end] != '\n') return fail(Errc::corrupt, "damaged: the header line is longer than {} bytes", k_max_header);
  Header header;
  try {
    json object = json::parse(text(start, end - start));
    for (const auto& [key, value] : object.items())
      if (key != "kdf" && key != "opslimit" && key != "memlimit" && key != "salt" && key != "check" && key != "size")
        return fail(Errc::corrupt, "damaged: unknown header field '{}'", key);
    if (object.at("kdf").get<std::string>() != "argon2id")
      return fail(Errc::corrupt, "damaged: unknown key derivation '{}'", object.at("kdf").get<std::string>());
    header.kdf.opslimit = object.at("opslimit").get<uint64_t>();
    header.kdf.memlimit = object.at("memlimit").get<uint64_t>();
    header.kdf.salt = TRY(unhex(object.at("salt").get<std::string>(), crypto_pwhash_SALTBYTES, "salt"));
    header.check = TRY(unhex(object.at("check").get<std::string>(), crypto::k_hash_size, "key check"));
    header.body_size = object.at("size").get<uint64_t>();
  } catch (const json::exception& error) {
    return fail(Errc::corrupt, "damaged: the header is not valid: {}", error.what());
  }
  size_t body_start = end + 1;
  // Compared without adding to the header's number: a huge "size" must not wrap around.
  if (header.body_size < crypto::k_nonce_size + crypto::k_tag_size)
    return fail(Errc::corrupt, "damaged: the header names a body of {} bytes, too small to be sealed", header.body_size);
  uint64_t room = file.size() - body_start; // body and trailer
  if (room < crypto::k_hash_size || room - crypto::k_hash_size < header.body_size)
    return fail(Errc::corrupt, "truncated: {} bytes, the header names a body of {} bytes and a {}-byte checksum",
                file.size(), header.body_size, crypto::k_hash_size);
  if (room - crypto::k_hash_size > header.body_size)
    return fail(Errc::corrupt, "damaged: {} bytes where {} were expected (data appended)", file.size(),
                body_start + header.body_size + crypto::k_hash_size);
  // A peer could ask for a key derivation that never ends: only the costs this suite writes, with room.
  if (header.kdf.opslimit > k_max_opslimit || header.kdf.memlimit > k_max_memlimit)
    return fail(Errc::corrupt, "damaged: the header asks for a key derivation of {} passes over {} bytes, above "
                "the {} passes over {} bytes this build accepts", header.kdf.opslimit, header.kdf.memlimit,
                k_max_opslimit, k_max_memlimit);
  auto sum = crypto::plain_hash(file.subspan(0, file.size() - crypto::k_hash_size));
  if (sodium_memcmp(sum.data(), file.data() + file.size() - crypto::k_hash_size, sum.size()) != 0)
    return fail(Errc::corrupt, "damaged: the checksum does not match (the file was altered or corrupted)");
  return Parsed{std::move(header), file.subspan(0, body_start), file.subspan(body_start, header.body_size)};
}

} // namespace

core::Result<core::Bytes> seal_config_backup(const crypto::SecretBytes& passphrase, core::ByteView plaintext,
                                             crypto::KdfProfile profile) {
  auto params = crypto::new_kdf_params(profile);
  auto keys = TRY(derive_keys(passphrase, params));
  uint64_t body_size = crypto::k_nonce_size + plaintext.size() + crypto::k_tag_size;
  json header = {{"kdf", "argon2id"},      {"opslimit", params.opslimit},     {"memlimit", params.memlimit},
                 {"salt", core::to_hex(params.salt)}, {"check", core::to_hex(keys.check)}, {"size", body_size}};
  std::string lines = std::string(k_sealed_magic) + header.dump() + "\n";
  core::Bytes out(lines.begin(), lines.end());
  size_t body_start = out.size();
  out.resize(body_start + body_size);
  uint8_t* nonce = out.data() + body_start;
  randombytes_buf(nonce, crypto::k_nonce_size);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + crypto::k_nonce_size, &written, plaintext.data(),
                                             plaintext.size(), out.data(), body_start, nullptr, nonce,
                                             keys.encryption.data());
  auto sum = crypto::plain_hash(out);
  out.insert(out.end(), sum.begin(), sum.end());
  return out;
}

core::Result<void> check_config_backup_structure(core::ByteView file) {
  TRY(parse(file));
  return {};
}

core::Result<crypto::SecretBytes> open_config_backup(const crypto::SecretBytes& passphrase, core::ByteView file) {
  auto parsed = TRY(parse(file));
  auto keys = TRY(derive_keys(passphrase, parsed.header.kdf));
  if (sodium_memcmp(keys.check.data(), parsed.header.check.data(), keys.check.size()) != 0)
    return fail(Errc::wrong_passphrase, "wrong passphrase: it does not open this config backup");
  const uint8_t* nonce = parsed.body.data();
  size_t sealed = parsed.body.size() - crypto::k_nonce_size;
  crypto::SecretBytes plaintext(sealed - crypto::k_tag_size);
  unsigned long long length = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plaintext.data(), &length, nullptr, nonce + crypto::k_nonce_size,
                                                 sealed, parsed.associated.data(), parsed.associated.size(), nonce,
                                                 keys.encryption.data()) != 0)
    return fail(Errc::corrupt, "altered: the passphrase is right but the content fails authentication");
  return plaintext;
}

} // namespace anemone::dr
