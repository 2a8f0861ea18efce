// End to end in one process: init, archive a tree with every kind of entry, restore it, compare;
// the files cache; opening failures; a file vanishing mid-backup; check and restore of a damaged
// pack.
#include <atomic>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "anemone/core/system.hpp"
#include "anemone/core/time.hpp"
#include "anemone/repo/checker.hpp"
#include "repo_fixture.hpp"

using namespace anemone;
using anemone::test::RepoFixture;
using anemone::test::ScratchDir;
using anemone::test::unwrap;
using core::Errc;
namespace fs = std::filesystem;

namespace {

constexpr size_t k_mib = 1024 * 1024;
const std::string k_newline_name = "new\nline";
const std::string k_invalid_name = "\xff\xfe-not-utf8";
// 2020-01-02T03:04:05.123456789Z
constexpr int64_t k_private_mtime = 1577934245123456789;

// A source tree with every kind of entry the archiver handles. Returns the number of regular files
// (each hard link counts: the archiver sees paths).
int make_source_tree(const fs::path& src) {
  fs::create_directories(src / "sub");
  fs::create_directories(src / "emptydir");
  test::write_text(src / "small.txt", "hello, world\n");
  // Larger than the chunker's maximum, so it is at least two chunks whatever the repository's
  // random gear table (3 MiB holds ~8 expected cut points, so none at all is rare, but CI drew one).
  test::write_bytes(src / "big.bin", test::pseudo_random(5 * k_mib, 1));
  test::write_text(src / "empty", "");
  test::write_text(src / "hard1", "two names, one inode\n");
  fs::create_hard_link(src / "hard1", src / "sub" / "hard2");
  test::write_text(src / "private", "for the owner and group\n");
  REQUIRE(::chmod((src / "private").c_str(), 0640) == 0);
  test::set_mtime(src / "private", k_private_mtime);
  test::write_text(src / k_newline_name, "a name with a newline\n");
  test::write_text(src / k_invalid_name, "a name that is not UTF-8\n");
  test::write_text(src / "sub" / "nested.txt", "nested\n");
  fs::create_symlink("small.txt", src / "link");
  REQUIRE(::symlink("/nowhere/\xff\xfe", (src / "dangling").c_str()) == 0);
  REQUIRE(::mkfifo((src / "fifo").c_str(), 0600) == 0);
  // Directory mtimes last: creating entries changes them.
  test::set_mtime(src / "emptydir", 1500000000000000001);
  test::set_mtime(src / "sub", 1500000000000000002);
  return 9;
}

uint64_t regular_bytes(const fs::path& src) {
  uint64_t total = 0;
  for (const auto& [name, st] : test::scan(src))
    if (S_ISREG(st.st_mode)) total += static_cast<uint64_t>(st.st_size);
  return total;
}

bool has_leftover_temp(const fs::path& dir) {
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.path().filename().string().rfind(".anemone-restore-", 0) == 0) return true;
  return false;
}

} // namespace

