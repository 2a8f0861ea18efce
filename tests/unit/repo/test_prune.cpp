// prune after a snapshot is forgotten, and repository locks.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "anemone/core/system.hpp"
#include "anemone/core/time.hpp"
#include "anemone/repo/checker.hpp"
#include "anemone/repo/lock.hpp"
#include "anemone/repo/pruner.hpp"
#include "repo_fixture.hpp"

using namespace anemone;
using anemone::test::RepoFixture;
using anemone::test::ScratchDir;
using anemone::test::unwrap;
using core::Errc;
namespace fs = std::filesystem;

namespace {

constexpr size_t k_mib = 1024 * 1024;

std::vector<std::string> names(repo::Repository& repo, repo::FileType type) {
  std::vector<std::string> out;
  for (const auto& file : unwrap(repo.backend().list(type), "list")) out.push_back(file.name);
  std::sort(out.begin(), out.end());
  return out;
}

std::string write_foreign_lock(repo::Repository& repo, const std::string& host, int pid, int64_t time_ns,
                               bool exclusive) {
  nlohmann::json doc = {
      {"host", host}, {"pid", pid}, {"time", core::format_utc_precise(time_ns)}, {"exclusive", exclusive}};
  std::string text = doc.dump();
  return unwrap(repo.save_file(repo::FileType::lock, core::as_bytes(text)), "write lock");
}

} // namespace

TEST_CASE("prune: data of a forgotten snapshot is removed, the rest stays restorable", "[repo][prune]") {
  ScratchDir dir;
  RepoFixture f(dir);
  auto src = dir / "src";
  fs::create_directories(src / "docs");
  test::write_bytes(src / "a.bin", test::pseudo_random(3 * k_mib, 11));
  test::write_bytes(src / "b.bin", test::pseudo_random(2 * k_mib, 12));
  test::write_text(src / "docs" / "c.txt", "kept across both snapshots\n");
  auto first = f.archive(src);

  auto old_a = f.nodes(first.snapshot_id).at("data/a.bin").content;
  auto old_b = f.nodes(first.snapshot_id).at("data/b.bin").content;
  REQUIRE_FALSE(old_a.empty());

  test::write_bytes(src / "a.bin", test::pseudo_random(3 * k_mib, 13));
  fs::remove(src / "b.bin");
  test::write_text(src / "d.txt", "new in the second snapshot\n");
  auto second = f.archive(src);
  CHECK(second.files_changed == 1);
  CHECK(second.files_unchanged == 1);
  CHECK(second.files_new == 1);
  auto kept_c = f.nodes(second.snapshot_id).at("data/docs/c.txt").content;
  REQUIRE(kept_c == f.nodes(first.snapshot_id).at("data/docs/c.txt").content);

  unwrap(f.repo().backend().remove(repo::FileType::snapshot, first.snapshot_id), "forget");
  uint64_t bytes_before = f.pack_bytes();
  auto packs_before = names(f.repo(), repo::FileType::pack);
  auto indexes_before = names(f.repo(), repo::FileType::index);

  auto lock = unwrap(repo::RepoLock::acquire(f.repo(), repo::LockKind::exclusive), "lock");

  SECTION("a dry run changes nothing") {
    auto planned = unwrap(repo::prune(f.repo(), {true}), "prune --dry-run");
    CHECK(planned.packs_deleted + planned.packs_repacked > 0);
    CHECK(planned.bytes_before == bytes_before);
    CHECK(names(f.repo(), repo::FileType::pack) == packs_before);
    CHECK(names(f.repo(), repo::FileType::index) == indexes_before);
    CHECK(f.pack_bytes() == bytes_before);
  }

  SECTION("prune") {
    auto planned = unwrap(repo::prune(f.repo(), {true}), "prune --dry-run");
    auto summary = unwrap(repo::prune(f.repo(), {}), "prune");
    CHECK(summary.packs_deleted + summary.packs_repacked > 0);
    CHECK(summary.packs_deleted == planned.packs_deleted);
    CHECK(summary.packs_repacked == planned.packs_repacked);
    CHECK(summary.blobs_removed > 0);
    uint64_t bytes_after = f.pack_bytes();
    CHECK(bytes_after < bytes_before);
    CHECK(bytes_before - bytes_after > 4 * k_mib); // old a.bin and b.bin were 5 MiB of random data
    CHECK(summary.bytes_before == bytes_before);
    CHECK(summary.bytes_after == bytes_after);
    CHECK(summary.bytes_freed == bytes_before - bytes_after);
    CHECK(names(f.repo(), repo::FileType::index).size() == 1);

    for (const auto& id : old_a) CHECK_FALSE(f.repo().has_blob(id));
    for (const auto& id : old_b) CHECK_FALSE(f.repo().has_blob(id));
    for (const auto& id : kept_c) CHECK(f.repo().has_blob(id));

    // What a later process sees, from the files alone.
    lock.reset();
    f.reopen();
    repo::CheckOptions read_all;
    read_all.read_data = repo::CheckOptions::ReadData::all;
    auto report = unwrap(repo::check(f.repo(), read_all), "check");
    INFO((report.errors.empty() ? std::string() : report.errors.front()));
    CHECK(report.ok());
    CHECK(report.warnings.empty()); // no pack outside the index
    CHECK(report.snapshots == 1);

    auto restored = f.restore(second.snapshot_id, dir / "restore");
    CHECK(restored.damaged.empty());
    test::compare_trees(src, dir / "restore" / "data");

    SECTION("a second prune finds nothing to do") {
      auto relock = unwrap(repo::RepoLock::acquire(f.repo(), repo::LockKind::exclusive), "lock");
      auto again = unwrap(repo::prune(f.repo(), {}), "prune again");
      CHECK(again.packs_deleted == 0);
      CHECK(again.packs_repacked == 0);
      CHECK(again.blobs_removed == 0);
      CHECK(f.pack_bytes() == bytes_after);
    }
  }
}

