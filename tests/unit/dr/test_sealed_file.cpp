#include <catch2/catch.hpp>

#include "anemone/crypto/aead.hpp"
#include "anemone/dr/sealed_file.hpp"

using namespace anemone;

namespace {
crypto::SecretBytes secret(std::string_view text) { return crypto::SecretBytes::copy_of(core::as_bytes(text)); }

// Rewrites the trailing checksum, as someone who alters the file on purpose would.
void fix_checksum(core::Bytes& file) {
  auto sum = crypto::plain_hash(core::ByteView(file).subspan(0, file.size() - 32));
  std::copy(sum.begin(), sum.end(), file.end() - 32);
}

std::string error_of(const core::Result<crypto::SecretBytes>& result) {
  REQUIRE_FALSE(result);
  return result.error().message();
}
} // namespace

TEST_CASE("a config backup opens with its passphrase and reveals nothing of its content", "[dr]") {
  const std::string plaintext = "server:\n  name: site-a\n# the marker only-in-plaintext\n";
  auto file = dr::seal_config_backup(secret("correct horse"), core::as_bytes(plaintext), crypto::KdfProfile::interactive);
  REQUIRE(file);
  std::string_view stored = core::as_chars(*file);
  CHECK(stored.starts_with("anemone-config-backup 1\n{"));
  CHECK(stored.find("only-in-plaintext") == std::string_view::npos);
  CHECK(stored.find("site-a") == std::string_view::npos);
  auto opened = dr::open_config_backup(secret("correct horse"), *file);
  REQUIRE(opened);
  CHECK(core::as_chars(opened->view()) == plaintext);
  CHECK(dr::check_config_backup_structure(*file));
  // Two backups of the same content differ (random salt and nonce).
  auto again = dr::seal_config_backup(secret("correct horse"), core::as_bytes(plaintext), crypto::KdfProfile::interactive);
  CHECK(*again != *file);
}

TEST_CASE("each way a config backup can be wrong has its own error", "[dr]") {
  auto passphrase = secret("correct horse");
  auto file = *dr::seal_config_backup(passphrase, core::as_bytes(std::string(5000, 'x')), crypto::KdfProfile::interactive);

  auto wrong = dr::open_config_backup(secret("wrong horse"), file);
  CHECK(wrong.error().code() == core::Errc::wrong_passphrase);
  CHECK_THAT(error_of(wrong), Catch::StartsWith("wrong passphrase"));

  core::Bytes truncated(file.begin(), file.end() - 100);
  CHECK_THAT(error_of(dr::open_config_backup(passphrase, truncated)), Catch::StartsWith("truncated:"));
  core::Bytes header_only(file.begin(), file.begin() + 30);
  CHECK_THAT(error_of(dr::open_config_backup(passphrase, header_only)), Catch::StartsWith("truncated:"));

  core::Bytes flipped = file;
  flipped[flipped.size() / 2] ^= 1;
  auto damaged = dr::open_config_backup(passphrase, flipped);
  CHECK(damaged.error().code() == core::Errc::corrupt);
  CHECK_THAT(error_of(damaged), Catch::Contains("checksum does not match"));

  fix_checksum(flipped); // altered on purpose: only authentication can tell
  CHECK_THAT(error_of(dr::open_config_backup(passphrase, flipped)), Catch::StartsWith("altered:"));

  core::Bytes appended = file;
  appended.push_back(0);
  CHECK_THAT(error_of(dr::open_config_backup(passphrase, appended)), Catch::Contains("data appended"));

  std::string other = "hello, not a backup";
  CHECK_THAT(error_of(dr::open_config_backup(passphrase, core::as_bytes(other))),
             Catch::StartsWith("not an anemone config backup"));
}

TEST_CASE("a header that names an impossible size or an endless key derivation is refused before any work",
          "[dr]") {
  auto passphrase = secret("correct horse");
  auto file = *dr::seal_config_backup(passphrase, core::as_bytes(std::string(100, 'x')), crypto::KdfProfile::interactive);
  auto rewrite = [&](const std::string& from, const std::string& to) {
    std::string text(file.begin(), file.end());
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    core::Bytes out(text.begin(), text.end());
    fix_checksum(out);
    return out;
  };
  std::string size_field = "\"size\":" + std::to_string(file.size() - 32 - (std::string(file.begin(), file.end()).find("}\n") + 2));
  auto huge = rewrite(size_field, "\"size\":18446744073709551615");
  CHECK_THAT(error_of(dr::open_config_backup(passphrase, huge)), Catch::StartsWith("truncated:"));
  auto endless = rewrite("\"opslimit\":2", "\"opslimit\":4000000000");
  CHECK_THAT(error_of(dr::open_config_backup(passphrase, endless)), Catch::Contains("key derivation of 4000000000 passes"));
}
