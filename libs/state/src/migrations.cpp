#include "anemone/state/migrations.hpp"

namespace anemone::state {

const std::vector<std::string>& migrations() {
  static const std::vector<std::string> k_steps = {
      // 1: backup runs, snapshot summaries, the files cache.
      R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  tool TEXT NOT NULL,
  command TEXT NOT NULL,
  target TEXT NOT NULL,
  started_ns INTEGER NOT NULL,
  finished_ns INTEGER,
  outcome TEXT NOT NULL DEFAULT 'running',   -- running | ok | failed | interrupted
  snapshot_id TEXT,
  summary_json TEXT,
  error TEXT
);
CREATE INDEX runs_by_target ON runs(target, started_ns);
CREATE TABLE snapshots (
  target TEXT NOT NULL,
  snapshot_id TEXT NOT NULL,
  time_ns INTEGER NOT NULL,
  host TEXT NOT NULL,
  sources TEXT NOT NULL,
  files INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  PRIMARY KEY (target, snapshot_id)
);
-- What the archiver knew of a file at the last run, so an unchanged file is neither read nor
-- chunked. The repository id guards against a target whose repository was replaced.
CREATE TABLE files_cache (
  target TEXT NOT NULL,
  repo_id TEXT NOT NULL,
  path BLOB NOT NULL,
  device INTEGER NOT NULL,
  inode INTEGER NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ctime_ns INTEGER NOT NULL,
  content BLOB NOT NULL,       -- concatenated 32-byte blob ids
  seen_run INTEGER NOT NULL,
  PRIMARY KEY (target, path)
) WITHOUT ROWID;
)sql",
      // 2: the SFTP accounts this site keeps for its peers (sftp-receiver-quota).
      R"sql(
CREATE TABLE sftp_accounts (
  name TEXT PRIMARY KEY,
  ssh_key TEXT NOT NULL,
  quota_bytes INTEGER NOT NULL,
  used_bytes INTEGER NOT NULL DEFAULT 0,
  over_quota INTEGER NOT NULL DEFAULT 0,
  created_ns INTEGER NOT NULL,
  scanned_ns INTEGER NOT NULL DEFAULT 0
);
)sql",
      // 3: the mesh (wg-peer-manager): this site's settings, its peers, its invitations.
      R"sql(
CREATE TABLE mesh_settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE mesh_peers (
  name TEXT PRIMARY KEY,
  wg_public TEXT NOT NULL UNIQUE,
  endpoint TEXT,                 -- HOST:PORT, NULL behind NAT
  vpn_address TEXT NOT NULL UNIQUE,
  allowed_ips TEXT NOT NULL,     -- comma-separated CIDRs beyond vpn_address/32
  ssh_host_key TEXT NOT NULL,    -- pinned: "ssh-ed25519 AAAA…"
  ssh_user_key TEXT NOT NULL,    -- the key it logs into our receiver with
  signing_key TEXT NOT NULL,
  sftp_port INTEGER NOT NULL,    -- its receiver, reached over the tunnel
  sftp_user TEXT NOT NULL,       -- our account name on its receiver
  created_ns INTEGER NOT NULL
);
CREATE TABLE mesh_invitations (
  id TEXT PRIMARY KEY,           -- hex, 16 bytes
  peer_name TEXT NOT NULL,
  secret BLOB NOT NULL,          -- 32 bytes; proves a reply saw the code
  quota_bytes INTEGER NOT NULL,
  allowed_ips TEXT NOT NULL,
  created_ns INTEGER NOT NULL,
  expires_ns INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'open'   -- open | used | revoked
);
)sql",
      // 4: the watcher's published state (`watcher status` reads it): one row, rewritten at most
      // once a second and at every run's start and end.
      R"sql(
CREATE TABLE watcher_status (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pid INTEGER NOT NULL,
  mode TEXT NOT NULL,              -- live | periodic | scheduled
  started_ns INTEGER NOT NULL,
  watched_dirs INTEGER NOT NULL,
  pending_changes INTEGER NOT NULL,
  first_change_ns INTEGER,         -- the oldest change not yet backed up
  next_run_ns INTEGER,             -- NULL: live mode with nothing pending
  run_pid INTEGER,                 -- the backup-sender run going now
  run_started_ns INTEGER,
  runs_started INTEGER NOT NULL,
  last_started_ns INTEGER,
  last_finished_ns INTEGER,
  last_outcome TEXT,               -- ok | failed | interrupted
  last_exit_code INTEGER,
  consecutive_failures INTEGER NOT NULL,
  overflows INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL
);
)sql",
      // 5: the platform (caddy-sync, health-checker): the registry of sites, services and backends,
      // each backend's health, the transitions as events, and every Caddy config loaded.
      // platform_generation counts changes to what Caddy's routing depends on (the registry, a
      // backend's up/down state): `caddy-sync watch` polls this one row.
      R"sql(
