#pragma once
// backup-sender's disaster-recovery commands as library calls: config-backup (daily, by cron),
// config-discover and config-restore (on a rebuilt machine). Each prints its report (text, or JSON
// with json=true) and returns an error for main to map to an exit code.
#include <filesystem>
#include <optional>
#include <string>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"

namespace anemone::dr {

struct ConfigBackupOptions {
  bool json = false;
  bool force = false; // write and upload even when nothing changed
};
// Errc::partial (exit 3) when some peer did not get it.
core::Result<void> cmd_config_backup(const config::Config& config, const ConfigBackupOptions& options);

struct RecoveryOptions {
  std::optional<std::string> peer;     // HOST[:PORT], the peer's public SFTP address
  std::optional<std::string> host_key; // "ssh-ed25519 AAAA…" or "SHA256:…"
  std::optional<std::string> site;     // default: server.name of the config, when there is one
  std::optional<std::string> user;     // this site's account on the peer; default: the site's name
  std::string passphrase_file;
  bool json = false;
};
// `config` is empty on a machine that has none yet.
core::Result<void> cmd_config_discover(const std::optional<config::Config>& config, const RecoveryOptions& options);

struct ConfigRestoreOptions : RecoveryOptions {
  std::optional<std::string> id;   // else the newest
  std::optional<std::string> file; // a config backup file here instead of a peer
  bool force = false;
  std::filesystem::path config_path; // where config.yaml goes (--config, ANEMONE_CONFIG, default)
};
core::Result<void> cmd_config_restore(const std::optional<config::Config>& config, const ConfigRestoreOptions& options);

} // namespace anemone::dr
