#pragma once
// The operator's declaration (config.yaml). Tools read it, never rewrite it. Every path a tool uses
// comes from here, so several sites can run side by side on one machine.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "anemone/config/platform.hpp"
#include "anemone/core/error.hpp"

namespace anemone::config {

inline constexpr const char* k_default_config_path = "/config/config.yaml";

struct Retention {
  int keep_last = 0;
  int keep_hourly = 0;
  int keep_daily = 0;
  int keep_weekly = 0;
  int keep_monthly = 0;
  int keep_yearly = 0;
  bool empty() const {
    return keep_last == 0 && keep_hourly == 0 && keep_daily == 0 && keep_weekly == 0 && keep_monthly == 0 &&
           keep_yearly == 0;
  }
};

struct Source {
  std::string name;                 // [A-Za-z0-9._-]{1,64}, not "." or ".."; restore writes it under DIR/<name>/
  std::filesystem::path path;       // absolute
  std::vector<std::string> exclude; // glob patterns; a trailing '/' matches directories only
};

enum class TargetType { local, sftp };

struct Target {
  std::string name;
  TargetType type = TargetType::local;
  std::filesystem::path path; // local: the repository directory; sftp: path inside the peer's jail
  // sftp only (issue 3); parsed and validated now so configs can be written ahead.
  std::string host;
  int port = 22;
  std::string user;
  std::filesystem::path identity_file;
  std::string host_key;
  int connections = 2;
  Retention retention;
  bool from_mesh = false; // made from a wg-peer-manager peer, not written in the config
};

// The receiving side (sftp-receiver-quota): one chrooted SFTP account per peer.
struct SftpReceiver {
  int port = 22222;
  std::string listen = "0.0.0.0";
  std::filesystem::path backups_dir = "/backups"; // /backups/<peer>/ holds each jail
  uint64_t default_quota = 50ull << 30;
  // Prepended to a mesh peer's name to make its account (Unix user and jail) here: only needed
  // when several receivers share one machine's users, as the tests' sites do.
  std::string account_prefix;
};

// wg-peer-manager's mesh (issue 4). Validated here; the subnet and any address are IPv4.
struct WireGuard {
  std::string interface = "wg0";
  int listen_port = 51820;
  std::string subnet = "10.8.0.0/16";
  std::optional<std::string> endpoint; // HOST:PORT peers use to reach us; absent behind NAT
  int keepalive = 25;
  std::optional<std::string> address;  // otherwise derived from the WireGuard public key
};

// When the watcher starts backups (issue 5).
enum class BackupMode { live, periodic, scheduled };
std::string_view mode_name(BackupMode mode);

struct Schedule {
  BackupMode mode = BackupMode::live;
  int debounce_seconds = 30;   // live: quiet period before a run
  int max_delay_seconds = 300; // live: a run starts at the latest this long after the first change
  int interval_minutes = 60;   // periodic
  std::string schedule = "0 3 * * *"; // scheduled: cron syntax, local time (validated)
};

// What `health-checker self` calls healthy.
struct Health {
  int64_t max_backup_age_ms = 26ll * 3600 * 1000;
  // The daily config backup may miss one night (a peer briefly away) before the site is unhealthy.
  int64_t max_config_backup_age_ms = 50ll * 3600 * 1000;
  uint64_t min_free_bytes = 1ull << 30; // on the sources' and the backups' file systems
};

// Disaster recovery (backup-sender config-backup): where and how many encrypted copies of this
// site's configuration are kept.
struct DisasterRecovery {
  int keep_local = 7;
  int keep_remote = 14;
  std::optional<std::filesystem::path> local_dir; // default: config-backups/ beside the state file
};

struct Config {
  std::filesystem::path file; // where it was loaded from
  std::string server_name;
  std::filesystem::path secrets_dir = "/config/secrets";
  std::filesystem::path logs_dir = "/logs";
  std::filesystem::path run_dir = "/run/anemone"; // supervisord's socket and pid, the rendered crontab
  std::filesystem::path state_path = "/config/state/anemone.db";
  std::optional<std::filesystem::path> passphrase_file;
  std::vector<Source> sources;
  std::vector<Target> targets;
  Schedule schedule;
  SftpReceiver sftp;
  WireGuard wireguard;
  Health health;
  Platform platform;
  DisasterRecovery dr;

  const Target* find_target(std::string_view name) const;
  std::filesystem::path config_backups_dir() const;
};

// Loads and validates a config file. Every error names file:line:col and the key path, e.g.
// "config.yaml:14:3: backup.targets[1].retention.keep_lst: unknown key (did you mean keep_last?)".
core::Result<Config> load_config(const std::filesystem::path& file);
core::Result<Config> parse_config(std::string_view yaml_text, const std::filesystem::path& file_name);

// --config, else ANEMONE_CONFIG, else /config/config.yaml.
std::filesystem::path resolve_config_path(const std::string& from_command_line);

} // namespace anemone::config
