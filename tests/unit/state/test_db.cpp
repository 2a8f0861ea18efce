// The SQLite state file: WAL, migrations, refusal of newer files, transactions, the files cache and
// the run history.
#include <fstream>

#include <catch2/catch.hpp>

#include "anemone/core/time.hpp"
#include "anemone/state/db.hpp"
#include "anemone/state/files_cache.hpp"
#include "anemone/state/migrations.hpp"
#include "anemone/state/runs.hpp"
#include "../scratch.hpp"

using namespace anemone;

namespace {

int64_t count_rows(state::Db& db, std::string_view sql) {
  auto stmt = db.prepare(sql);
  REQUIRE(stmt);
  auto row = stmt->step();
  REQUIRE(row);
  REQUIRE(*row);
  return stmt->column_int(0);
}

std::string pragma_text(state::Db& db, std::string_view pragma) {
  auto stmt = db.prepare(pragma);
  REQUIRE(stmt);
  auto row = stmt->step();
  REQUIRE(row);
  REQUIRE(*row);
  return stmt->column_text(0);
}

state::CachedFile cached(uint64_t inode, size_t blobs) {
  state::CachedFile entry;
  entry.device = 2049;
  entry.inode = inode;
  entry.size = 1000 + inode;
  entry.mtime_ns = 1700000000123456789 + static_cast<int64_t>(inode);
  entry.ctime_ns = 1700000001987654321 + static_cast<int64_t>(inode);
  for (size_t i = 0; i < blobs * 32; ++i) entry.content.push_back(static_cast<uint8_t>(i * 3 + inode));
  return entry;
}

void check_same(const state::CachedFile* found, const state::CachedFile& expected) {
  REQUIRE(found);
  CHECK(found->matches(expected));
  CHECK(found->device == expected.device);
  CHECK(found->inode == expected.inode);
  CHECK(found->size == expected.size);
  CHECK(found->mtime_ns == expected.mtime_ns);
  CHECK(found->ctime_ns == expected.ctime_ns);
  CHECK(found->content == expected.content);
}

} // namespace

TEST_CASE("state db: open creates a WAL file at the newest schema", "[state]") {
  anemone::test::ScratchDir dir;
  auto path = dir / "sub" / "dir" / "anemone.db";
  auto db = state::Db::open(path);
  REQUIRE(db);
  CHECK(std::filesystem::is_regular_file(path));
  CHECK(db->path() == path);
  CHECK(pragma_text(*db, "PRAGMA journal_mode") == "wal");
  CHECK(count_rows(*db, "PRAGMA foreign_keys") == 1);
  CHECK(db->schema_version() == static_cast<int>(state::migrations().size()));
  CHECK(count_rows(*db, "PRAGMA user_version") == static_cast<int64_t>(state::migrations().size()));
  CHECK(count_rows(*db, "SELECT count(*) FROM runs") == 0);
  CHECK(count_rows(*db, "SELECT count(*) FROM files_cache") == 0);
}

TEST_CASE("state db: re-open keeps data and does not migrate again", "[state]") {
  anemone::test::ScratchDir dir;
  auto path = dir / "anemone.db";
  int64_t run_id = 0;
  {
    auto db = state::Db::open(path);
    REQUIRE(db);
    auto id = state::begin_run(*db, "backup-sender", "run", "offsite");
    REQUIRE(id);
    run_id = *id;
  }
  auto db = state::Db::open(path);
  REQUIRE(db);
  CHECK(db->schema_version() == static_cast<int>(state::migrations().size()));
  auto runs = state::recent_runs(*db, "offsite", 10);
  REQUIRE(runs);
  REQUIRE(runs->size() == 1);
  CHECK(runs->front().id == run_id);
  CHECK(runs->front().tool == "backup-sender");
  CHECK(pragma_text(*db, "PRAGMA journal_mode") == "wal");
}

TEST_CASE("state db: a file from a newer program is refused and left alone", "[state]") {
  anemone::test::ScratchDir dir;
  auto path = dir / "anemone.db";
  int newer = static_cast<int>(state::migrations().size()) + 1;
  {
    auto db = state::Db::open(path);
    REQUIRE(db);
    REQUIRE(state::begin_run(*db, "tool", "cmd", "target"));
    REQUIRE(db->exec(fmt::format("PRAGMA user_version={}", newer)));
  }
  auto refused = state::Db::open(path);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("newer") != std::string::npos);
  CHECK(refused.error().message().find(path.string()) != std::string::npos);
  // Refused again (nothing was rewritten or downgraded on the way).
  auto again = state::Db::open(path);
  REQUIRE_FALSE(again);
  CHECK(again.error().message().find("newer") != std::string::npos);
  CHECK(std::filesystem::file_size(path) > 0);
}

