// Sealing, hashing, key derivation and secret handling (libs/crypto).
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <sodium.h>

#include "anemone/core/bytes.hpp"
#include "anemone/crypto/aead.hpp"
#include "anemone/crypto/secret.hpp"
#include "../scratch.hpp"

using namespace anemone;
using core::Errc;

namespace {

core::Bytes bytes_of(std::string_view text) {
  auto view = core::as_bytes(text);
  return core::Bytes(view.begin(), view.end());
}

void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  REQUIRE(out.good());
}

} // namespace

TEST_CASE("seal and open round trip", "[crypto]") {
  auto key = crypto::SecretBytes::random(crypto::k_key_size);
  auto plain = bytes_of("the quick brown fox jumps over the lazy dog");
  auto sealed = crypto::seal(key, plain);
  CHECK(sealed.size() == plain.size() + crypto::k_seal_overhead);
  auto opened = crypto::open(key, sealed);
  REQUIRE(opened);
  CHECK(*opened == plain);

  SECTION("a random nonce makes two seals of the same plaintext differ") {
    CHECK(crypto::seal(key, plain) != sealed);
  }
  SECTION("seal_append appends after existing bytes") {
    core::Bytes out = bytes_of("prefix");
    crypto::seal_append(key, plain, out);
    REQUIRE(out.size() == 6 + plain.size() + crypto::k_seal_overhead);
    auto tail = crypto::open(key, core::ByteView(out).subspan(6));
    REQUIRE(tail);
    CHECK(*tail == plain);
  }
  SECTION("an empty plaintext round-trips") {
    auto empty_sealed = crypto::seal(key, {});
    CHECK(empty_sealed.size() == crypto::k_seal_overhead);
    auto empty_opened = crypto::open(key, empty_sealed);
    REQUIRE(empty_opened);
    CHECK(empty_opened->empty());
  }
}

TEST_CASE("open rejects a flipped bit in nonce, ciphertext or tag", "[crypto]") {
  auto key = crypto::SecretBytes::random(crypto::k_key_size);
  auto plain = bytes_of("attack at dawn, bring snacks");
  auto sealed = crypto::seal(key, plain);
  const size_t nonce_byte = 3;
  const size_t ciphertext_byte = crypto::k_nonce_size + 5;
  const size_t tag_byte = sealed.size() - 1;
  for (size_t position : {size_t{0}, nonce_byte, ciphertext_byte, tag_byte, sealed.size() - crypto::k_tag_size}) {
    for (int bit : {0, 7}) {
      auto damaged = sealed;
      damaged[position] = static_cast<uint8_t>(damaged[position] ^ (1u << bit));
      auto opened = crypto::open(key, damaged);
      INFO("byte " << position << " bit " << bit);
      REQUIRE_FALSE(opened);
      CHECK(opened.error().code() == Errc::corrupt);
    }
  }
  SECTION("a wrong key fails the same way") {
    auto other = crypto::SecretBytes::random(crypto::k_key_size);
    auto opened = crypto::open(other, sealed);
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code() == Errc::corrupt);
  }
  SECTION("data shorter than nonce and tag is corrupt, not a crash") {
    for (size_t size : {size_t{0}, size_t{1}, crypto::k_seal_overhead - 1}) {
      auto opened = crypto::open(key, core::ByteView(sealed).first(size));
      REQUIRE_FALSE(opened);
      CHECK(opened.error().code() == Errc::corrupt);
    }
  }
  SECTION("a truncated tag fails") {
    auto opened = crypto::open(key, core::ByteView(sealed).first(sealed.size() - 1));
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code() == Errc::corrupt);
  }
}

TEST_CASE("keyed_hash depends on key and data", "[crypto]") {
  auto key_a = crypto::SecretBytes::random(crypto::k_key_size);
  auto key_b = crypto::SecretBytes::random(crypto::k_key_size);
  auto data = bytes_of("same data");
  CHECK(crypto::keyed_hash(key_a, data) == crypto::keyed_hash(key_a, data));
  auto key_a_copy = crypto::SecretBytes::copy_of(key_a.view());
  CHECK(crypto::keyed_hash(key_a_copy, data) == crypto::keyed_hash(key_a, data));
  CHECK(crypto::keyed_hash(key_a, data) != crypto::keyed_hash(key_b, data));
  CHECK(crypto::keyed_hash(key_a, data) != crypto::keyed_hash(key_a, bytes_of("same datA")));
  // A keyed hash must not equal the unkeyed one (ids would reveal content otherwise).
  CHECK(crypto::keyed_hash(key_a, data) != crypto::plain_hash(data));
}

