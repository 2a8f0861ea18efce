#include "anemone/state/db.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include <sqlite3.h>

#include "anemone/core/fs.hpp"
#include "anemone/state/migrations.hpp"

namespace anemone::state {

using core::Errc;
using core::fail;

namespace {
core::Error sqlite_error(sqlite3* db, std::string_view what) {
  int code = sqlite3_errcode(db);
  Errc errc = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? Errc::locked
              : code == SQLITE_FULL                         ? Errc::no_space
                                                            : Errc::io;
  return core::Error(errc, fmt::format("{}: {}", what, sqlite3_errmsg(db)));
}
// All pages in one step: the source is read under one read transaction, so the copy is a single
// consistent state; writers in other processes (WAL) are not blocked meanwhile. A busy database is
// tried again for up to 10 s. Finishes the backup; returns the last step's code.
int run_backup(sqlite3_backup* backup) {
  int step = SQLITE_OK;
  for (int attempt = 0; attempt < 100; ++attempt) {
    step = sqlite3_backup_step(backup, -1);
    if (step != SQLITE_BUSY && step != SQLITE_LOCKED) break;
    sqlite3_sleep(100);
  }
  sqlite3_backup_finish(backup);
  return step;
}
} // namespace

void Db::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void Stmt::Finalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

core::Result<Db> Db::open(const std::filesystem::path& path) {
  if (path.has_parent_path()) TRY(core::make_directories(path.parent_path(), 0700));
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  std::unique_ptr<sqlite3, Closer> handle(raw);
  if (rc != SQLITE_OK)
    return tl::unexpected(sqlite_error(raw, fmt::format("open state file {}", path.string())));
  sqlite3_busy_timeout(raw, 10000);
  Db db(std::move(handle), path);
  TRY_CTX(db.exec("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"),
          fmt::format("state file {}", path.string()));
  TRY_CTX(db.migrate(), fmt::format("state file {}", path.string()));
  return db;
}

core::Result<void> Db::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  if (sqlite3_exec(m_handle.get(), text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string reason = message ? message : "unknown error";
    sqlite3_free(message);
    auto error = sqlite_error(m_handle.get(), "sql");
    return fail(error.code(), reason);
  }
  return {};
}

core::Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(m_handle.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK)
    return tl::unexpected(sqlite_error(m_handle.get(), fmt::format("prepare '{}'", sql)));
  return Stmt(std::unique_ptr<sqlite3_stmt, Stmt::Finalizer>(raw), m_handle.get());
}