TEST_CASE("prune: packs left by an interrupted run are removed", "[repo][prune]") {
  ScratchDir dir;
  RepoFixture f(dir);
  auto src = dir / "src";
  fs::create_directories(src);
  test::write_text(src / "a.txt", "a\n");
  auto snapshot = f.archive(src);

  // A pack uploaded by a run that died before writing its index.
  auto data = test::pseudo_random(1000, 40);
  auto id = f.repo().blob_id(data);
  {
    repo::PackBuilder builder;
    builder.add(repo::BlobType::data, id, repo::encode_blob(f.repo().key().encryption, data), 1000);
    auto pack = builder.finish(f.repo().key().encryption);
    unwrap(f.repo().backend().save(repo::FileType::pack, pack.id, pack.data), "orphan pack");
  }
  auto warned = unwrap(repo::check(f.repo(), {}), "check");
  CHECK(warned.ok());
  CHECK(warned.warnings.size() == 1);

  auto lock = unwrap(repo::RepoLock::acquire(f.repo(), repo::LockKind::exclusive), "lock");
  auto summary = unwrap(repo::prune(f.repo(), {}), "prune");
  CHECK(summary.packs_deleted == 1);
  CHECK(summary.packs_repacked == 0);
  auto report = unwrap(repo::check(f.repo(), {}), "check");
  CHECK(report.ok());
  CHECK(report.warnings.empty());
  CHECK(f.restore(snapshot.snapshot_id, dir / "out").damaged.empty());
}

TEST_CASE("locks: shared locks coexist, an exclusive one conflicts and names the holder", "[repo][lock]") {
  ScratchDir dir;
  RepoFixture f(dir);
  auto& repo = f.repo();
  auto host = core::host_name();
  auto pid = std::to_string(::getpid());

  auto first = repo::RepoLock::acquire(repo, repo::LockKind::shared);
  REQUIRE(first);
  auto second = repo::RepoLock::acquire(repo, repo::LockKind::shared);
  REQUIRE(second);
  auto locks = unwrap(repo::list_locks(repo), "list locks");
  REQUIRE(locks.size() == 2);
  for (const auto& lock : locks) {
    CHECK(lock.host == host);
    CHECK(lock.pid == ::getpid());
    CHECK(lock.kind == repo::LockKind::shared);
    CHECK_FALSE(lock.stale);
    CHECK(lock.time_ns > core::now_ns() - 600ll * 1000000000);
  }

  auto exclusive = repo::RepoLock::acquire(repo, repo::LockKind::exclusive);
  REQUIRE_FALSE(exclusive);
  CHECK(exclusive.error().code() == Errc::locked);
  CHECK(exclusive.error().message().find(host) != std::string::npos);
  CHECK(exclusive.error().message().find(pid) != std::string::npos);
  CHECK(names(repo, repo::FileType::lock).size() == 2); // the refused attempt left no file

  first->reset();
  second->reset();
  CHECK(names(repo, repo::FileType::lock).empty()); // released locks are removed

  auto held = repo::RepoLock::acquire(repo, repo::LockKind::exclusive);
  REQUIRE(held);
  auto shared = repo::RepoLock::acquire(repo, repo::LockKind::shared);
  REQUIRE_FALSE(shared);
  CHECK(shared.error().code() == Errc::locked);
  CHECK(shared.error().message().find("exclusive") != std::string::npos);
  auto another = repo::RepoLock::acquire(repo, repo::LockKind::exclusive);
  REQUIRE_FALSE(another);
  CHECK(another.error().code() == Errc::locked);
}

