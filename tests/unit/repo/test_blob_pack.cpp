// Blob encoding (compress when it helps, then seal) and pack files (blobs || sealed header || length).
#include <catch2/catch.hpp>
#include <sodium.h>

#include "anemone/core/bytes.hpp"
#include "anemone/crypto/aead.hpp"
#include "anemone/repo/blob.hpp"
#include "anemone/repo/pack.hpp"

using namespace anemone;
using core::Errc;

namespace {

core::Bytes pseudo_random(size_t size, uint8_t seed_byte) {
  core::Bytes out(size);
  unsigned char seed[randombytes_SEEDBYTES] = {seed_byte};
  if (size > 0) randombytes_buf_deterministic(out.data(), out.size(), seed);
  return out;
}

core::Bytes compressible(size_t size) {
  std::string text;
  for (int line = 0; text.size() < size; ++line)
    text += "line " + std::to_string(line % 100) + ": the same words again and again, as logs are\n";
  text.resize(size);
  return core::Bytes(text.begin(), text.end());
}

struct PackFixture {
  crypto::SecretBytes key = crypto::SecretBytes::random(crypto::k_key_size);
  crypto::SecretBytes id_key = crypto::SecretBytes::random(crypto::k_key_size);
  std::vector<core::Bytes> plaintexts = {compressible(200000), pseudo_random(70000, 1), core::Bytes{},
                                         pseudo_random(5, 2)};
  std::vector<repo::BlobType> types = {repo::BlobType::data, repo::BlobType::tree, repo::BlobType::data,
                                       repo::BlobType::tree};
  std::vector<repo::BlobId> ids;
  std::vector<core::Bytes> sealed;
  repo::PackBuilder::Finished pack;

  PackFixture() {
    repo::PackBuilder builder;
    for (size_t i = 0; i < plaintexts.size(); ++i) {
      ids.push_back(crypto::keyed_hash(id_key, plaintexts[i]));
      sealed.push_back(repo::encode_blob(key, plaintexts[i]));
      builder.add(types[i], ids[i], sealed[i], static_cast<uint32_t>(plaintexts[i].size()));
    }
    REQUIRE(builder.count() == plaintexts.size());
    pack = builder.finish(key);
    CHECK(builder.empty());
    CHECK(builder.size() == 0);
  }

  size_t blob_bytes() const {
    size_t total = 0;
    for (const auto& s : sealed) total += s.size();
    return total;
  }
};

void require_corrupt(const core::Result<std::vector<repo::PackedBlob>>& result) {
  REQUIRE_FALSE(result);
  CHECK(result.error().code() == Errc::corrupt);
}

} // namespace

TEST_CASE("blob: compressible data is stored compressed and round-trips", "[repo][blob]") {
  auto key = crypto::SecretBytes::random(crypto::k_key_size);
  auto plain = compressible(1024 * 1024);
  auto sealed = repo::encode_blob(key, plain);
  CHECK(sealed.size() < plain.size() / 10);
  auto decoded = repo::decode_blob(key, sealed);
  REQUIRE(decoded);
  CHECK((*decoded == plain));
  // The codec byte sits inside the seal: the stored form says nothing readable.
  auto frame = crypto::open(key, sealed);
  REQUIRE(frame);
  CHECK((*frame)[0] == static_cast<uint8_t>(repo::Codec::zstd));
}

TEST_CASE("blob: random data is stored raw", "[repo][blob]") {
  auto key = crypto::SecretBytes::random(crypto::k_key_size);
  for (size_t size : {size_t{1}, size_t{1000}, size_t{1024 * 1024}}) {
    auto plain = pseudo_random(size, 3);
    auto sealed = repo::encode_blob(key, plain);
    INFO("size " << size);
    CHECK(sealed.size() == size + 1 + crypto::k_seal_overhead);
    CHECK(sealed.size() == size + 1 + 40);
    auto decoded = repo::decode_blob(key, sealed);
    REQUIRE(decoded);
    CHECK((*decoded == plain));
    auto frame = crypto::open(key, sealed);
    REQUIRE(frame);
    CHECK((*frame)[0] == static_cast<uint8_t>(repo::Codec::raw));
  }
  SECTION("an empty blob round-trips") {
    auto sealed = repo::encode_blob(key, {});
    CHECK(sealed.size() == 1 + crypto::k_seal_overhead);
    auto decoded = repo::decode_blob(key, sealed);
    REQUIRE(decoded);
    CHECK(decoded->empty());
  }
}