CREATE TABLE platform_generation (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  value INTEGER NOT NULL
);
INSERT INTO platform_generation (id, value) VALUES (1, 0);
CREATE TABLE platform_sites (
  name TEXT PRIMARY KEY,
  created_ns INTEGER NOT NULL
);
CREATE TABLE platform_services (
  name TEXT PRIMARY KEY,
  domains TEXT NOT NULL,           -- space-separated
  policy TEXT NOT NULL,            -- round_robin | failover | least_conn | ip_hash
  health_path TEXT NOT NULL,
  health_interval_ms INTEGER NOT NULL,
  health_timeout_ms INTEGER NOT NULL,
  health_rise INTEGER NOT NULL,
  health_fall INTEGER NOT NULL,
  health_expect_status INTEGER NOT NULL,
  created_ns INTEGER NOT NULL
);
CREATE TABLE platform_backends (
  name TEXT PRIMARY KEY,
  service TEXT NOT NULL REFERENCES platform_services(name) ON DELETE CASCADE,
  site TEXT NOT NULL REFERENCES platform_sites(name),
  addr TEXT NOT NULL,
  port INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  weight INTEGER NOT NULL,
  tags TEXT NOT NULL,              -- comma-separated
  tls INTEGER NOT NULL,
  drained INTEGER NOT NULL DEFAULT 0,
  created_ns INTEGER NOT NULL,
  UNIQUE (service, addr, port)
);
CREATE TABLE backend_health (
  backend TEXT PRIMARY KEY REFERENCES platform_backends(name) ON DELETE CASCADE,
  state TEXT NOT NULL,             -- unknown | up | down
  since_ns INTEGER NOT NULL,
  passes INTEGER NOT NULL,         -- in a row
  failures INTEGER NOT NULL,       -- in a row
  latency_ms REAL,
  last_status INTEGER,
  last_error TEXT,
  checked_ns INTEGER NOT NULL
);
CREATE TABLE health_events (
  id INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  backend TEXT NOT NULL,
  service TEXT NOT NULL,
  site TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE TABLE caddy_configs (
  id INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  hash TEXT NOT NULL,              -- BLAKE2b of config_json, hex
  config_json TEXT NOT NULL,
  outcome TEXT NOT NULL,           -- applied | rejected
  error TEXT,
  reason TEXT NOT NULL             -- sync | watch | rollback
);
CREATE TRIGGER platform_sites_changed AFTER INSERT ON platform_sites
  BEGIN UPDATE platform_generation SET value = value + 1; END;
CREATE TRIGGER platform_sites_removed AFTER DELETE ON platform_sites
  BEGIN UPDATE platform_generation SET value = value + 1; END;
CREATE TRIGGER platform_services_added AFTER INSERT ON platform_services
  BEGIN UPDATE platform_generation SET value = value + 1; END;
CREATE TRIGGER platform_services_updated AFTER UPDATE ON platform_services
  BEGIN UPDATE platform_generation SET value = value + 1; END;
CREATE TRIGGER platform_services_removed AFTER DELETE ON platform_services
  BEGIN UPDATE platform_generation SET value = value + 1; END;
CREATE TRIGGER platform_backends_added AFTER INSERT ON platform_backends
  BEGIN UPDATE platform_generation SET value = value + 1; END;
CREATE TRIGGER platform_backends_updated AFTER UPDATE ON platform_backends
  BEGIN UPDATE platform_generation SET value = value + 1; END;
CREATE TRIGGER platform_backends_removed AFTER DELETE ON platform_backends
  BEGIN UPDATE platform_generation SET value = value + 1; END;
CREATE TRIGGER backend_health_added AFTER INSERT ON backend_health
  BEGIN UPDATE platform_generation SET value = value + 1; END;
CREATE TRIGGER backend_health_state_changed AFTER UPDATE OF state ON backend_health
  WHEN OLD.state IS NOT NEW.state
  BEGIN UPDATE platform_generation SET value = value + 1; END;
)sql",
      // 6: disaster recovery (backup-sender config-backup): per destination ('local' or a peer's
      // name) the last config backup it holds and the outcome of the last attempt.
      R"sql(
CREATE TABLE config_backups (
  destination TEXT PRIMARY KEY,
  file TEXT,                       -- the newest file there; NULL until one arrived
  digest TEXT,                     -- what that file holds (hex); an equal digest is not sent again
  stored_ns INTEGER,
  attempt_ns INTEGER NOT NULL,
  outcome TEXT NOT NULL,           -- ok | unchanged | failed
  error TEXT,
  recovery_login INTEGER           -- 1: the peer let the recovery key in (read-only); 0: not yet
);
-- The random salt of the key that makes the digests above (Argon2id of the passphrase).
CREATE TABLE config_backup_salt (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  salt BLOB NOT NULL
);
)sql",
  };
  return k_steps;
}

} // namespace anemone::state
