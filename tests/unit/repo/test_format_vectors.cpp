// Checks the test vectors published in docs/format-vectors.json (and quoted in docs/FORMAT.md), so the
// documented format and the code cannot drift apart. `unit_tests "[.generate-vectors]"` prints a fresh
// set (new random nonces and salt) when the format version changes.
#include <fstream>
#include <iostream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include "anemone/core/bytes.hpp"
#include "anemone/repo/blob.hpp"
#include "anemone/repo/chunker.hpp"
#include "anemone/repo/keys.hpp"
#include "anemone/repo/pack.hpp"

using namespace anemone;
using nlohmann::json;

namespace {

const char* k_vector_passphrase = "anemone test vector";

core::Bytes hex(const json& value) {
  auto bytes = core::from_hex(value.get<std::string>());
  REQUIRE(bytes);
  return *bytes;
}

crypto::SecretBytes secret(const json& value) { return crypto::SecretBytes::copy_of(hex(value)); }

// Deterministic chunker input: BLAKE2b-512 of "anemone-chunker-vector" || u32le(i), for i = 0, 1, …
core::Bytes chunker_input(size_t size) {
  core::Bytes out;
  for (uint32_t i = 0; out.size() < size; ++i) {
    core::Bytes seed(core::as_bytes("anemone-chunker-vector").begin(), core::as_bytes("anemone-chunker-vector").end());
    core::put_u32le(seed, i);
    uint8_t block[64];
    crypto_generichash(block, sizeof block, seed.data(), seed.size(), nullptr, 0);
    out.insert(out.end(), block, block + 64);
  }
  out.resize(size);
  return out;
}

std::vector<size_t> chunk_lengths(const repo::Chunker& chunker, const core::Bytes& data) {
  std::vector<size_t> lengths;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t cut = chunker.find_cut(data.data() + pos, data.size() - pos);
    lengths.push_back(cut);
    pos += cut;
  }
  return lengths;
}

json load_vectors() {
  std::ifstream in(std::string(ANEMONE_SOURCE_DIR) + "/docs/format-vectors.json");
  REQUIRE(in.good());
  return json::parse(in);
}

} // namespace

TEST_CASE("format vectors: a key file opens with its passphrase and yields the documented master key", "[format]") {
  json v = load_vectors()["key_file"];
  std::string text = v["file"].dump();
  auto passphrase = crypto::SecretBytes::copy_of(core::as_bytes(v["passphrase"].get<std::string>()));
  auto key = repo::open_key_file(core::as_bytes(text), passphrase);
  REQUIRE(key);
  CHECK(core::to_hex(key->encryption.view()) == v["encryption_key"]);
  CHECK(core::to_hex(key->id_key.view()) == v["id_key"]);
  CHECK(core::to_hex(key->chunker_seed.view()) == v["chunker_seed"]);
  auto wrong = repo::open_key_file(core::as_bytes(text), crypto::SecretBytes::copy_of(core::as_bytes("not it")));
  REQUIRE(!wrong);
  CHECK(wrong.error().code() == core::Errc::wrong_passphrase);
}

TEST_CASE("format vectors: blob ids are keyed BLAKE2b-256", "[format]") {
  json v = load_vectors()["blob_id"];
  auto id = crypto::keyed_hash(secret(v["id_key"]), core::as_bytes(v["plaintext"].get<std::string>()));
  CHECK(core::to_hex(id) == v["id"]);
}

TEST_CASE("format vectors: sealed blobs decode to their plaintext, raw and zstd", "[format]") {
  json vectors = load_vectors(); // kept alive: a range-for over a temporary's member dangles
  for (const auto& v : vectors["sealed_blobs"]) {
    auto sealed = hex(v["sealed"]);
    auto plain = repo::decode_blob(secret(v["encryption_key"]), sealed);
    REQUIRE(plain);
    CHECK(core::to_hex(*plain) == v["plaintext"]);
    auto framed = crypto::open(secret(v["encryption_key"]), sealed);
    REQUIRE(framed);
    CHECK(int((*framed)[0]) == v["codec"].get<int>());
  }
}

