// The mesh identity: keys compatible with WireGuard's and OpenSSH's tools, created once, addresses
// derived the same way everywhere.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "anemone/config/config.hpp"
#include "anemone/core/command.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/mesh/identity.hpp"
#include "../scratch.hpp"

using namespace anemone;
using anemone::test::ScratchDir;

namespace {

config::Config site_config(const ScratchDir& dir, const std::string& extra = "") {
  std::string yaml = "server: {name: site-a}\npaths: {secrets: " + (dir / "secrets").string() + ", logs: " +
                     (dir / "logs").string() + "}\nstate: {path: " + (dir / "state.db").string() +
                     "}\nwireguard: {subnet: 198.18.0.0/15" + extra + "}\n";
  auto config = config::parse_config(yaml, "test.yaml");
  REQUIRE(config);
  return *config;
}

bool in_ci() { return std::getenv("CI") != nullptr; }

} // namespace

TEST_CASE("mesh identity: init creates 0600 keys once; wg and ssh-keygen agree with them", "[mesh]") {
  ScratchDir dir;
  auto config = site_config(dir);
  auto db = state::Db::open(config.state_path);
  REQUIRE(db);
  auto first = mesh::init_identity(config, *db, std::nullopt);
  REQUIRE(first);
  CHECK(first->created.size() == 4);
  auto files = mesh::identity_files(config);
  for (const auto& path : {files.wireguard_key, files.ssh_user_key, files.ssh_host_key, files.signing_key}) {
    struct stat st{};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  auto identity = mesh::load_identity(config, *db);
  REQUIRE(identity);
  auto wg_file_before = core::read_file(files.wireguard_key);

  auto second = mesh::init_identity(config, *db, std::string("192.0.2.1:51820"));
  REQUIRE(second);
  CHECK(second->created == std::vector<std::string>{"endpoint 192.0.2.1:51820"});
  CHECK(core::read_file(files.wireguard_key).value() == wg_file_before.value()); // never replaced
  auto again = mesh::load_identity(config, *db);
  REQUIRE(again);
  CHECK(again->wg_public == identity->wg_public);
  CHECK(again->endpoint == std::optional<std::string>("192.0.2.1:51820"));
  CHECK(identity->subnet.contains(identity->address));

  // `wg pubkey` (private key on stdin, never on a command line) gives the key we advertise.
  auto wg = core::run_command({"wg", "pubkey"}, std::string(core::read_text_file(files.wireguard_key).value()));
  if (wg && wg->exit_code == 0) {
    CHECK(wg->out == identity->wg_public + "\n");
  } else {
    if (in_ci()) FAIL("wg (wireguard-tools) is required in CI");
    WARN("wg not installed: key compatibility not checked");
  }
  // ssh-keygen reads the user key and derives the public line we advertise.
  auto ssh = core::run_command({"ssh-keygen", "-y", "-f", files.ssh_user_key.string()});
  REQUIRE(ssh);
  CHECK(ssh->out.rfind(identity->ssh_user_key, 0) == 0);
}

TEST_CASE("mesh identity: a missing key names init; a configured address wins", "[mesh]") {
  ScratchDir dir;
  auto config = site_config(dir, ", address: 198.18.0.9");
  auto db = state::Db::open(config.state_path);
  REQUIRE(db);
  auto missing = mesh::load_identity(config, *db);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message().find("run `wg-peer-manager init` first") != std::string::npos);
  REQUIRE(mesh::init_identity(config, *db, std::nullopt));
  CHECK(mesh::load_identity(config, *db)->address.str() == "198.18.0.9");
}

TEST_CASE("mesh identity: derived addresses stay inside the subnet, off its edges", "[mesh]") {
  auto subnet = *core::parse_ipv4_net("198.18.0.0/30"); // two hosts: .1 and .2
  for (int i = 0; i < 200; ++i) {
    auto key = mesh::wireguard_public(mesh::generate_wireguard_private());
    auto address = mesh::derive_address(subnet, key);
    CHECK((address.str() == "198.18.0.1" || address.str() == "198.18.0.2"));
    CHECK(mesh::derive_address(subnet, key) == address); // deterministic
  }
}
