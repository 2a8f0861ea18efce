#include "anemone/runtime/watcher_status.hpp"

namespace anemone::runtime {

namespace {

template <typename T> void bind_optional(state::Stmt& stmt, int index, const std::optional<T>& value) {
  if (!value) {
    stmt.bind_null(index);
  } else if constexpr (std::is_same_v<T, std::string>) {
    stmt.bind(index, std::string_view(*value));
  } else {
    stmt.bind(index, static_cast<int64_t>(*value));
  }
}

std::optional<int64_t> column_optional(const state::Stmt& stmt, int index) {
  if (stmt.column_is_null(index)) return std::nullopt;
  return stmt.column_int(index);
}

} // namespace

core::Result<void> publish_status(state::Db& db, const WatcherStatus& s) {
  auto stmt = TRY(db.prepare(
      "INSERT OR REPLACE INTO watcher_status (id, pid, mode, started_ns, watched_dirs, pending_changes, first_change_ns,"
      " next_run_ns, run_pid, run_started_ns, runs_started, last_started_ns, last_finished_ns, last_outcome,"
      " last_exit_code, consecutive_failures, overflows, updated_ns)"
      " VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  stmt.bind(1, static_cast<int64_t>(s.pid)).bind(2, std::string_view(s.mode)).bind(3, s.started_ns);
  stmt.bind(4, static_cast<int64_t>(s.watched_dirs)).bind(5, static_cast<int64_t>(s.pending_changes));
  bind_optional(stmt, 6, s.first_change_ns);
  bind_optional(stmt, 7, s.next_run_ns);
  bind_optional(stmt, 8, s.run_pid);
  bind_optional(stmt, 9, s.run_started_ns);
  stmt.bind(10, static_cast<int64_t>(s.runs_started));
  bind_optional(stmt, 11, s.last_started_ns);
  bind_optional(stmt, 12, s.last_finished_ns);
  bind_optional(stmt, 13, s.last_outcome);
  bind_optional(stmt, 14, s.last_exit_code);
  stmt.bind(15, static_cast<int64_t>(s.consecutive_failures)).bind(16, static_cast<int64_t>(s.overflows));
  stmt.bind(17, s.updated_ns);
  return stmt.run();
}

core::Result<std::optional<WatcherStatus>> read_status(state::Db& db) {
  auto stmt = TRY(db.prepare(
      "SELECT pid, mode, started_ns, watched_dirs, pending_changes, first_change_ns, next_run_ns, run_pid,"
      " run_started_ns, runs_started, last_started_ns, last_finished_ns, last_outcome, last_exit_code,"
      " consecutive_failures, overflows, updated_ns FROM watcher_status WHERE id = 1"));
  if (!TRY(stmt.step())) return std::optional<WatcherStatus>();
  WatcherStatus s;
  s.pid = static_cast<int>(stmt.column_int(0));
  s.mode = stmt.column_text(1);
  s.started_ns = stmt.column_int(2);
  s.watched_dirs = static_cast<uint64_t>(stmt.column_int(3));
  s.pending_changes = static_cast<uint64_t>(stmt.column_int(4));
  s.first_change_ns = column_optional(stmt, 5);
  s.next_run_ns = column_optional(stmt, 6);
  if (auto pid = column_optional(stmt, 7)) s.run_pid = static_cast<int>(*pid);
  s.run_started_ns = column_optional(stmt, 8);
  s.runs_started = static_cast<uint64_t>(stmt.column_int(9));
  s.last_started_ns = column_optional(stmt, 10);
  s.last_finished_ns = column_optional(stmt, 11);
  if (!stmt.column_is_null(12)) s.last_outcome = stmt.column_text(12);
  if (auto code = column_optional(stmt, 13)) s.last_exit_code = static_cast<int>(*code);
  s.consecutive_failures = static_cast<int>(stmt.column_int(14));
  s.overflows = static_cast<uint64_t>(stmt.column_int(15));
  s.updated_ns = stmt.column_int(16);
  return std::optional<WatcherStatus>(std::move(s));
}

core::Result<std::optional<int64_t>> last_backup_start_ns(state::Db& db) {
  auto stmt = TRY(db.prepare("SELECT max(started_ns) FROM runs WHERE tool = 'backup-sender' AND command = 'run'"));
  if (!TRY(stmt.step())) return std::optional<int64_t>();
  return column_optional(stmt, 0);
}

} // namespace anemone::runtime
