#include "config_backup_record.hpp"

#include "anemone/crypto/secret.hpp"

namespace anemone::dr {

core::Result<std::optional<Record>> read_record(state::Db& db, const std::string& destination) {
  auto stmt = TRY(db.prepare("SELECT file, digest, stored_ns, attempt_ns, outcome, error, recovery_login "
                             "FROM config_backups WHERE destination = ?"));
  stmt.bind(1, destination);
  if (!TRY(stmt.step())) return std::optional<Record>();
  Record record;
  if (!stmt.column_is_null(0)) record.file = stmt.column_text(0);
  if (!stmt.column_is_null(1)) record.digest = stmt.column_text(1);
  if (!stmt.column_is_null(2)) record.stored_ns = stmt.column_int(2);
  record.attempt_ns = stmt.column_int(3);
  record.outcome = stmt.column_text(4);
  if (!stmt.column_is_null(5)) record.error = stmt.column_text(5);
  if (!stmt.column_is_null(6)) record.recovery_login = stmt.column_int(6) != 0;
  return std::optional<Record>(std::move(record));
}

core::Result<void> write_record(state::Db& db, const std::string& destination, const Record& record) {
  auto stmt = TRY(db.prepare(
      "INSERT INTO config_backups(destination, file, digest, stored_ns, attempt_ns, outcome, error, recovery_login) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(destination) DO UPDATE SET file = excluded.file, "
      "digest = excluded.digest, stored_ns = excluded.stored_ns, attempt_ns = excluded.attempt_ns, "
      "outcome = excluded.outcome, error = excluded.error, recovery_login = excluded.recovery_login"));
  stmt.bind(1, destination);
  if (record.file) stmt.bind(2, *record.file); else stmt.bind_null(2);
  if (record.digest) stmt.bind(3, *record.digest); else stmt.bind_null(3);
  if (record.stored_ns) stmt.bind(4, *record.stored_ns); else stmt.bind_null(4);
  stmt.bind(5, record.attempt_ns).bind(6, record.outcome);
  if (record.error) stmt.bind(7, *record.error); else stmt.bind_null(7);
  if (record.recovery_login) stmt.bind(8, static_cast<int64_t>(*record.recovery_login)); else stmt.bind_null(8);
  return stmt.run();
}

core::Result<core::Bytes> digest_salt(state::Db& db) {
  auto fresh = crypto::SecretBytes::random(16);
  auto insert = TRY(db.prepare("INSERT OR IGNORE INTO config_backup_salt(id, salt) VALUES(1, ?)"));
  insert.bind(1, fresh.view());
  TRY(insert.run());
  auto stmt = TRY(db.prepare("SELECT salt FROM config_backup_salt WHERE id = 1"));
  if (!TRY(stmt.step())) return core::fail(core::Errc::io, "the config backup salt vanished");
  return stmt.column_blob(0);
}

} // namespace anemone::dr