TEST_CASE("plain_hash is BLAKE2b-256 and Hasher streams to the same value", "[crypto]") {
  // BLAKE2b-256("abc"), RFC 7693 parameters with a 32-byte digest.
  CHECK(core::to_hex(crypto::plain_hash(bytes_of("abc"))) ==
        "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");

  core::Bytes data(100000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>((i * 7919) >> 3);
  auto whole = crypto::plain_hash(data);

  for (size_t piece : {size_t{1}, size_t{63}, size_t{64}, size_t{4096}, size_t{99999}}) {
    crypto::Hasher hasher;
    for (size_t pos = 0; pos < data.size(); pos += piece)
      hasher.update(core::ByteView(data).subspan(pos, std::min(piece, data.size() - pos)));
    INFO("piece size " << piece);
    CHECK(hasher.finish() == whole);
  }
  crypto::Hasher empty;
  CHECK(empty.finish() == crypto::plain_hash({}));
  crypto::Hasher other;
  other.update(bytes_of("abd"));
  CHECK(other.finish() != crypto::plain_hash(bytes_of("abc")));
}

TEST_CASE("derive_key is deterministic for the same salt and parameters", "[crypto]") {
  auto passphrase = crypto::SecretBytes::copy_of(core::as_bytes("correct horse battery staple"));
  auto params = crypto::new_kdf_params(crypto::KdfProfile::interactive);
  REQUIRE(params.salt.size() == 16);

  auto first = crypto::derive_key(passphrase, params);
  auto second = crypto::derive_key(passphrase, params);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->size() == crypto::k_key_size);
  CHECK(first->equals(*second));

  SECTION("a different salt gives a different key") {
    auto other_params = params;
    other_params.salt[0] = static_cast<uint8_t>(other_params.salt[0] ^ 1);
    auto other = crypto::derive_key(passphrase, other_params);
    REQUIRE(other);
    CHECK_FALSE(first->equals(*other));
  }
  SECTION("new parameters carry a fresh salt") {
    CHECK(crypto::new_kdf_params(crypto::KdfProfile::interactive).salt != params.salt);
  }
  SECTION("a different passphrase gives a different key") {
    auto other = crypto::derive_key(crypto::SecretBytes::copy_of(core::as_bytes("correct horse battery stapler")), params);
    REQUIRE(other);
    CHECK_FALSE(first->equals(*other));
  }
  SECTION("a salt of the wrong length is refused") {
    auto bad = params;
    bad.salt.resize(8);
    auto result = crypto::derive_key(passphrase, bad);
    REQUIRE_FALSE(result);
    CHECK(result.error().code() == Errc::corrupt);
  }
  SECTION("absurd parameters are refused, not attempted") {
    auto bad = params;
    bad.memlimit = 1ull << 40;
    auto result = crypto::derive_key(passphrase, bad);
    REQUIRE_FALSE(result);
    CHECK(result.error().code() == Errc::corrupt);
  }
}

TEST_CASE("SecretBytes never formats its content", "[crypto]") {
  auto secret = crypto::SecretBytes::copy_of(core::as_bytes("hunter2"));
  CHECK(fmt::format("{}", secret) == "(hidden)");
  CHECK(fmt::format("key={}!", secret) == "key=(hidden)!");
  CHECK(fmt::format("{}", crypto::SecretBytes()) == "(hidden)");

  SECTION("equals compares content") {
    CHECK(secret.equals(crypto::SecretBytes::copy_of(core::as_bytes("hunter2"))));
    CHECK_FALSE(secret.equals(crypto::SecretBytes::copy_of(core::as_bytes("hunter3"))));
    CHECK_FALSE(secret.equals(crypto::SecretBytes::copy_of(core::as_bytes("hunter22"))));
    CHECK(crypto::SecretBytes().equals(crypto::SecretBytes()));
  }
  SECTION("a move leaves the source empty") {
    crypto::SecretBytes moved = std::move(secret);
    CHECK(moved.size() == 7);
    CHECK(secret.empty()); // NOLINT(bugprone-use-after-move): the moved-from state is the contract
  }
}

TEST_CASE("read_secret_file strips one trailing newline", "[crypto]") {
  anemone::test::ScratchDir dir;
  auto read = [&](std::string_view content) {
    auto path = dir / "secret";
    write_text(path, content);
    return crypto::read_secret_file(path.string());
  };
  auto plain = read("s3cret passphrase");
  REQUIRE(plain);
  CHECK(core::as_chars(plain->view()) == "s3cret passphrase");

  auto with_newline = read("s3cret passphrase\n");
  REQUIRE(with_newline);
  CHECK(core::as_chars(with_newline->view()) == "s3cret passphrase");

  auto two_newlines = read("s3cret\n\n");
  REQUIRE(two_newlines);
  CHECK(core::as_chars(two_newlines->view()) == "s3cret\n");

  auto inner = read("two\nlines\n");
  REQUIRE(inner);
  CHECK(core::as_chars(inner->view()) == "two\nlines");

  auto spaces = read(" padded \n");
  REQUIRE(spaces);
  CHECK(core::as_chars(spaces->view()) == " padded ");
}

TEST_CASE("read_secret_file errors never quote the content", "[crypto]") {
  anemone::test::ScratchDir dir;
  auto path = dir / "secret";

  SECTION("an empty file") {
    write_text(path, "");
    auto result = crypto::read_secret_file(path.string());
    REQUIRE_FALSE(result);
    CHECK(result.error().message().find(path.string()) != std::string::npos);
  }
  SECTION("a file holding only a newline is empty") {
    write_text(path, "\n");
    auto result = crypto::read_secret_file(path.string());
    REQUIRE_FALSE(result);
  }
  SECTION("a file too large to be a passphrase") {
    std::string content;
    while (content.size() < 8192) content += "TopSecretValue-";
    write_text(path, content);
    auto result = crypto::read_secret_file(path.string());
    REQUIRE_FALSE(result);
    CHECK(result.error().message().find("TopSecret") == std::string::npos);
    CHECK(result.error().message().find(path.string()) != std::string::npos);
  }
  SECTION("a missing file is not_found and names the path") {
    auto result = crypto::read_secret_file((dir / "missing").string());
    REQUIRE_FALSE(result);
    CHECK(result.error().code() == Errc::not_found);
    CHECK(result.error().message().find("missing") != std::string::npos);
  }
}