TEST_CASE("blob: decoding fails as corrupt with a wrong key or altered bytes", "[repo][blob]") {
  auto key = crypto::SecretBytes::random(crypto::k_key_size);
  auto other = crypto::SecretBytes::random(crypto::k_key_size);
  for (const auto& plain : {compressible(50000), pseudo_random(50000, 4)}) {
    auto sealed = repo::encode_blob(key, plain);
    auto wrong = repo::decode_blob(other, sealed);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code() == Errc::corrupt);

    auto altered = sealed;
    altered[altered.size() / 2] ^= 0x10;
    auto damaged = repo::decode_blob(key, altered);
    REQUIRE_FALSE(damaged);
    CHECK(damaged.error().code() == Errc::corrupt);

    auto truncated = repo::decode_blob(key, core::ByteView(sealed).first(sealed.size() - 1));
    REQUIRE_FALSE(truncated);
    CHECK(truncated.error().code() == Errc::corrupt);
  }
  SECTION("an authentic frame with an unknown codec or a bad zstd payload is corrupt") {
    core::Bytes frame = {7, 1, 2, 3};
    auto unknown = repo::decode_blob(key, crypto::seal(key, frame));
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code() == Errc::corrupt);

    core::Bytes bad_zstd = {static_cast<uint8_t>(repo::Codec::zstd), 0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0};
    auto broken = repo::decode_blob(key, crypto::seal(key, bad_zstd));
    REQUIRE_FALSE(broken);
    CHECK(broken.error().code() == Errc::corrupt);

    auto empty_frame = repo::decode_blob(key, crypto::seal(key, {}));
    REQUIRE_FALSE(empty_frame);
    CHECK(empty_frame.error().code() == Errc::corrupt);
  }
}

TEST_CASE("pack: finish and parse_pack_header give back the same blobs", "[repo][pack]") {
  PackFixture f;
  const auto& pack = f.pack;
  CHECK(pack.id == core::to_hex(crypto::plain_hash(pack.data)));
  CHECK(pack.id.size() == 64);
  REQUIRE(pack.blobs.size() == f.plaintexts.size());

  uint32_t offset = 0;
  for (size_t i = 0; i < pack.blobs.size(); ++i) {
    INFO("blob " << i);
    CHECK(pack.blobs[i].type == f.types[i]);
    CHECK(pack.blobs[i].id == f.ids[i]);
    CHECK(pack.blobs[i].offset == offset);
    CHECK(pack.blobs[i].length == f.sealed[i].size());
    CHECK(pack.blobs[i].plain_length == f.plaintexts[i].size());
    auto stored = core::ByteView(pack.data).subspan(pack.blobs[i].offset, pack.blobs[i].length);
    auto decoded = repo::decode_blob(f.key, stored);
    REQUIRE(decoded);
    CHECK((*decoded == f.plaintexts[i]));
    offset += pack.blobs[i].length;
  }
  // Layout: blobs || seal(header) || u32le(sealed header length).
  size_t header_plain = 1 + pack.blobs.size() * repo::k_pack_header_entry_size;
  size_t header_sealed = header_plain + crypto::k_seal_overhead;
  CHECK(pack.data.size() == f.blob_bytes() + header_sealed + 4);
  CHECK(core::get_u32le(pack.data.data() + pack.data.size() - 4) == header_sealed);

  auto parsed = repo::parse_pack_header(f.key, pack.data, pack.data.size());
  REQUIRE(parsed);
  REQUIRE(parsed->size() == pack.blobs.size());
  for (size_t i = 0; i < parsed->size(); ++i) {
    INFO("blob " << i);
    CHECK((*parsed)[i].type == pack.blobs[i].type);
    CHECK((*parsed)[i].id == pack.blobs[i].id);
    CHECK((*parsed)[i].offset == pack.blobs[i].offset);
    CHECK((*parsed)[i].length == pack.blobs[i].length);
    CHECK((*parsed)[i].plain_length == pack.blobs[i].plain_length);
  }

  SECTION("from the tail only, given the full size") {
    size_t tail_size = header_sealed + 4 + 10;
    auto tail = core::ByteView(pack.data).last(tail_size);
    auto from_tail = repo::parse_pack_header(f.key, tail, pack.data.size());
    REQUIRE(from_tail);
    REQUIRE(from_tail->size() == pack.blobs.size());
    for (size_t i = 0; i < from_tail->size(); ++i) {
      CHECK((*from_tail)[i].id == pack.blobs[i].id);
      CHECK((*from_tail)[i].offset == pack.blobs[i].offset);
    }
  }
  SECTION("with the wrong key") {
    require_corrupt(repo::parse_pack_header(f.id_key, pack.data, pack.data.size()));
  }
  SECTION("the builder starts afresh after finish") {
    repo::PackBuilder builder;
    builder.add(repo::BlobType::data, f.ids[0], f.sealed[0], static_cast<uint32_t>(f.plaintexts[0].size()));
    auto first = builder.finish(f.key);
    builder.add(repo::BlobType::data, f.ids[1], f.sealed[1], static_cast<uint32_t>(f.plaintexts[1].size()));
    auto second = builder.finish(f.key);
    REQUIRE(second.blobs.size() == 1);
    CHECK(second.blobs[0].offset == 0);
    CHECK(second.blobs[0].id == f.ids[1]);
    CHECK(first.id != second.id);
  }
}

