#include "anemone/repo/keys.hpp"

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "anemone/core/time.hpp"

namespace anemone::repo {

using nlohmann::json;

MasterKey MasterKey::generate() {
  return MasterKey{crypto::SecretBytes::random(32), crypto::SecretBytes::random(32), crypto::SecretBytes::random(32)};
}

std::array<uint64_t, 256> gear_table(const crypto::SecretBytes& seed) {
  std::array<uint64_t, 256> table{};
  for (uint32_t block = 0; block < 32; ++block) {
    uint8_t input[8] = {'g', 'e', 'a', 'r', static_cast<uint8_t>(block), 0, 0, 0};
    uint8_t out[64];
    crypto_generichash(out, sizeof out, input, sizeof input, seed.data(), seed.size());
    for (int i = 0; i < 8; ++i) table[block * 8 + static_cast<uint32_t>(i)] = core::get_u64le(out + 8 * i);
  }
  return table;
}

core::Result<core::Bytes> make_key_file(const MasterKey& key, const crypto::SecretBytes& passphrase, crypto::KdfProfile profile,
                          const std::string& host) {
  auto params = crypto::new_kdf_params(profile);
  auto wrapping = TRY(crypto::derive_key(passphrase, params));
  crypto::SecretBytes material(96);
  std::copy(key.encryption.data(), key.encryption.data() + 32, material.data());
  std::copy(key.id_key.data(), key.id_key.data() + 32, material.data() + 32);
  std::copy(key.chunker_seed.data(), key.chunker_seed.data() + 32, material.data() + 64);
  core::Bytes sealed = crypto::seal(wrapping, material.view());
  json doc = {{"version", 1},
              {"created", core::format_utc(core::now_ns())},
              {"host", host},
              {"kdf", "argon2id"},
              {"opslimit", params.opslimit},
              {"memlimit", params.memlimit},
              {"salt", core::to_hex(params.salt)},
              {"data", core::to_hex(sealed)}};
  std::string text = doc.dump(2) + "\n";
  return core::Bytes(text.begin(), text.end());
}

namespace {
core::Result<json> parse_key_json(core::ByteView content) {
  json doc = json::parse(content.begin(), content.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return core::fail(core::Errc::corrupt, "key file is not JSON");
  for (auto field : {"version", "kdf", "opslimit", "memlimit", "salt", "data"})
    if (!doc.contains(field)) return core::fail(core::Errc::corrupt, "key file lacks '{}'", field);
  if (doc["version"] != 1) return core::fail(core::Errc::corrupt, "key file version {} unknown", doc["version"].dump());
  if (doc["kdf"] != "argon2id") return core::fail(core::Errc::corrupt, "key file kdf {} unknown", doc["kdf"].dump());
  if (!doc["opslimit"].is_number_unsigned() || !doc["memlimit"].is_number_unsigned() || !doc["salt"].is_string() ||
      !doc["data"].is_string())
    return core::fail(core::Errc::corrupt, "key file fields have wrong types");
  return doc;
}
} // namespace

core::Result<MasterKey> open_key_file(core::ByteView content, const crypto::SecretBytes& passphrase) {
  json doc = TRY(parse_key_json(content));
  crypto::KdfParams params;
  params.opslimit = doc["opslimit"].get<uint64_t>();
  params.memlimit = doc["memlimit"].get<uint64_t>();
  auto salt = core::from_hex(doc["salt"].get<std::string>());
  auto sealed = core::from_hex(doc["data"].get<std::string>());
  if (!salt || !sealed) return core::fail(core::Errc::corrupt, "key file has bad hex");
  params.salt = *salt;
  auto wrapping = TRY(crypto::derive_key(passphrase, params));
  auto material = crypto::open(wrapping, *sealed);
  if (!material) return core::fail(core::Errc::wrong_passphrase, "wrong passphrase");
  if (material->size() != 96) {
    sodium_memzero(material->data(), material->size());
    return core::fail(core::Errc::corrupt, "key file holds {} bytes of key material, expected 96", material->size());
  }
  core::ByteView view(*material);
  MasterKey key{crypto::SecretBytes::copy_of(view.subspan(0, 32)), crypto::SecretBytes::copy_of(view.subspan(32, 32)),
                crypto::SecretBytes::copy_of(view.subspan(64, 32))};
  sodium_memzero(material->data(), material->size());
  return key;
}

core::Result<KeyFileInfo> describe_key_file(core::ByteView content) {
  json doc = TRY(parse_key_json(content));
  KeyFileInfo info;
  info.created = doc.value("created", "");
  info.host = doc.value("host", "");
  info.opslimit = doc["opslimit"].get<uint64_t>();
  info.memlimit = doc["memlimit"].get<uint64_t>();
  return info;
}

} // namespace anemone::repo