TEST_CASE("format vectors: the gear table and chunk boundaries follow from the chunker seed", "[format]") {
  json v = load_vectors()["chunker"];
  auto table = repo::gear_table(secret(v["seed"]));
  for (size_t i = 0; i < v["gear_first"].size(); ++i) CHECK(table[i] == v["gear_first"][i].get<uint64_t>());
  repo::Chunker chunker(repo::ChunkerParams{}, table);
  auto lengths = chunk_lengths(chunker, chunker_input(v["input_size"].get<size_t>()));
  CHECK(lengths == v["chunk_lengths"].get<std::vector<size_t>>());
}

TEST_CASE("format vectors: a pack's header lists its blobs and its name is its hash", "[format]") {
  json v = load_vectors()["pack"];
  auto data = hex(v["data"]);
  CHECK(core::to_hex(crypto::plain_hash(data)) == v["id"]);
  auto blobs = repo::parse_pack_header(secret(v["encryption_key"]), data, data.size());
  REQUIRE(blobs);
  REQUIRE(blobs->size() == v["blobs"].size());
  for (size_t i = 0; i < blobs->size(); ++i) {
    CHECK(repo::id_hex((*blobs)[i].id) == v["blobs"][i]["id"]);
    CHECK((*blobs)[i].offset == v["blobs"][i]["offset"].get<uint32_t>());
    CHECK((*blobs)[i].length == v["blobs"][i]["length"].get<uint32_t>());
    CHECK(repo::blob_type_name((*blobs)[i].type) == v["blobs"][i]["type"].get<std::string>());
  }
}

TEST_CASE("generate format vectors", "[.generate-vectors]") {
  auto key = repo::MasterKey::generate();
  auto passphrase = crypto::SecretBytes::copy_of(core::as_bytes(k_vector_passphrase));
  auto file = repo::make_key_file(key, passphrase, crypto::KdfProfile::interactive, "vector-host");
  REQUIRE(file);
  json out;
  out["format_version"] = 1;
  out["key_file"] = {{"passphrase", k_vector_passphrase},
                     {"file", json::parse(file->begin(), file->end())},
                     {"encryption_key", core::to_hex(key.encryption.view())},
                     {"id_key", core::to_hex(key.id_key.view())},
                     {"chunker_seed", core::to_hex(key.chunker_seed.view())}};
  std::string text = "hello, anemone\n";
  out["blob_id"] = {{"id_key", core::to_hex(key.id_key.view())},
                    {"plaintext", text},
                    {"id", core::to_hex(crypto::keyed_hash(key.id_key, core::as_bytes(text)))}};
  std::string compressible(4096, 'a');
  for (const auto& plain : {text, compressible})
    out["sealed_blobs"].push_back({{"encryption_key", core::to_hex(key.encryption.view())},
                                   {"plaintext", core::to_hex(core::as_bytes(plain))},
                                   {"codec", plain.size() > 100 ? 1 : 0},
                                   {"sealed", core::to_hex(repo::encode_blob(key.encryption, core::as_bytes(plain)))}});
  auto table = repo::gear_table(key.chunker_seed);
  size_t input_size = 8 * 1024 * 1024;
  repo::Chunker chunker(repo::ChunkerParams{}, table);
  out["chunker"] = {{"seed", core::to_hex(key.chunker_seed.view())},
                    {"gear_first", std::vector<uint64_t>(table.begin(), table.begin() + 4)},
                    {"input", "BLAKE2b-512(\"anemone-chunker-vector\" || u32le(i)) for i = 0, 1, ..., concatenated"},
                    {"input_size", input_size},
                    {"chunk_lengths", chunk_lengths(chunker, chunker_input(input_size))}};
  repo::PackBuilder builder;
  json blobs = json::array();
  for (const auto& plain : {text, compressible}) {
    auto sealed = repo::encode_blob(key.encryption, core::as_bytes(plain));
    auto id = crypto::keyed_hash(key.id_key, core::as_bytes(plain));
    blobs.push_back({{"id", repo::id_hex(id)}, {"offset", builder.size()}, {"length", sealed.size()}, {"type", "data"}});
    builder.add(repo::BlobType::data, id, sealed, static_cast<uint32_t>(plain.size()));
  }
  auto pack = builder.finish(key.encryption);
  out["pack"] = {{"encryption_key", core::to_hex(key.encryption.view())},
                 {"id", pack.id},
                 {"data", core::to_hex(pack.data)},
                 {"blobs", blobs}};
  std::cout << out.dump(2) << "\n";
}
