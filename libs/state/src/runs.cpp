#include "anemone/state/runs.hpp"

#include "anemone/core/time.hpp"

namespace anemone::state {

core::Result<int64_t> begin_run(Db& db, std::string_view tool, std::string_view command, std::string_view target) {
  auto stmt = TRY(db.prepare("INSERT INTO runs (tool, command, target, started_ns) VALUES (?, ?, ?, ?)"));
  TRY(stmt.bind(1, tool).bind(2, command).bind(3, target).bind(4, core::now_ns()).run());
  return db.last_insert_rowid();
}

core::Result<void> finish_run(Db& db, int64_t run_id, std::string_view outcome, std::string_view snapshot_id,
                              std::string_view summary_json, std::string_view error) {
  auto stmt = TRY(db.prepare("UPDATE runs SET finished_ns = ?, outcome = ?, snapshot_id = ?, summary_json = ?, "
                             "error = ? WHERE id = ?"));
  stmt.bind(1, core::now_ns()).bind(2, outcome);
  if (snapshot_id.empty()) stmt.bind_null(3);
  else stmt.bind(3, snapshot_id);
  stmt.bind(4, summary_json).bind(5, error).bind(6, run_id);
  return stmt.run();
}

core::Result<std::vector<RunRecord>> recent_runs(Db& db, std::string_view target, int limit) {
  auto stmt = TRY(db.prepare("SELECT id, tool, command, target, started_ns, COALESCE(finished_ns, 0), outcome, "
                             "COALESCE(snapshot_id, ''), COALESCE(summary_json, ''), COALESCE(error, '') FROM runs "
                             "WHERE (? = '' OR target = ?) ORDER BY id DESC LIMIT ?"));
  stmt.bind(1, target).bind(2, target).bind(3, static_cast<int64_t>(limit));
  std::vector<RunRecord> runs;
  while (TRY(stmt.step())) {
    RunRecord run;
    run.id = stmt.column_int(0);
    run.tool = stmt.column_text(1);
    run.command = stmt.column_text(2);
    run.target = stmt.column_text(3);
    run.started_ns = stmt.column_int(4);
    run.finished_ns = stmt.column_int(5);
    run.outcome = stmt.column_text(6);
    run.snapshot_id = stmt.column_text(7);
    run.summary_json = stmt.column_text(8);
    run.error = stmt.column_text(9);
    runs.push_back(std::move(run));
  }
  return runs;
}

core::Result<void> record_snapshot(Db& db, const SnapshotSummary& s) {
  auto stmt = TRY(db.prepare("INSERT OR REPLACE INTO snapshots (target, snapshot_id, time_ns, host, sources, files, "
                             "bytes) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  return stmt.bind(1, s.target)
      .bind(2, s.snapshot_id)
      .bind(3, s.time_ns)
      .bind(4, s.host)
      .bind(5, s.sources)
      .bind(6, s.files)
      .bind(7, s.bytes)
      .run();
}

core::Result<void> forget_snapshot(Db& db, std::string_view target, std::string_view snapshot_id) {
  auto stmt = TRY(db.prepare("DELETE FROM snapshots WHERE target = ? AND snapshot_id = ?"));
  return stmt.bind(1, target).bind(2, snapshot_id).run();
}

} // namespace anemone::state