TEST_CASE("state db: a file that is not SQLite is an error, not a crash", "[state]") {
  anemone::test::ScratchDir dir;
  auto path = dir / "anemone.db";
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(8192, 'x');
  }
  auto db = state::Db::open(path);
  REQUIRE_FALSE(db);
  CHECK(db.error().message().find(path.string()) != std::string::npos);
}

TEST_CASE("state db: a transaction rolls back unless committed", "[state]") {
  anemone::test::ScratchDir dir;
  auto db = state::Db::open(dir / "anemone.db");
  REQUIRE(db);
  REQUIRE(db->exec("CREATE TABLE t (x INTEGER)"));
  {
    auto txn = state::Txn::begin(*db);
    REQUIRE(txn);
    REQUIRE(db->exec("INSERT INTO t VALUES (1)"));
    CHECK(count_rows(*db, "SELECT count(*) FROM t") == 1); // visible inside
  }
  CHECK(count_rows(*db, "SELECT count(*) FROM t") == 0);
  {
    auto txn = state::Txn::begin(*db);
    REQUIRE(txn);
    REQUIRE(db->exec("INSERT INTO t VALUES (2)"));
    REQUIRE(txn->commit());
  }
  CHECK(count_rows(*db, "SELECT count(*) FROM t") == 1);
  {
    // A moved transaction rolls back once, from its new owner.
    auto txn = state::Txn::begin(*db);
    REQUIRE(txn);
    REQUIRE(db->exec("INSERT INTO t VALUES (3)"));
    state::Txn moved = std::move(*txn);
  }
  CHECK(count_rows(*db, "SELECT count(*) FROM t") == 1);
  // After all that the connection still accepts new transactions.
  auto txn = state::Txn::begin(*db);
  REQUIRE(txn);
  REQUIRE(txn->commit());

  SECTION("statements bind and read back every type") {
    REQUIRE(db->exec("CREATE TABLE v (i INTEGER, s TEXT, b BLOB, n TEXT)"));
    auto insert = db->prepare("INSERT INTO v VALUES (?, ?, ?, ?)");
    REQUIRE(insert);
    core::Bytes blob = {0, 1, 2, 255};
    REQUIRE(insert->bind(1, int64_t{-5}).bind(2, std::string_view("t\0x", 3)).bind(3, core::ByteView(blob)).bind_null(4).run());
    auto select = db->prepare("SELECT i, s, b, n FROM v");
    REQUIRE(select);
    auto row = select->step();
    REQUIRE(row);
    REQUIRE(*row);
    CHECK(select->column_int(0) == -5);
    CHECK(select->column_text(1) == std::string("t\0x", 3));
    CHECK(select->column_blob(2) == blob);
    CHECK(select->column_is_null(3));
    CHECK_FALSE(select->column_is_null(0));
    auto done = select->step();
    REQUIRE(done);
    CHECK_FALSE(*done);
  }
  SECTION("bad SQL is an error") {
    CHECK_FALSE(db->exec("SELEKT 1"));
    CHECK_FALSE(db->prepare("SELECT * FROM no_such_table"));
  }
}

