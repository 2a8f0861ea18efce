#include <catch2/catch.hpp>

#include "anemone/peers/accounts.hpp"
#include "anemone/peers/receiver.hpp"
#include "../scratch.hpp"

using namespace anemone;

namespace {
// A real ed25519 public key (ssh-keygen output), and one of another type.
const std::string k_ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const std::string k_rsa_prefix = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ";
} // namespace

TEST_CASE("account names are safe as Unix users and path components", "[peers]") {
  for (const std::string& good : std::vector<std::string>{"site-a", "b", "pi4", std::string(32, 'x')}) CHECK(peers::validate_account_name(good));
  for (const std::string& bad : std::vector<std::string>{"", "-a", "Site", "a b", "a/b", "..", "a.b", std::string(33, 'x'), std::string("a\nb")})
    CHECK_FALSE(peers::validate_account_name(bad));
}

TEST_CASE("only a well-formed ed25519 public key is accepted, without its comment", "[peers]") {
  auto normal = peers::normalize_ed25519_key(k_ed25519 + " user@host");
  REQUIRE(normal);
  CHECK(*normal == k_ed25519);
  CHECK_FALSE(peers::normalize_ed25519_key(k_rsa_prefix));
  CHECK_FALSE(peers::normalize_ed25519_key("command=\"sh\" " + k_ed25519));
  CHECK_FALSE(peers::normalize_ed25519_key(k_ed25519 + "\n" + k_ed25519));
  CHECK_FALSE(peers::normalize_ed25519_key("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqq")); // truncated
  CHECK_FALSE(peers::normalize_ed25519_key("ssh-ed25519 not-base64!"));
}

TEST_CASE("accounts live in the state file; duplicates and unknown names are errors", "[peers]") {
  test::ScratchDir dir;
  auto db = state::Db::open(dir / "state.db");
  REQUIRE(db);
  REQUIRE(peers::add_account(*db, "site-b", k_ed25519, 10ull << 30));
  auto twice = peers::add_account(*db, "site-b", k_ed25519, 1);
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code() == core::Errc::already_exists);
  REQUIRE(peers::set_quota(*db, "site-b", 5ull << 30));
  auto found = peers::find_account(*db, "site-b");
  REQUIRE(found);
  CHECK(found->quota_bytes == (5ull << 30));
  CHECK(found->ssh_key == k_ed25519);
  CHECK(peers::find_account(*db, "site-c").error().code() == core::Errc::not_found);
  REQUIRE(peers::remove_account(*db, "site-b"));
  CHECK(peers::list_accounts(*db)->empty());
}

TEST_CASE("the rendered sshd_config jails every peer and leaves what a key may do to its key line", "[peers]") {
  config::Config config;
  config.file = "/config/config.yaml";
  config.secrets_dir = "/config/secrets";
  config.sftp.port = 2222;
  config.sftp.listen = "10.8.0.1";
  config.sftp.backups_dir = "/backups";
  peers::Account fine{"site-b", k_ed25519, 1, 0, false, 0, 0};
  peers::Account full{"site-c", k_ed25519, 1, 2, true, 0, 0};
  std::string text = peers::render_sshd_config(config, {fine, full});
  for (auto line : {"Port 2222\n", "ListenAddress 10.8.0.1\n", "HostKey /config/secrets/ssh_host_ed25519_key\n",
                    "PasswordAuthentication no\n", "PermitRootLogin no\n", "DisableForwarding yes\n", "PermitTTY no\n",
                    "AllowAgentForwarding no\n", "AllowTcpForwarding no\n", "X11Forwarding no\n",
                    "AuthorizedKeysFile /backups/.keys/%u\n", "AllowGroups anemone-peers\n",
                    "Match Group anemone-peers\n  ChrootDirectory /backups/%u\n"})
    CHECK_THAT(text, Catch::Contains(line));
  // A ForceCommand would override every key's own command, the recovery key's read-only one too.
  CHECK(text.find("ForceCommand") == std::string::npos);
}

TEST_CASE("a peer's keys: its own SFTP into /repo, writes refused over quota, its recovery key read-only", "[peers]") {
  peers::Account fine{"site-b", k_ed25519, 1, 0, false, 0, 0};
  CHECK(peers::authorized_keys(fine, std::nullopt) ==
        std::string("restrict,command=\"internal-sftp -d /repo\" ") + k_ed25519 + "\n");
  peers::Account full = fine;
  full.over_quota = true;
  CHECK(peers::authorized_keys(full, std::nullopt) ==
        std::string("restrict,command=\"internal-sftp -d /repo -P write,mkdir,setstat,fsetstat,symlink,hardlink\" ") +
            k_ed25519 + "\n");
  const std::string recovery = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ1cm5lZC1yZWNvdmVyeS1rZXktZm9yLXRlc3Rz";
  std::string both = peers::authorized_keys(fine, recovery);
  CHECK_THAT(both, Catch::EndsWith("restrict,command=\"internal-sftp -R -d /config\" " + recovery + " anemone-recovery\n"));
  // The peer's own key published as its recovery key gains nothing.
  CHECK(peers::authorized_keys(fine, std::string(k_ed25519)) == peers::authorized_keys(fine, std::nullopt));
}
