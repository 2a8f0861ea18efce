#include <catch2/catch.hpp>

#include <fstream>

#include "../scratch.hpp"
#include "anemone/core/command.hpp"
#include "anemone/dr/recovery_key.hpp"
#include "anemone/ssh/sftp_session.hpp"

using namespace anemone;

namespace {
crypto::SecretBytes secret(std::string_view text) { return crypto::SecretBytes::copy_of(core::as_bytes(text)); }
} // namespace

const std::string k_host = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const std::string k_other_host = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ1cm5lZC1yZWNvdmVyeS1rZXktZm9yLXRlc3Rz";

TEST_CASE("the recovery key comes back from the passphrase, the site's name and the peer's host key", "[dr]") {
  auto key = dr::derive_recovery_key(secret("correct horse"), "site-a", k_host);
  REQUIRE(key);
  CHECK_THAT(key->public_line, Catch::StartsWith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"));
  CHECK_THAT(key->public_line, Catch::EndsWith(" anemone-recovery"));
  CHECK(ssh::public_key_blob(key->public_line)->size() == 51);
  CHECK(dr::derive_recovery_key(secret("correct horse"), "site-a", k_host + " a comment")->public_line ==
        key->public_line);
  CHECK(dr::derive_recovery_key(secret("correct horse"), "site-b", k_host)->public_line != key->public_line);
  CHECK(dr::derive_recovery_key(secret("correct horsf"), "site-a", k_host)->public_line != key->public_line);
  CHECK(dr::derive_recovery_key(secret("correct horse"), "site-a", k_other_host)->public_line != key->public_line);
  CHECK_FALSE(dr::derive_recovery_key(secret("correct horse"), "site-a", "not a key"));
}

TEST_CASE("OpenSSH reads the recovery key's private text and derives the same public key", "[dr]") {
  test::ScratchDir scratch;
  auto key = dr::derive_recovery_key(secret("correct horse"), "site-a", k_host);
  REQUIRE(key);
  auto path = scratch / "recovery";
  {
    std::ofstream out(path, std::ios::binary);
    REQUIRE(key->private_text.data()[key->private_text.size() - 1] == 0);
    out.write(reinterpret_cast<const char*>(key->private_text.data()),
              static_cast<std::streamsize>(key->private_text.size() - 1));
  }
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto printed = core::run_checked({"ssh-keygen", "-y", "-f", path.string()});
  REQUIRE(printed);
  CHECK(*printed == key->public_line + "\n");
}
