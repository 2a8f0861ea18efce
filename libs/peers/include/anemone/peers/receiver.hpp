#pragma once
// The receiving side's system state: an sshd_config that gives each peer SFTP only, chrooted into
// its own jail (backups_dir/<peer>/ with repo/, config/ and a read-only quota.json), and the Unix
// accounts, jails and authorized keys that config relies on.
#include <filesystem>
#include <string>
#include <vector>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"
#include "anemone/peers/accounts.hpp"

namespace anemone::peers {

inline constexpr const char* k_peers_group = "anemone-peers";

struct ReceiverLayout {
  std::filesystem::path backups_dir;     // root-owned 0755; a jail per peer
  std::filesystem::path keys_dir;        // backups_dir/.keys: one authorized_keys file per peer
  std::filesystem::path host_key;        // paths.secrets/ssh_host_ed25519_key
  std::filesystem::path sshd_config;     // beside the state file: what sshd runs (scan rewrites it)
  std::filesystem::path sshd_pid;        // sshd's pid file, so a rewritten config is reloaded
  std::filesystem::path jail(const std::string& peer) const { return backups_dir / peer; }
};
ReceiverLayout receiver_layout(const config::Config& config);

// A complete sshd_config: key-only, no shell, no forwarding of any kind, no agent, no TTY; every
// peer chrooted with internal-sftp; peers over quota get writes refused (reads and deletes stay).
std::string render_sshd_config(const config::Config& config, const std::vector<Account>& accounts);

struct SyncReport {
  std::vector<std::string> changes; // one line per change made; empty when all was in place
};
// Makes the system match the accounts: the group, Unix users (no password, no shell), jails, keys,
// the host key. Users of the group that no account names lose their login (their data stays).
core::Result<SyncReport> sync_receiver(const config::Config& config, const std::vector<Account>& accounts);

// Measures each peer's jail, publishes /quota.json in it (read-only for the peer), records usage,
// and when a peer crosses its quota (either way) rewrites sshd_config and reloads sshd, so the
// peer's new sessions get writes refused (or allowed again). Returns the accounts as measured.
struct ScanResult {
  std::vector<Account> accounts;
  std::vector<std::string> changed; // peers whose over-quota state flipped
  bool reloaded = false;
};
core::Result<ScanResult> scan_usage(const config::Config& config, state::Db& db);

// Removes a peer's jail and data (account remove without --keep-data).
core::Result<void> remove_jail(const config::Config& config, const std::string& peer);

} // namespace anemone::peers