TEST_CASE("archive and restore: every kind of entry round-trips", "[repo][archive]") {
  ScratchDir dir;
  RepoFixture f(dir);
  auto src = dir / "src";
  int files = make_source_tree(src);

  auto summary = f.archive(src);
  INFO("warnings: " << summary.warnings.size());
  CHECK(summary.warnings.empty());
  CHECK(summary.files_new == static_cast<uint64_t>(files));
  CHECK(summary.files_changed == 0);
  CHECK(summary.files_unchanged == 0);
  CHECK(summary.dirs == 3); // the source itself, sub, emptydir
  CHECK(summary.bytes_total == regular_bytes(src));
  CHECK(summary.bytes_read == summary.bytes_total);
  CHECK(summary.blobs_added > 3);
  CHECK(summary.bytes_added > 0);
  CHECK(summary.bytes_added < summary.bytes_total + 64 * 1024); // random data barely grows
  REQUIRE(summary.snapshot_id.size() == 64);

  auto snapshot = unwrap(f.repo().find_snapshot(summary.snapshot_id), "find");
  CHECK(snapshot.host == "test-host");
  CHECK(snapshot.hostname == core::host_name());
  REQUIRE(snapshot.sources.size() == 1);
  CHECK(snapshot.sources[0].name == "data");
  CHECK(snapshot.sources[0].path == src.string());
  CHECK(snapshot.files == static_cast<uint64_t>(files));
  CHECK(snapshot.bytes == summary.bytes_total);
  int64_t now = core::now_ns();
  CHECK(snapshot.time_ns <= now);
  CHECK(snapshot.time_ns > now - 3600ll * 1000000000);

  auto nodes = f.nodes(summary.snapshot_id);
  CHECK(nodes.at("data").type == repo::NodeType::dir);
  CHECK(nodes.at("data/fifo").type == repo::NodeType::fifo);
  CHECK(nodes.at("data/link").type == repo::NodeType::symlink);
  CHECK(nodes.at("data/link").link_target == "small.txt");
  CHECK(nodes.at("data/dangling").link_target == "/nowhere/\xff\xfe");
  CHECK(nodes.at("data/" + k_newline_name).type == repo::NodeType::file);
  CHECK(nodes.at("data/" + k_invalid_name).type == repo::NodeType::file);
  CHECK(nodes.at("data/empty").content.empty());
  CHECK(nodes.at("data/big.bin").content.size() >= 2);
  CHECK(nodes.at("data/hard1").links == 2);

  SECTION("restore reproduces the tree") {
    auto out = dir / "restore";
    auto restored = f.restore(summary.snapshot_id, out);
    CHECK(restored.damaged.empty());
    CHECK(restored.warnings.empty());
    CHECK(restored.files == static_cast<uint64_t>(files) - 1); // the second hard link is a link
    CHECK(restored.bytes == regular_bytes(src) - fs::file_size(src / "hard1"));
    test::compare_trees(src, out / "data");
    CHECK(fs::is_directory(out / "data" / "emptydir"));
    CHECK(fs::is_empty(out / "data" / "emptydir"));
    CHECK(fs::is_fifo(fs::symlink_status(out / "data" / "fifo")));
    CHECK(fs::read_symlink(out / "data" / "link") == "small.txt");
    struct stat first{}, second{};
    REQUIRE(::stat((out / "data" / "hard1").c_str(), &first) == 0);
    REQUIRE(::stat((out / "data" / "sub" / "hard2").c_str(), &second) == 0);
    CHECK(first.st_ino == second.st_ino);
    CHECK(first.st_nlink == 2);
    struct stat priv{};
    REQUIRE(::stat((out / "data" / "private").c_str(), &priv) == 0);
    CHECK((priv.st_mode & 07777) == 0640);
    CHECK(test::mtime_ns(priv) == k_private_mtime);
    CHECK_FALSE(has_leftover_temp(out));
  }

  SECTION("restore from a freshly opened repository") {
    f.reopen();
    auto out = dir / "restore2";
    auto restored = f.restore(summary.snapshot_id.substr(0, 8), out);
    CHECK(restored.damaged.empty());
    test::compare_trees(src, out / "data");
  }

  SECTION("restore of selected paths only") {
    auto out = dir / "partial";
    auto snap = unwrap(f.repo().find_snapshot("latest"), "latest");
    repo::RestoreOptions options;
    options.target_dir = out;
    options.includes = {"data/sub"};
    auto restored = unwrap(repo::restore(f.repo(), snap, options), "restore");
    CHECK(fs::exists(out / "data" / "sub" / "nested.txt"));
    CHECK_FALSE(fs::exists(out / "data" / "small.txt"));
    CHECK_FALSE(fs::exists(out / "data" / "emptydir"));
  }

  SECTION("a second archive with the files cache reads nothing") {
    auto second = f.archive(src);
    CHECK(second.warnings.empty());
    CHECK(second.files_unchanged == static_cast<uint64_t>(files));
    CHECK(second.files_new == 0);
    CHECK(second.files_changed == 0);
    CHECK(second.bytes_read == 0);
    CHECK(second.bytes_total == summary.bytes_total);
    CHECK(second.blobs_added == 0); // every tree is unchanged too
    CHECK(second.bytes_added > 0);     // the snapshot file
    CHECK(second.bytes_added < 4096);  // and nothing else
    CHECK(second.snapshot_id != summary.snapshot_id);
    auto first_nodes = f.nodes(summary.snapshot_id);
    auto second_nodes = f.nodes(second.snapshot_id);
    CHECK(first_nodes.at("data/big.bin").content == second_nodes.at("data/big.bin").content);
    CHECK(first_nodes.at("data").subtree == second_nodes.at("data").subtree);

    SECTION("a changed file is read again, the others are not") {
      test::write_text(src / "small.txt", "hello, changed world\n");
      auto third = f.archive(src);
      CHECK(third.files_changed == 1);
      CHECK(third.files_unchanged == static_cast<uint64_t>(files) - 1);
      CHECK(third.bytes_read == fs::file_size(src / "small.txt"));
    }
  }
}

TEST_CASE("archive: opening failures are clear errors", "[repo][archive]") {
  ScratchDir dir;
  RepoFixture f(dir);

  SECTION("a wrong passphrase") {
    auto opened = repo::Repository::open(repo::make_local_backend(f.repo_path().string()),
                                         crypto::SecretBytes::copy_of(core::as_bytes("not the passphrase")));
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code() == Errc::wrong_passphrase);
  }
  SECTION("an empty directory") {
    fs::create_directories(dir / "empty");
    auto opened = repo::Repository::open(repo::make_local_backend((dir / "empty").string()),
                                         crypto::SecretBytes::copy_of(core::as_bytes(RepoFixture::k_passphrase)));
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code() == Errc::repo_missing);
  }
  SECTION("a directory that does not exist") {
    auto opened = repo::Repository::open(repo::make_local_backend((dir / "nothing-here").string()),
                                         crypto::SecretBytes::copy_of(core::as_bytes(RepoFixture::k_passphrase)));
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code() == Errc::repo_missing);
  }
  SECTION("init over an existing repository") {
    auto backend = repo::make_local_backend(f.repo_path().string());
    auto again = repo::Repository::init(*backend, crypto::SecretBytes::copy_of(core::as_bytes("x")),
                                        {crypto::KdfProfile::interactive, "h"});
    REQUIRE_FALSE(again);
    CHECK(again.error().code() == Errc::already_exists);
  }
  SECTION("a second key opens the same repository") {
    auto second = crypto::SecretBytes::copy_of(core::as_bytes("second passphrase"));
    unwrap(f.repo().add_key(second, crypto::KdfProfile::interactive, "test-host"), "add key");
    auto opened = unwrap(repo::Repository::open(repo::make_local_backend(f.repo_path().string()), second), "open");
    CHECK(opened->id() == f.repo().id());
  }
}

