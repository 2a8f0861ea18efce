#pragma once
// The receiving side's system state: an sshd_config that gives each peer SFTP only, chrooted into
// its own jail (backups_dir/<peer>/ with repo/, config/ and a read-only quota.json), and the Unix
// accounts, jails and authorized keys that config relies on.
#include <filesystem>
#include <optional>
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
// peer chrooted into its jail. What a key may do there is in its authorized_keys line (below): a
// ForceCommand here would override the per-key commands.
std::string render_sshd_config(const config::Config& config, const std::vector<Account>& accounts);

// A peer's authorized_keys file: its own key gets SFTP starting in /repo (writes refused while it is
// over quota: reads and deletes stay); the recovery key it published in its /config/recovery.pub
// (backup-sender config-backup) gets read-only SFTP, so a rebuilt site that lost its key can fetch
// its config backups with its passphrase alone (docs/FORMAT.md, "Recovery key").
std::string authorized_keys(const Account& account, const std::optional<std::string>& recovery_key);
// The recovery key a peer published in its jail, when it is a valid ed25519 key line; read without
// following links, at most 1 KiB.
std::optional<std::string> published_recovery_key(const ReceiverLayout& layout, const std::string& account);

struct SyncReport {
  std::vector<std::string> changes; // one line per change made; empty when all was in place
};
// Makes the system match the accounts: the group, Unix users (no password, no shell), jails, keys,
// the host key. Users of the group that no account names lose their login (their data stays).
core::Result<SyncReport> sync_receiver(const config::Config& config, const std::vector<Account>& accounts);

// Measures each peer's jail, publishes /quota.json in it (read-only for the peer), records usage,
// and rewrites each peer's authorized_keys when it changes: a peer that crosses its quota (either
// way) gets writes refused (or allowed again) from its next session on, and a recovery key it
// published is accepted. Returns the accounts as measured.
struct ScanResult {
  std::vector<Account> accounts;
  std::vector<std::string> changed; // peers whose over-quota state flipped
};
core::Result<ScanResult> scan_usage(const config::Config& config, state::Db& db);

// Removes a peer's jail and data (account remove without --keep-data).
core::Result<void> remove_jail(const config::Config& config, const std::string& peer);

} // namespace anemone::peers
