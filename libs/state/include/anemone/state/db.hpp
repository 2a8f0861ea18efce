#pragma once
// The one SQLite state file every tool shares: WAL, a busy timeout, foreign keys, and migrations
// ordered by PRAGMA user_version. A file newer than this binary is refused, never rebuilt.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "anemone/core/bytes.hpp"
#include "anemone/core/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace anemone::state {

class Stmt;

class Db {
public:
  static core::Result<Db> open(const std::filesystem::path& path);
  Db(Db&&) noexcept = default;
  Db& operator=(Db&&) noexcept = default;

  core::Result<Stmt> prepare(std::string_view sql);
  core::Result<void> exec(std::string_view sql);
  int schema_version() const { return m_version; }
  int64_t last_insert_rowid() const;
  // SQLite's online backup into a new file at `destination` (0600): a consistent copy, taken while
  // other processes keep writing (a file copy of a WAL database is not one).
  core::Result<void> copy_to(const std::filesystem::path& destination);
  // The reverse: this database's content replaced by the file at `source`, through SQLite (its
  // locks and WAL stay consistent for other processes that have the file open).
  core::Result<void> replace_with(const std::filesystem::path& source);
  const std::filesystem::path& path() const { return m_path; }

private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  Db(std::unique_ptr<sqlite3, Closer> handle, std::filesystem::path path)
      : m_handle(std::move(handle)), m_path(std::move(path)) {}
  core::Result<void> migrate();
  core::Result<int> read_user_version();
  friend class Stmt;
  std::unique_ptr<sqlite3, Closer> m_handle;
  std::filesystem::path m_path;
  int m_version = 0;
};

// A prepared statement. bind_* take 1-based indexes; step() returns true while rows remain.
class Stmt {
public:
  Stmt(Stmt&&) noexcept = default;
  Stmt& operator=(Stmt&&) noexcept = default;

  Stmt& bind(int index, int64_t value);
  Stmt& bind(int index, std::string_view value);
  Stmt& bind(int index, core::ByteView value);
  Stmt& bind_null(int index);
  core::Result<bool> step();
  core::Result<void> run(); // step to completion, then reset
  void reset();

  int64_t column_int(int index) const;
  std::string column_text(int index) const;
  core::Bytes column_blob(int index) const;
  bool column_is_null(int index) const;

private:
  struct Finalizer {
    void operator()(sqlite3_stmt* stmt) const;
  };
  Stmt(std::unique_ptr<sqlite3_stmt, Finalizer> handle, sqlite3* db) : m_handle(std::move(handle)), m_db(db) {}
  friend class Db;
  std::unique_ptr<sqlite3_stmt, Finalizer> m_handle;
  sqlite3* m_db;
};

// Rolls back unless commit() was called.
class Txn {
public:
  static core::Result<Txn> begin(Db& db);
  Txn(Txn&& other) noexcept : m_db(std::exchange(other.m_db, nullptr)) {}
  Txn& operator=(Txn&&) = delete;
  ~Txn();
  core::Result<void> commit();

private:
  explicit Txn(Db* db) : m_db(db) {}
  Db* m_db;
};

} // namespace anemone::state