TEST_CASE("locks: a lock of a dead process on this host is stale and removed", "[repo][lock]") {
  ScratchDir dir;
  RepoFixture f(dir);
  auto& repo = f.repo();
  auto stale_name = write_foreign_lock(repo, core::host_name(), anemone::test::dead_pid(), core::now_ns(), true);

  auto locks = unwrap(repo::list_locks(repo), "list locks");
  REQUIRE(locks.size() == 1);
  CHECK(locks[0].name == stale_name);
  CHECK(locks[0].stale);
  CHECK(locks[0].kind == repo::LockKind::exclusive);

  auto lock = repo::RepoLock::acquire(repo, repo::LockKind::exclusive);
  REQUIRE(lock);
  auto remaining = names(repo, repo::FileType::lock);
  REQUIRE(remaining.size() == 1);
  CHECK(remaining[0] != stale_name);
}

TEST_CASE("locks: other hosts' locks block while fresh, not once old", "[repo][lock]") {
  ScratchDir dir;
  RepoFixture f(dir);
  auto& repo = f.repo();
  const std::string other = "elsewhere.example";

  SECTION("a fresh shared lock elsewhere blocks only exclusive") {
    write_foreign_lock(repo, other, 1, core::now_ns(), false);
    auto shared = repo::RepoLock::acquire(repo, repo::LockKind::shared);
    CHECK(shared);
    shared->reset();
    auto exclusive = repo::RepoLock::acquire(repo, repo::LockKind::exclusive);
    REQUIRE_FALSE(exclusive);
    CHECK(exclusive.error().code() == Errc::locked);
    CHECK(exclusive.error().message().find(other) != std::string::npos);
    CHECK(exclusive.error().message().find("pid 1") != std::string::npos);
    CHECK(unwrap(repo::remove_locks(repo, repo::UnlockScope::stale), "unlock") == 0);
    CHECK(unwrap(repo::remove_locks(repo, repo::UnlockScope::all), "unlock --all") == 1);
    CHECK(repo::RepoLock::acquire(repo, repo::LockKind::exclusive));
  }
  SECTION("an old lock elsewhere is stale: it does not block, and unlock removes it") {
    int64_t old = core::now_ns() - (repo::k_lock_stale_after_seconds + 60) * 1000000000;
    auto name = write_foreign_lock(repo, other, 1, old, true);
    auto locks = unwrap(repo::list_locks(repo), "list locks");
    REQUIRE(locks.size() == 1);
    CHECK(locks[0].stale);
    {
      auto exclusive = repo::RepoLock::acquire(repo, repo::LockKind::exclusive);
      CHECK(exclusive);
    }
    // Another host's pid cannot be checked from here: its lock stays until unlocked.
    CHECK(names(repo, repo::FileType::lock) == std::vector<std::string>{name});
    CHECK(unwrap(repo::remove_locks(repo, repo::UnlockScope::stale), "unlock") == 1);
    CHECK(names(repo, repo::FileType::lock).empty());
  }
}

