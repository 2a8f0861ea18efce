#pragma once
// An initialised repository on the local backend in a scratch directory, with a state file, and
// helpers to archive a source tree, restore a snapshot and compare two directory trees.
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sodium.h>

#include "anemone/core/bytes.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/repo/archiver.hpp"
#include "anemone/repo/repository.hpp"
#include "anemone/repo/restorer.hpp"
#include "anemone/repo/walker.hpp"
#include "anemone/state/db.hpp"
#include "anemone/state/files_cache.hpp"
#include "../scratch.hpp"

namespace anemone::test {

// The value of a Result, or a test failure quoting its error.
template <typename T> T unwrap(core::Result<T>&& result, std::string_view what) {
  if (!result) FAIL(what << ": " << core::errc_name(result.error().code()) << ": " << result.error().message());
  return std::move(*result);
}
inline void unwrap(core::Result<void>&& result, std::string_view what) {
  if (!result) FAIL(what << ": " << core::errc_name(result.error().code()) << ": " << result.error().message());
}

inline core::Bytes pseudo_random(size_t size, uint8_t seed_byte) {
  core::Bytes out(size);
  unsigned char seed[randombytes_SEEDBYTES] = {seed_byte, 0xa5};
  randombytes_buf_deterministic(out.data(), out.size(), seed);
  return out;
}

inline void write_bytes(const std::filesystem::path& path, core::ByteView data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  REQUIRE(out.good());
}
inline void write_text(const std::filesystem::path& path, std::string_view text) { write_bytes(path, core::as_bytes(text)); }

inline core::Bytes read_bytes(const std::filesystem::path& path) { return unwrap(core::read_file(path), path.string()); }

inline void set_mtime(const std::filesystem::path& path, int64_t time_ns) {
  timespec times[2] = {{time_ns / 1000000000, time_ns % 1000000000}, {time_ns / 1000000000, time_ns % 1000000000}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

inline int64_t mtime_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// Every entry below `root` (relative path -> lstat), symlinks not followed.
inline std::map<std::string, struct stat> scan(const std::filesystem::path& root) {
  std::map<std::string, struct stat> entries;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    struct stat st{};
    REQUIRE(::lstat(entry.path().c_str(), &st) == 0);
    entries.emplace(std::filesystem::relative(entry.path(), root).string(), st);
  }
  return entries;
}

// The restored tree matches the source: names, types, permissions, owners, mtimes, contents, link
// targets and link counts. `missing` names entries expected absent from the restore.
inline void compare_trees(const std::filesystem::path& source, const std::filesystem::path& restored,
                          const std::vector<std::string>& missing = {}) {
  auto expected = scan(source);
  auto actual = scan(restored);
  for (const auto& name : missing) {
    INFO("expected absent: " << name);
    CHECK(actual.count(name) == 0);
    expected.erase(name);
  }
  std::vector<std::string> expected_names, actual_names;
  for (const auto& [name, st] : expected) expected_names.push_back(name);
  for (const auto& [name, st] : actual) actual_names.push_back(name);
  REQUIRE(expected_names == actual_names);

  for (const auto& [name, want] : expected) {
    const auto& got = actual.at(name);
    INFO("entry " << name);
    REQUIRE((got.st_mode & S_IFMT) == (want.st_mode & S_IFMT));
    CHECK(got.st_uid == want.st_uid);
    CHECK(got.st_gid == want.st_gid);
    CHECK(mtime_ns(got) == mtime_ns(want));
    if (!S_ISLNK(want.st_mode)) CHECK((got.st_mode & 07777) == (want.st_mode & 07777));
    if (S_ISREG(want.st_mode)) {
      CHECK(got.st_size == want.st_size);
      CHECK(got.st_nlink == want.st_nlink);
      CHECK((read_bytes(restored / name) == read_bytes(source / name)));
    }
    if (S_ISLNK(want.st_mode))
      CHECK(std::filesystem::read_symlink(restored / name) == std::filesystem::read_symlink(source / name));
  }
  // The root directory itself.
  struct stat want{}, got{};
  REQUIRE(::stat(source.c_str(), &want) == 0);
  REQUIRE(::stat(restored.c_str(), &got) == 0);
  CHECK((got.st_mode & 07777) == (want.st_mode & 07777));
  CHECK(mtime_ns(got) == mtime_ns(want));
}

class RepoFixture {
public:
  static constexpr const char* k_passphrase = "correct horse battery staple";
  static constexpr const char* k_target = "test-target";

  explicit RepoFixture(const ScratchDir& dir)
      : m_repo_path(dir / "repo"), m_passphrase(crypto::SecretBytes::copy_of(core::as_bytes(k_passphrase))) {
    auto backend = repo::make_local_backend(m_repo_path.string());
    unwrap(repo::Repository::init(*backend, m_passphrase, {crypto::KdfProfile::interactive, "test-host"}), "init");
    reopen();
    m_db.emplace(unwrap(state::Db::open(dir / "state.db"), "open state"));
  }

  repo::Repository& repo() { return *m_repo; }
  const std::filesystem::path& repo_path() const { return m_repo_path; }
  state::Db& db() { return *m_db; }

  void reopen() {
    m_repo.reset();
    m_repo = unwrap(repo::Repository::open(repo::make_local_backend(m_repo_path.string()), m_passphrase), "open");
    unwrap(m_repo->load_index(), "load index");
  }

  // One archive run as backup-sender does it: load the files cache, archive, save the cache.
  repo::ArchiveSummary archive(const std::filesystem::path& source,
                               std::function<void(const std::string&)> before_read_file = {}) {
    auto cache = unwrap(state::FilesCache::load(*m_db, k_target, m_repo->id()), "load files cache");
    repo::ArchiveOptions options;
    options.sources = {config::Source{"data", source, {}}};
    options.host = "test-host";
    options.before_read_file = std::move(before_read_file);
    auto summary = unwrap(repo::archive(*m_repo, cache, options), "archive");
    unwrap(cache.save(*m_db), "save files cache");
    return summary;
  }

  repo::RestoreSummary restore(const std::string& snapshot_id, const std::filesystem::path& target) {
    auto snapshot = unwrap(m_repo->find_snapshot(snapshot_id), "find snapshot");
    repo::RestoreOptions options;
    options.target_dir = target;
    return unwrap(repo::restore(*m_repo, snapshot, options), "restore");
  }

  // Snapshot paths ("data/sub/x") -> node.
  std::map<std::string, repo::Node> nodes(const std::string& snapshot_id) {
    auto snapshot = unwrap(m_repo->find_snapshot(snapshot_id), "find snapshot");
    std::map<std::string, repo::Node> out;
    unwrap(repo::walk_tree(*m_repo, snapshot.tree, "",
                           [&](const std::string& path, const repo::Node& node) -> core::Result<void> {
                             out.emplace(path, node);
                             return {};
                           }),
           "walk");
    return out;
  }

  uint64_t pack_bytes() {
    uint64_t total = 0;
    for (const auto& file : unwrap(m_repo->backend().list(repo::FileType::pack), "list packs")) total += file.size;
    return total;
  }

  std::filesystem::path pack_path(const std::string& pack_id) const {
    return m_repo_path / "data" / pack_id.substr(0, 2) / pack_id;
  }

private:
  std::filesystem::path m_repo_path;
  crypto::SecretBytes m_passphrase;
  std::unique_ptr<repo::Repository> m_repo;
  std::optional<state::Db> m_db;
};

} // namespace anemone::test