core::Result<void> Db::copy_to(const std::filesystem::path& destination) {
  std::error_code ignored;
  std::filesystem::remove(destination, ignored);
  // Created 0600 before SQLite opens it: the copy holds what the state does.
  core::UniqueFd fd(::open(destination.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return core::fail_errno("create " + destination.string(), errno);
  fd.reset();
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(destination.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  std::unique_ptr<sqlite3, Closer> copy(raw);
  if (rc != SQLITE_OK) return tl::unexpected(sqlite_error(raw, "open the copy " + destination.string()));
  sqlite3_backup* backup = sqlite3_backup_init(copy.get(), "main", m_handle.get(), "main");
  if (!backup) return tl::unexpected(sqlite_error(copy.get(), "start the online backup of " + m_path.string()));
  int step = run_backup(backup);
  if (step != SQLITE_DONE)
    return core::fail(Errc::io, "online backup of {}: {}", m_path.string(), sqlite3_errstr(step));
  return {};
}

core::Result<void> Db::replace_with(const std::filesystem::path& source) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(source.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, Closer> from(raw);
  if (rc != SQLITE_OK) return tl::unexpected(sqlite_error(raw, "open " + source.string()));
  sqlite3_backup* backup = sqlite3_backup_init(m_handle.get(), "main", from.get(), "main");
  if (!backup) return tl::unexpected(sqlite_error(m_handle.get(), "replace " + m_path.string()));
  int step = run_backup(backup);
  if (step != SQLITE_DONE)
    return core::fail(Errc::io, "replace {} with {}: {}", m_path.string(), source.string(), sqlite3_errstr(step));
  return {};
}

int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(m_handle.get()); }

core::Result<int> Db::read_user_version() {
  // The statement is finalized before returning: an open read statement would keep this
  // connection's read transaction alive, and BEGIN IMMEDIATE would then fail at once with
  // SQLITE_BUSY instead of waiting for another process that is migrating the same new file.
  auto version_stmt = TRY(prepare("PRAGMA user_version"));
  TRY(version_stmt.step());
  return static_cast<int>(version_stmt.column_int(0));
}

core::Result<void> Db::migrate() {
  m_version = TRY(read_user_version());
  const auto& steps = migrations();
  int newest = static_cast<int>(steps.size());
  while (m_version < newest) {
    auto txn = TRY(Txn::begin(*this));
    // Another process may have migrated while this one waited for the write lock.
    m_version = TRY(read_user_version());
    if (m_version >= newest) break;
    int next = m_version;
    TRY_CTX(exec(steps[static_cast<size_t>(next)]), fmt::format("migration to schema version {}", next + 1));
    TRY(exec(fmt::format("PRAGMA user_version={}", next + 1)));
    TRY(txn.commit());
    m_version = next + 1;
  }
  if (m_version > newest)
    return fail(Errc::failed,
                "schema version {} is newer than this program understands ({}); upgrade the program, the "
                "state file is left untouched",
                m_version, newest);
  return {};
}

Stmt& Stmt::bind(int index, int64_t value) {
  sqlite3_bind_int64(m_handle.get(), index, value);
  return *this;
}
Stmt& Stmt::bind(int index, std::string_view value) {
  sqlite3_bind_text(m_handle.get(), index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind(int index, core::ByteView value) {
  // An empty span may carry a null pointer, which SQLite would store as NULL: bind a zero-length blob.
  if (value.empty()) sqlite3_bind_zeroblob(m_handle.get(), index, 0);
  else sqlite3_bind_blob(m_handle.get(), index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind_null(int index) {
  sqlite3_bind_null(m_handle.get(), index);
  return *this;
}

core::Result<bool> Stmt::step() {
  int rc = sqlite3_step(m_handle.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  auto error = sqlite_error(m_db, fmt::format("execute '{}'", sqlite3_sql(m_handle.get())));
  sqlite3_reset(m_handle.get());
  return tl::unexpected(error);
}

core::Result<void> Stmt::run() {
  while (TRY(step())) {
  }
  reset();
  return {};
}

void Stmt::reset() {
  sqlite3_reset(m_handle.get());
  sqlite3_clear_bindings(m_handle.get());
}

int64_t Stmt::column_int(int index) const { return sqlite3_column_int64(m_handle.get(), index); }
std::string Stmt::column_text(int index) const {
  auto text = sqlite3_column_text(m_handle.get(), index);
  int size = sqlite3_column_bytes(m_handle.get(), index);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size)) : std::string();
}
core::Bytes Stmt::column_blob(int index) const {
  auto data = static_cast<const uint8_t*>(sqlite3_column_blob(m_handle.get(), index));
  int size = sqlite3_column_bytes(m_handle.get(), index);
  return data ? core::Bytes(data, data + size) : core::Bytes();
}
bool Stmt::column_is_null(int index) const { return sqlite3_column_type(m_handle.get(), index) == SQLITE_NULL; }

core::Result<Txn> Txn::begin(Db& db) {
  TRY(db.exec("BEGIN IMMEDIATE"));
  return Txn(&db);
}

Txn::~Txn() {
  if (m_db) (void)m_db->exec("ROLLBACK");
}

core::Result<void> Txn::commit() {
  Db* db = std::exchange(m_db, nullptr);
  auto result = db->exec("COMMIT");
  if (!result) (void)db->exec("ROLLBACK");
  return result;
}

} // namespace anemone::state