namespace {

// A peer over its quota: every write refused, reads and deletes allowed (what sftp-receiver-quota's
// over-quota sshd rule does).
class WriteRefusingBackend final : public repo::Backend {
public:
  explicit WriteRefusingBackend(std::unique_ptr<repo::Backend> inner) : m_inner(std::move(inner)) {}
  std::string location() const override { return m_inner->location(); }
  core::Result<void> create_layout() override { return refuse(); }
  core::Result<void> save(repo::FileType, const std::string&, core::ByteView) override { return refuse(); }
  core::Result<core::Bytes> load(repo::FileType type, const std::string& name, uint64_t offset, uint64_t length) override {
    return m_inner->load(type, name, offset, length);
  }
  core::Result<uint64_t> size(repo::FileType type, const std::string& name) override { return m_inner->size(type, name); }
  core::Result<void> remove(repo::FileType type, const std::string& name) override { return m_inner->remove(type, name); }
  core::Result<std::vector<repo::FileInfo>> list(repo::FileType type) override { return m_inner->list(type); }
  core::Result<size_t> remove_leftovers(Leftovers which) override { return m_inner->remove_leftovers(which); }

private:
  static core::Result<void> refuse() { return core::fail(Errc::failed, "write refused: permission denied"); }
  std::unique_ptr<repo::Backend> m_inner;
};

} // namespace

TEST_CASE("prune by deletion alone frees a forgotten snapshot's data where writes are refused", "[repo][prune]") {
  ScratchDir dir;
  RepoFixture f(dir);
  auto src = dir / "src";
  fs::create_directories(src);
  test::write_bytes(src / "old.bin", test::pseudo_random(3 * k_mib, 51));
  auto first = f.archive(src);
  fs::remove(src / "old.bin");
  test::write_bytes(src / "new.bin", test::pseudo_random(2 * k_mib, 52));
  auto second = f.archive(src);
  // A third run that died over quota: its pack is uploaded, no index names it.
  {
    repo::PackBuilder builder;
    auto data = test::pseudo_random(1000, 53);
    builder.add(repo::BlobType::data, f.repo().blob_id(data), repo::encode_blob(f.repo().key().encryption, data),
                static_cast<uint32_t>(data.size()));
    auto pack = builder.finish(f.repo().key().encryption);
    unwrap(f.repo().backend().save(repo::FileType::pack, pack.id, pack.data), "save orphan pack");
  }
  unwrap(f.repo().backend().remove(repo::FileType::snapshot, first.snapshot_id), "forget");
  uint64_t bytes_before = f.pack_bytes();
  auto indexes_before = names(f.repo(), repo::FileType::index);
  REQUIRE(indexes_before.size() == 2);

  auto refusing = unwrap(repo::Repository::open(std::make_unique<WriteRefusingBackend>(
                                                    repo::make_local_backend(f.repo_path().string())),
                                                crypto::SecretBytes::copy_of(core::as_bytes(RepoFixture::k_passphrase))),
                         "open through the refusing backend");
  unwrap(refusing->load_index(), "load index");
  SECTION("a full prune cannot work there") {
    CHECK_FALSE(repo::prune(*refusing, {}));
  }
  SECTION("delete-only prune") {
    repo::PruneOptions options;
    options.delete_only = true;
    auto summary = unwrap(repo::prune(*refusing, options), "prune by deletion");
    uint64_t bytes_after = f.pack_bytes();
    CHECK(bytes_before - bytes_after >= 3 * k_mib); // old.bin's pack and the orphan went
    CHECK(summary.bytes_freed == bytes_before - bytes_after);
    CHECK(summary.packs_deleted >= 2);
    CHECK(summary.packs_waiting == 0);
    auto indexes_after = names(f.repo(), repo::FileType::index);
    REQUIRE(indexes_after.size() == 1); // the first run's index named only unused packs
    CHECK(std::find(indexes_before.begin(), indexes_before.end(), indexes_after[0]) != indexes_before.end());

    f.reopen();
    repo::CheckOptions read_all;
    read_all.read_data = repo::CheckOptions::ReadData::all;
    auto report = unwrap(repo::check(f.repo(), read_all), "check");
    INFO((report.errors.empty() ? std::string() : report.errors.front()));
    CHECK(report.ok());
    CHECK(report.warnings.empty());
    auto restored = f.restore(second.snapshot_id, dir / "restore");
    CHECK(restored.damaged.empty());
    test::compare_trees(src, dir / "restore" / "data");
  }
}
