// The shared backend conformance suite, run against the local directory backend, plus what only the
// local backend can be asked (its on-disk layout and temporary names).
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <sodium.h>

#include "anemone/core/system.hpp"
#include "anemone/repo/backend.hpp"
#include "../scratch.hpp"
#include "backend_conformance.hpp"

using namespace anemone;

namespace {

void touch(const std::filesystem::path& path, std::string_view text = "partial upload") {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// The local backend names temporary files <first 4 bytes of sha256(host), hex>-<pid>-<random>.
std::string host_tag() {
  auto host = core::host_name();
  uint8_t digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const uint8_t*>(host.data()), host.size());
  return core::to_hex({digest, 4});
}

} // namespace

TEST_CASE("backend conformance: local", "[repo][backend]") {
  anemone::test::ScratchDir dir;
  auto root = dir / "repo";
  int leftovers = 0;
  anemone::test::run_backend_conformance(
      [&] { return repo::make_local_backend(root.string()); },
      {[&] { touch(root / "tmp" / fmt::format("stray-{}", ++leftovers)); }});
}

TEST_CASE("local backend: layout on disk", "[repo][backend]") {
  anemone::test::ScratchDir dir;
  auto root = dir / "repo";
  auto backend = repo::make_local_backend(root.string());
  CHECK(backend->location() == "local:" + root.string());
  REQUIRE(backend->create_layout());
  for (auto sub : {"keys", "data", "index", "snapshots", "locks", "tmp", "data/00", "data/ff"}) {
    INFO(sub);
    CHECK(std::filesystem::is_directory(root / sub));
  }
  struct stat st{};
  REQUIRE(::stat(root.c_str(), &st) == 0);
  CHECK((st.st_mode & 077) == 0); // the repository is private to its owner

  core::Bytes data = {1, 2, 3};
  auto name = core::to_hex(crypto::plain_hash(data));
  REQUIRE(backend->save(repo::FileType::pack, name, data));
  CHECK(std::filesystem::is_regular_file(root / "data" / name.substr(0, 2) / name));
  REQUIRE(backend->save(repo::FileType::snapshot, name, data));
  CHECK(std::filesystem::is_regular_file(root / "snapshots" / name));
  REQUIRE(backend->save(repo::FileType::config, "config", data));
  CHECK(std::filesystem::is_regular_file(root / "config"));

  SECTION("list ignores files that are not named like ids") {
    touch(root / "snapshots" / "README");
    touch(root / "snapshots" / ("." + name));
    std::filesystem::create_directory(root / "snapshots" / std::string(64, 'a'));
    auto listed = backend->list(repo::FileType::snapshot);
    REQUIRE(listed);
    REQUIRE(listed->size() == 1);
    CHECK((*listed)[0].name == name);
  }
}

TEST_CASE("local backend: remove_leftovers(dead_writers) spares live writers", "[repo][backend]") {
  anemone::test::ScratchDir dir;
  auto root = dir / "repo";
  auto backend = repo::make_local_backend(root.string());
  REQUIRE(backend->create_layout());
  auto tag = host_tag();
  auto dead = root / "tmp" / fmt::format("{}-{}-0123456789ab", tag, anemone::test::dead_pid());
  auto live = root / "tmp" / fmt::format("{}-{}-0123456789ab", tag, ::getpid());
  auto other_host = root / "tmp" / fmt::format("{}-{}-0123456789ab", tag == "00000000" ? "11111111" : "00000000", 1);
  auto unknown = root / "tmp" / "not-a-temp-name";
  for (const auto& path : {dead, live, other_host, unknown}) touch(path);

  auto removed = backend->remove_leftovers(repo::Backend::Leftovers::dead_writers);
  REQUIRE(removed);
  CHECK(*removed == 1);
  CHECK_FALSE(std::filesystem::exists(dead));
  CHECK(std::filesystem::exists(live));
  CHECK(std::filesystem::exists(other_host)); // another host's pid means nothing here
  CHECK(std::filesystem::exists(unknown));

  auto all = backend->remove_leftovers(repo::Backend::Leftovers::all);
  REQUIRE(all);
  CHECK(*all == 3);
  CHECK(std::filesystem::is_empty(root / "tmp"));
}
