#include "anemone/dr/state_copy.hpp"

#include <algorithm>
#include <cstdint>
#include <unistd.h>

#include "anemone/core/fs.hpp"
#include "locked_file.hpp"

namespace anemone::dr {

using core::Errc;
using core::fail;
namespace fs = std::filesystem;

const std::vector<TableRule>& state_table_rules() {
  static const std::vector<TableRule> k_rules = {
      {"runs", TableUse::carried, ""},
      {"snapshots", TableUse::carried, ""},
      {"files_cache", TableUse::emptied, ""},
      {"sftp_accounts", TableUse::digest, "name, ssh_key, quota_bytes, created_ns"},
      {"mesh_settings", TableUse::digest, "key, value"},
      {"mesh_peers", TableUse::digest,
       "name, wg_public, endpoint, vpn_address, allowed_ips, ssh_host_key, ssh_user_key, signing_key, sftp_port, "
       "sftp_user, created_ns"},
      {"mesh_invitations", TableUse::digest,
       "id, peer_name, secret, quota_bytes, allowed_ips, created_ns, expires_ns, state"},
      {"watcher_status", TableUse::emptied, ""},
      {"platform_generation", TableUse::carried, ""},
      {"platform_sites", TableUse::digest, "name, created_ns"},
      {"platform_services", TableUse::digest,
       "name, domains, policy, health_path, health_interval_ms, health_timeout_ms, health_rise, health_fall, "
       "health_expect_status, created_ns"},
      {"platform_backends", TableUse::digest,
       "name, service, site, addr, port, priority, weight, tags, tls, drained, created_ns"},
      {"backend_health", TableUse::carried, ""},
      {"health_events", TableUse::carried, ""},
      {"caddy_configs", TableUse::carried, ""},
      {"config_backups", TableUse::carried, ""},
      {"config_backup_salt", TableUse::carried, ""},
  };
  return k_rules;
}

core::Result<std::vector<std::string>> unclassified_tables(state::Db& db) {
  std::vector<std::string> missing;
  auto stmt = TRY(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                             "ORDER BY name"));
  while (TRY(stmt.step())) {
    std::string name = stmt.column_text(0);
    const auto& rules = state_table_rules();
    if (std::none_of(rules.begin(), rules.end(), [&](const TableRule& rule) { return rule.table == name; }))
      missing.push_back(name);
  }
  return missing;
}

namespace {

core::Result<crypto::Hash> digest_of(state::Db& db) {
  crypto::Hasher hasher;
  for (const auto& rule : state_table_rules()) {
    if (rule.use != TableUse::digest) continue;
    std::string columns(rule.columns);
    std::string quoted;
    for (size_t start = 0; start < columns.size();) {
      size_t comma = columns.find(',', start);
      std::string column = columns.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      column.erase(0, column.find_first_not_of(' '));
      quoted += (quoted.empty() ? "" : " || ',' || ") + std::string("quote(") + column + ")";
      start = comma == std::string::npos ? columns.size() : comma + 1;
    }
    // quote() is SQLite's canonical literal of any value (text, integer, blob, NULL).
    auto stmt = TRY(db.prepare(fmt::format("SELECT {} FROM {} ORDER BY 1", quoted, rule.table)));
    std::string header = fmt::format("table {}\n", rule.table);
    hasher.update(core::as_bytes(header));
    while (TRY(stmt.step())) {
      std::string row = stmt.column_text(0) + "\n";
      hasher.update(core::as_bytes(row));
    }
  }
  return hasher.finish();
}

struct RemoveOnExit {
  fs::path path;
  ~RemoveOnExit() {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path.string() + suffix, ignored);
  }
};

} // namespace

core::Result<StateCopy> copy_state(state::Db& db, const fs::path& scratch_dir) {
  TRY(core::make_directories(scratch_dir, 0700));
  RemoveOnExit copy_file{scratch_dir / fmt::format("state-copy-{}.db", ::getpid())};
  TRY(db.copy_to(copy_file.path));
  StateCopy result;
  {
    // Opening runs this binary's migrations on the copy: it is at the newest schema, like the source.
    auto copy = TRY(state::Db::open(copy_file.path));
    TRY(copy.exec("PRAGMA journal_mode=DELETE"));
    for (const auto& rule : state_table_rules())
      if (rule.use == TableUse::emptied) TRY(copy.exec(fmt::format("DELETE FROM {}", rule.table)));
    TRY(copy.exec("VACUUM"));
    result.digest = TRY(digest_of(copy));
  }
  result.bytes = TRY(read_locked_file(copy_file.path, UINT64_MAX)).bytes;
  return result;
}

} // namespace anemone::dr
