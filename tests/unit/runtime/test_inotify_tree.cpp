// The live watcher's view of a source: new directories are followed, moves and deletions seen,
// excluded and core-written directories ignored. Real inotify on a scratch directory.
#include <catch2/catch.hpp>

#include <fstream>

#include "anemone/runtime/inotify_tree.hpp"
#include "../scratch.hpp"

using namespace anemone;
namespace fs = std::filesystem;

namespace {

config::Source source_at(const fs::path& path) {
  config::Source source;
  source.name = "data";
  source.path = path;
  source.exclude = {"*.tmp", "cache/"};
  return source;
}

void write(const fs::path& path) { std::ofstream(path) << "content"; }

} // namespace

TEST_CASE("the tree watches every directory, new ones too, and counts what a backup would see", "[runtime]") {
  test::ScratchDir dir;
  fs::create_directories(dir / "src/a/b");
  fs::create_directories(dir / "src/cache/deep");
  fs::create_directories(dir / "src/state");
  auto tree = runtime::InotifyTree::open({source_at(dir / "src")}, {dir / "src/state"});
  if (!tree) FAIL(tree.error().message());
  CHECK(tree->watched_dirs() == 3); // src, a, a/b: not cache/ (excluded), not state (written by the core)
  CHECK(tree->read_changes() == uint64_t{0});

  write(dir / "src/a/b/file");
  CHECK(*tree->read_changes() > 0);
  write(dir / "src/a/ignored.tmp");
  write(dir / "src/cache/deep/x");
  write(dir / "src/state/db");
  CHECK(tree->read_changes() == uint64_t{0});

  fs::create_directories(dir / "src/new/inner");
  CHECK(*tree->read_changes() > 0);
  CHECK(tree->watched_dirs() == 5);
  write(dir / "src/new/inner/file"); // seen: the new directories are watched
  CHECK(*tree->read_changes() > 0);

  fs::rename(dir / "src/new", dir / "src/a/moved");
  CHECK(*tree->read_changes() > 0);
  write(dir / "src/a/moved/inner/after-move"); // watched at its new place
  CHECK(*tree->read_changes() > 0);

  fs::remove_all(dir / "src/a/moved");
  CHECK(*tree->read_changes() > 0);
  CHECK(tree->watched_dirs() == 3);
}

TEST_CASE("a source that is not a directory is refused by name", "[runtime]") {
  test::ScratchDir dir;
  auto tree = runtime::InotifyTree::open({source_at(dir / "missing")}, {});
  REQUIRE_FALSE(tree);
  CHECK(tree.error().message() == "source data (" + (dir / "missing").string() + ") is not a directory");
}