TEST_CASE("archive: a file deleted just before it is read is skipped with a warning", "[repo][archive]") {
  ScratchDir dir;
  RepoFixture f(dir);
  auto src = dir / "src";
  fs::create_directories(src);
  test::write_text(src / "keep.txt", "still here\n");
  test::write_text(src / "doomed.txt", "about to vanish\n");
  auto doomed = (src / "doomed.txt").string();

  std::atomic<int> calls = 0; // small files are read on the archiver's worker threads
  auto summary = f.archive(src, [&](const std::string& path) {
    ++calls;
    if (path == doomed) fs::remove(path);
  });
  CHECK(calls == 2);
  REQUIRE(summary.warnings.size() == 1);
  CHECK(summary.warnings[0].find(doomed) != std::string::npos);
  CHECK(summary.files_new == 1);
  auto nodes = f.nodes(summary.snapshot_id);
  CHECK(nodes.count("data/keep.txt") == 1);
  CHECK(nodes.count("data/doomed.txt") == 0);

  auto restored = f.restore(summary.snapshot_id, dir / "out");
  CHECK(restored.damaged.empty());
  CHECK(fs::exists(dir / "out" / "data" / "keep.txt"));
  CHECK_FALSE(fs::exists(dir / "out" / "data" / "doomed.txt"));
}

TEST_CASE("check: a fresh archive is ok, a flipped byte in a pack is found and named", "[repo][check]") {
  ScratchDir dir;
  RepoFixture f(dir);
  auto src = dir / "src";
  int files = make_source_tree(src);
  auto summary = f.archive(src);
  REQUIRE(summary.warnings.empty());

  auto clean = unwrap(repo::check(f.repo(), {}), "check");
  CHECK(clean.ok());
  CHECK(clean.snapshots == 1);
  CHECK(clean.packs >= 2); // data and trees are packed apart
  CHECK(clean.packs_read == 0);
  repo::CheckOptions read_all;
  read_all.read_data = repo::CheckOptions::ReadData::all;
  auto full = unwrap(repo::check(f.repo(), read_all), "check --read-data");
  CHECK(full.ok());
  CHECK(full.errors.empty());
  CHECK(full.damaged_packs.empty());
  CHECK(full.damaged_files.empty());
  CHECK(full.packs_read == full.packs);
  CHECK(full.blobs_read == full.blobs);

  // Damage the middle of big.bin's first blob.
  auto nodes = f.nodes(summary.snapshot_id);
  const auto& big = nodes.at("data/big.bin");
  REQUIRE_FALSE(big.content.empty());
  auto location = f.repo().index().find(big.content.front());
  REQUIRE(location);
  auto pack_file = f.pack_path(location->pack);
  REQUIRE(fs::exists(pack_file));
  {
    std::fstream io(pack_file, std::ios::in | std::ios::out | std::ios::binary);
    auto position = static_cast<std::streamoff>(location->blob.offset + location->blob.length / 2);
    io.seekg(position);
    char byte = 0;
    io.read(&byte, 1);
    io.seekp(position);
    byte = static_cast<char>(byte ^ 0x40);
    io.write(&byte, 1);
    REQUIRE(io.good());
  }

  SECTION("check without reading data sees a sound structure") {
    CHECK(unwrap(repo::check(f.repo(), {}), "check").ok());
  }

  SECTION("check --read-data names the pack and the file") {
    auto report = unwrap(repo::check(f.repo(), read_all), "check --read-data");
    CHECK_FALSE(report.ok());
    bool names_pack = false;
    for (const auto& error : report.errors) names_pack = names_pack || error.find(location->pack) != std::string::npos;
    CHECK(names_pack);
    CHECK(report.damaged_packs == std::vector<std::string>{location->pack});
    CHECK(report.damaged_files ==
          std::vector<std::string>{"snapshot " + summary.snapshot_id.substr(0, 8) + ": data/big.bin"});
  }

  SECTION("restore writes the undamaged files and reports the damaged one") {
    auto out = dir / "restore";
    auto restored = f.restore(summary.snapshot_id, out);
    CHECK(restored.damaged == std::vector<std::string>{"data/big.bin"});
    CHECK_FALSE(fs::exists(out / "data" / "big.bin"));
    CHECK(restored.files == static_cast<uint64_t>(files) - 2); // big.bin, and hard2 is a link
    CHECK_FALSE(has_leftover_temp(out));
    test::compare_trees(src, out / "data", {"big.bin"});
  }
}
