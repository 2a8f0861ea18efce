#include <catch2/catch.hpp>

#include <fstream>
#include <sys/stat.h>

#include "../scratch.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/dr/site_files.hpp"
#include "anemone/peers/accounts.hpp"

using namespace anemone;
namespace fs = std::filesystem;

namespace {

const std::string k_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

void write(const fs::path& path, const std::string& text, mode_t mode) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}
std::string read(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
mode_t mode_of(const fs::path& path) {
  struct stat st{};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

// A site whose every path lives under `root`.
config::Config make_site(const fs::path& root) {
  std::string yaml = fmt::format("server:\n  name: site-a\npaths:\n  secrets: {0}/secrets\n  logs: {0}/logs\n"
                                 "state:\n  path: {0}/state/anemone.db\nbackup:\n  passphrase_file: {0}/pass/phrase\n",
                                 root.string());
  write(root / "config.yaml", yaml, 0644);
  write(root / "secrets/wireguard.key", "d2lyZWd1YXJk\n", 0600);
  write(root / "secrets/id_ed25519.pub", k_key + "\n", 0644);
  write(root / "pass/phrase", "correct horse\n", 0600);
  auto config = config::load_config(root / "config.yaml");
  REQUIRE(config);
  return *config;
}

} // namespace

TEST_CASE("a site's files come back where its config says, with their modes, and nothing is overwritten silently",
          "[dr]") {
  test::ScratchDir scratch;
  auto config = make_site(scratch / "old");
  {
    auto db = state::Db::open(config.state_path);
    REQUIRE(db);
    REQUIRE(peers::add_account(*db, "site-b", k_key, 1 << 30));
  }
  auto db = state::Db::open(config.state_path);
  auto site = dr::collect_site(config, *db);
  REQUIRE(site);
  CHECK(site->bundle.entries.size() == 5); // config, 2 keys, passphrase, state

  // The rebuilt machine: the same paths (they are in config.yaml), emptied first.
  fs::rename(scratch / "old", scratch / "gone");
  auto plan = dr::plan_restore(site->bundle, scratch / "old/config.yaml");
  REQUIRE(plan);
  CHECK(dr::existing_files(*plan).empty());
  auto done = dr::apply_restore(*plan, false);
  REQUIRE(done);
  CHECK(done->replaced_dir.empty());
  CHECK(done->written.back() == scratch / "old/config.yaml"); // the config last: it marks a restored site
  CHECK(read(scratch / "old/config.yaml") == read(scratch / "gone/config.yaml"));
  CHECK(read(scratch / "old/secrets/wireguard.key") == "d2lyZWd1YXJk\n");
  CHECK(mode_of(scratch / "old/secrets/wireguard.key") == 0600);
  CHECK(mode_of(scratch / "old/secrets/id_ed25519.pub") == 0644);
  CHECK(mode_of(scratch / "old/secrets") == 0700);
  CHECK(read(scratch / "old/pass/phrase") == "correct horse\n");
  CHECK(mode_of(scratch / "old/state/anemone.db") == 0600);
  {
    auto restored = state::Db::open(scratch / "old/state/anemone.db");
    REQUIRE(restored);
    CHECK(peers::find_account(*restored, "site-b")->ssh_key == k_key);
  }

  // Again: refused, naming what exists, and nothing changes.
  write(scratch / "old/secrets/wireguard.key", "bmV3ZXI=\n", 0600);
  auto refused = dr::apply_restore(*plan, false);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == core::Errc::already_exists);
  CHECK_THAT(refused.error().message(), Catch::Contains("--force") && Catch::Contains("wireguard.key"));
  CHECK(read(scratch / "old/secrets/wireguard.key") == "bmV3ZXI=\n");

  // --force: replaced, and what it replaced is kept; the state through SQLite, while it is open here.
  auto live = state::Db::open(scratch / "old/state/anemone.db");
  REQUIRE(live);
  REQUIRE(peers::remove_account(*live, "site-b"));
  auto forced = dr::apply_restore(*plan, true);
  REQUIRE(forced);
  REQUIRE_FALSE(forced->replaced_dir.empty());
  CHECK(read(forced->replaced_dir / "secrets/wireguard.key") == "bmV3ZXI=\n");
  CHECK(fs::exists(forced->replaced_dir / "state/anemone.db"));
  CHECK(read(scratch / "old/secrets/wireguard.key") == "d2lyZWd1YXJk\n");
  CHECK(peers::find_account(*live, "site-b")->ssh_key == k_key); // the open connection sees the restored state
}

TEST_CASE("a bundle whose config names another site is refused", "[dr]") {
  test::ScratchDir scratch;
  auto config = make_site(scratch / "a");
  auto db = state::Db::open(config.state_path);
  auto site = dr::collect_site(config, *db);
  REQUIRE(site);
  site->bundle.site = "site-b";
  auto plan = dr::plan_restore(site->bundle, scratch / "b/config.yaml");
  REQUIRE_FALSE(plan);
  CHECK_THAT(plan.error().message(), Catch::Contains("site-b") && Catch::Contains("site-a"));
}