TEST_CASE("files cache: record, save and load round-trip", "[state]") {
  anemone::test::ScratchDir dir;
  auto db = state::Db::open(dir / "anemone.db");
  REQUIRE(db);
  auto cache = state::FilesCache::load(*db, "offsite", "repo-a");
  REQUIRE(cache);
  CHECK(cache->size() == 0);
  CHECK(cache->find("/srv/a") == nullptr);

  std::string odd_path = "/srv/new\nline/\xff\xfe";
  cache->record("/srv/a", cached(1, 3));
  cache->record(odd_path, cached(2, 1));
  cache->record("/srv/empty", cached(3, 0));
  REQUIRE(cache->save(*db));

  auto loaded = state::FilesCache::load(*db, "offsite", "repo-a");
  REQUIRE(loaded);
  CHECK(loaded->size() == 3);
  check_same(loaded->find("/srv/a"), cached(1, 3));
  check_same(loaded->find(odd_path), cached(2, 1));
  check_same(loaded->find("/srv/empty"), cached(3, 0));
  CHECK(loaded->find("/srv/b") == nullptr);

  SECTION("a save keeps only what this run recorded") {
    loaded->record("/srv/a", cached(1, 3));
    auto changed = cached(2, 2);
    changed.mtime_ns += 1;
    loaded->record(odd_path, changed);
    REQUIRE(loaded->save(*db));
    auto third = state::FilesCache::load(*db, "offsite", "repo-a");
    REQUIRE(third);
    CHECK(third->size() == 2);
    check_same(third->find("/srv/a"), cached(1, 3));
    check_same(third->find(odd_path), changed);
    CHECK(third->find("/srv/empty") == nullptr);
  }
  SECTION("entries of another repository are ignored, then replaced") {
    auto other = state::FilesCache::load(*db, "offsite", "repo-b");
    REQUIRE(other);
    CHECK(other->size() == 0);
    CHECK(other->find("/srv/a") == nullptr);
    other->record("/srv/c", cached(4, 1));
    REQUIRE(other->save(*db));
    auto back_to_a = state::FilesCache::load(*db, "offsite", "repo-a");
    REQUIRE(back_to_a);
    CHECK(back_to_a->size() == 0);
    auto b = state::FilesCache::load(*db, "offsite", "repo-b");
    REQUIRE(b);
    CHECK(b->size() == 1);
    check_same(b->find("/srv/c"), cached(4, 1));
  }
  SECTION("targets are separate") {
    auto local = state::FilesCache::load(*db, "local", "repo-a");
    REQUIRE(local);
    CHECK(local->size() == 0);
    local->record("/srv/a", cached(9, 1));
    REQUIRE(local->save(*db));
    auto offsite = state::FilesCache::load(*db, "offsite", "repo-a");
    REQUIRE(offsite);
    CHECK(offsite->size() == 3);
    check_same(offsite->find("/srv/a"), cached(1, 3));
  }
  SECTION("survives re-opening the state file") {
    db = state::Db::open(dir / "anemone.db");
    REQUIRE(db);
    auto reopened = state::FilesCache::load(*db, "offsite", "repo-a");
    REQUIRE(reopened);
    CHECK(reopened->size() == 3);
  }
}

TEST_CASE("runs: begin, finish and list the recent ones", "[state]") {
  anemone::test::ScratchDir dir;
  auto db = state::Db::open(dir / "anemone.db");
  REQUIRE(db);
  int64_t before = core::now_ns();
  auto first = state::begin_run(*db, "backup-sender", "run", "offsite");
  auto second = state::begin_run(*db, "backup-sender", "check", "local");
  auto third = state::begin_run(*db, "backup-sender", "prune", "offsite");
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE(third);
  CHECK(*first != *second);

  auto running = state::recent_runs(*db, "offsite", 10);
  REQUIRE(running);
  REQUIRE(running->size() == 2);
  CHECK((*running)[0].id == *third); // newest first
  CHECK((*running)[1].id == *first);
  CHECK((*running)[1].outcome == "running");
  CHECK((*running)[1].finished_ns == 0);
  CHECK((*running)[1].started_ns >= before);
  CHECK((*running)[1].command == "run");
  CHECK((*running)[1].target == "offsite");

  REQUIRE(state::finish_run(*db, *first, "ok", "0123abcd", "{\"files\":3}", ""));
  REQUIRE(state::finish_run(*db, *third, "failed", "", "", "pack upload failed"));
  auto finished = state::recent_runs(*db, "offsite", 10);
  REQUIRE(finished);
  REQUIRE(finished->size() == 2);
  const auto& failed = (*finished)[0];
  const auto& ok = (*finished)[1];
  CHECK(ok.outcome == "ok");
  CHECK(ok.snapshot_id == "0123abcd");
  CHECK(ok.summary_json == "{\"files\":3}");
  CHECK(ok.error.empty());
  CHECK(ok.finished_ns >= ok.started_ns);
  CHECK(failed.outcome == "failed");
  CHECK(failed.snapshot_id.empty());
  CHECK(failed.error == "pack upload failed");

  auto all = state::recent_runs(*db, "", 10);
  REQUIRE(all);
  CHECK(all->size() == 3);
  auto limited = state::recent_runs(*db, "", 1);
  REQUIRE(limited);
  REQUIRE(limited->size() == 1);
  CHECK(limited->front().id == *third);
  auto none = state::recent_runs(*db, "elsewhere", 10);
  REQUIRE(none);
  CHECK(none->empty());

  SECTION("snapshot summaries are recorded and forgotten") {
    state::SnapshotSummary summary{"offsite", "0123abcd", 1700000000000000000, "server-a", "data,etc", 3, 4096};
    REQUIRE(state::record_snapshot(*db, summary));
    REQUIRE(state::record_snapshot(*db, summary)); // idempotent
    CHECK(count_rows(*db, "SELECT count(*) FROM snapshots WHERE target = 'offsite'") == 1);
    REQUIRE(state::forget_snapshot(*db, "offsite", "0123abcd"));
    CHECK(count_rows(*db, "SELECT count(*) FROM snapshots") == 0);
  }
}