TEST_CASE("pack: an empty pack has a header and no blobs", "[repo][pack]") {
  auto key = crypto::SecretBytes::random(crypto::k_key_size);
  repo::PackBuilder builder;
  auto pack = builder.finish(key);
  auto parsed = repo::parse_pack_header(key, pack.data, pack.data.size());
  REQUIRE(parsed);
  CHECK(parsed->empty());
}

TEST_CASE("pack: a truncated pack is corrupt, never a crash", "[repo][pack]") {
  PackFixture f;
  const auto& data = f.pack.data;
  // Cut from the end: the trailing length then reads bytes of the header or of a blob.
  for (size_t size = 0; size < data.size(); size += (size < 400 || data.size() - size < 400) ? 1 : 997) {
    INFO("kept the first " << size << " of " << data.size() << " bytes");
    require_corrupt(repo::parse_pack_header(f.key, core::ByteView(data).first(size), size));
  }
  // Cut from the front: the header parses but names blobs the pack no longer holds.
  for (size_t cut : {size_t{1}, size_t{100}, f.blob_bytes() - 1}) {
    INFO("dropped the first " << cut << " bytes");
    auto rest = core::ByteView(data).subspan(cut);
    require_corrupt(repo::parse_pack_header(f.key, rest, rest.size()));
  }
  SECTION("a tail larger than the stated pack size") {
    require_corrupt(repo::parse_pack_header(f.key, data, data.size() - 1));
  }
}

TEST_CASE("pack: a flipped byte in the header or its length is corrupt", "[repo][pack]") {
  PackFixture f;
  const auto& data = f.pack.data;
  size_t header_start = f.blob_bytes();
  REQUIRE(header_start < data.size());
  for (size_t position = header_start; position < data.size(); ++position) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
      auto damaged = data;
      damaged[position] ^= mask;
      INFO("byte " << position - header_start << " of the header area, mask " << int{mask});
      require_corrupt(repo::parse_pack_header(f.key, damaged, damaged.size()));
    }
  }
}

TEST_CASE("pack: garbage input is corrupt, never a crash", "[repo][pack]") {
  auto key = crypto::SecretBytes::random(crypto::k_key_size);
  for (uint8_t seed = 0; seed < 50; ++seed) {
    auto garbage = pseudo_random(static_cast<size_t>(seed) * 37, seed);
    require_corrupt(repo::parse_pack_header(key, garbage, garbage.size()));
  }
  // A well-formed, authentic header that lies about its blobs.
  core::Bytes header = {repo::k_pack_header_version};
  header.push_back(5); // no such blob type
  header.resize(header.size() + 32, 0);
  core::put_u32le(header, 0);
  core::put_u32le(header, 0);
  core::Bytes pack = crypto::seal(key, header);
  core::put_u32le(pack, static_cast<uint32_t>(pack.size()));
  require_corrupt(repo::parse_pack_header(key, pack, pack.size()));

  core::Bytes partial = {repo::k_pack_header_version, 0, 1, 2};
  core::Bytes partial_pack = crypto::seal(key, partial);
  core::put_u32le(partial_pack, static_cast<uint32_t>(partial_pack.size()));
  require_corrupt(repo::parse_pack_header(key, partial_pack, partial_pack.size()));

  core::Bytes wrong_version = {99};
  core::Bytes version_pack = crypto::seal(key, wrong_version);
  core::put_u32le(version_pack, static_cast<uint32_t>(version_pack.size()));
  require_corrupt(repo::parse_pack_header(key, version_pack, version_pack.size()));
}
