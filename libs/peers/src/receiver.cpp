#include "anemone/peers/receiver.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "anemone/core/command.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/core/time.hpp"

namespace anemone::peers {

using core::Errc;
using core::fail;
namespace fs = std::filesystem;

ReceiverLayout receiver_layout(const config::Config& config) {
  ReceiverLayout layout;
  layout.backups_dir = config.sftp.backups_dir;
  layout.keys_dir = config.sftp.backups_dir / ".keys";
  layout.host_key = config.secrets_dir / "ssh_host_ed25519_key";
  layout.sshd_config = config.state_path.parent_path() / "sshd_config";
  layout.sshd_pid = config.state_path.parent_path() / "sshd.pid";
  return layout;
}

std::string render_sshd_config(const config::Config& config, const std::vector<Account>& accounts) {
  (void)accounts; // every peer gets the same block; what differs is in its authorized_keys
  ReceiverLayout layout = receiver_layout(config);
  std::string out = fmt::format(
      "# Written by sftp-receiver-quota from {}; changes here are overwritten.\n"
      "Port {}\nListenAddress {}\nHostKey {}\nPidFile {}\n"
      "AuthorizedKeysFile {}/%u\n"
      "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
      "PermitEmptyPasswords no\nPermitRootLogin no\nUsePAM no\nStrictModes yes\n"
      "AllowGroups {}\n"
      "DisableForwarding yes\nAllowTcpForwarding no\nAllowStreamLocalForwarding no\nAllowAgentForwarding no\n"
      "X11Forwarding no\nPermitTunnel no\nGatewayPorts no\nPermitTTY no\nPermitUserRC no\nPermitUserEnvironment no\n"
      "PrintMotd no\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n",
      config.file.string(), config.sftp.port, config.sftp.listen, layout.host_key.string(), layout.sshd_pid.string(),
      layout.keys_dir.string(), k_peers_group);
  // No ForceCommand: it would override the command each key carries (authorized_keys), and the
  // recovery key must be read-only where the peer's own key is not. Every key line has one.
  out += fmt::format("\nMatch Group {}\n  ChrootDirectory {}/%u\n", k_peers_group, layout.backups_dir.string());
  return out;
}

std::string authorized_keys(const Account& account, const std::optional<std::string>& recovery_key) {
  // restrict: no forwarding, no pty, no agent, whatever sshd_config says.
  std::string out = account.over_quota
                        ? "restrict,command=\"internal-sftp -d /repo -P write,mkdir,setstat,fsetstat,symlink,hardlink\" "
                        : "restrict,command=\"internal-sftp -d /repo\" ";
  out += account.ssh_key + "\n";
  if (recovery_key && *recovery_key != account.ssh_key)
    out += "restrict,command=\"internal-sftp -R -d /config\" " + *recovery_key + " anemone-recovery\n";
  return out;
}

std::optional<std::string> published_recovery_key(const ReceiverLayout& layout, const std::string& account) {
  // The jail's config/ belongs to the peer: nothing in it is followed or trusted beyond one key line.
  core::UniqueFd jail(::open(layout.jail(account).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!jail) return std::nullopt;
  core::UniqueFd dir(::openat(jail.get(), "config", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return std::nullopt;
  core::UniqueFd file(::openat(dir.get(), "recovery.pub", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st{};
  if (!file || ::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 1024) return std::nullopt;
  char buffer[1025];
  ssize_t n = ::read(file.get(), buffer, sizeof buffer - 1);
  if (n <= 0) return std::nullopt;
  std::string line(buffer, static_cast<size_t>(n));
  if (auto newline = line.find('\n'); newline != std::string::npos) {
    if (line.find_first_not_of('\n', newline) != std::string::npos) return std::nullopt; // one line only
    line.resize(newline);
  }
  auto key = normalize_ed25519_key(line);
  if (!key) return std::nullopt;
  return *key;
}

namespace {

// System tools without a shell; arguments are validated names, never secrets.
core::Result<void> run_tool(const std::vector<std::string>& argv) {
  TRY(core::run_checked(argv));
  return {};
}

// A directory with exactly this owner and mode; sshd refuses a chroot or key path whose components
// are writable by anyone but root.
core::Result<bool> ensure_directory(const fs::path& path, uid_t uid, gid_t gid, mode_t mode) {
  bool changed = false;
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    if (::mkdir(path.c_str(), mode) != 0) return core::fail_errno("create " + path.string(), errno);
    changed = true;
    ::lstat(path.c_str(), &st);
  }
  if (!S_ISDIR(st.st_mode)) return fail(Errc::failed, "{} exists and is not a directory", path.string());
  if (st.st_uid != uid || st.st_gid != gid) {
    if (::lchown(path.c_str(), uid, gid) != 0) return core::fail_errno("chown " + path.string(), errno);
    changed = true;
  }
  if ((st.st_mode & 07777) != mode) {
    if (::chmod(path.c_str(), mode) != 0) return core::fail_errno("chmod " + path.string(), errno);
    changed = true;
  }
  return changed;
}

core::Result<bool> ensure_file(const fs::path& path, const std::string& content, mode_t mode) {
  auto existing = core::read_text_file(path);
  struct stat st{};
  if (existing && *existing == content && ::stat(path.c_str(), &st) == 0 && (st.st_mode & 07777) == mode &&
      st.st_uid == 0)
    return false;
  TRY(core::write_file_atomic(path, core::as_bytes(content), mode));
  return true;
}

} // namespace

core::Result<SyncReport> sync_receiver(const config::Config& config, const std::vector<Account>& accounts) {
  SyncReport report;
  ReceiverLayout layout = receiver_layout(config);
  if (::getgrnam(k_peers_group) == nullptr) {
    TRY(run_tool({"groupadd", "--system", k_peers_group}));
    report.changes.push_back(fmt::format("created group {}", k_peers_group));
  }
  group* peers_group = ::getgrnam(k_peers_group);
  if (!peers_group) return fail(Errc::failed, "group {} is missing after groupadd", k_peers_group);
  gid_t peers_gid = peers_group->gr_gid;

  if (!fs::exists(layout.host_key)) {
    TRY(core::make_directories(config.secrets_dir, 0700));
    TRY(run_tool({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", config.server_name, "-f", layout.host_key.string()}));
    report.changes.push_back(fmt::format("created the host key {}", layout.host_key.string()));
  }
  TRY(core::make_directories(layout.backups_dir.parent_path(), 0755));
  if (TRY(ensure_directory(layout.backups_dir, 0, 0, 0755))) report.changes.push_back("prepared " + layout.backups_dir.string());
  if (TRY(ensure_directory(layout.keys_dir, 0, 0, 0755))) report.changes.push_back("prepared " + layout.keys_dir.string());

  for (const auto& account : accounts) {
    TRY(validate_account_name(account.name));
    passwd* user = ::getpwnam(account.name.c_str());
    if (user && user->pw_gid != peers_gid)
      return fail(Errc::failed, "the Unix user {} exists and is not a peer account; choose another peer name",
                  account.name);
    if (!user) {
      // No home, no shell, no password: the account exists only for sshd's chroot and key check.
      // The password field is '*' (no password matches), not '!' (locked): sshd without PAM refuses
      // even key logins to a locked account.
      TRY(run_tool({"useradd", "--system", "--no-create-home", "--home-dir", "/", "--shell", "/usr/sbin/nologin",
                    "--gid", k_peers_group, "--password", "*", account.name}));
      report.changes.push_back("created Unix user " + account.name);
      user = ::getpwnam(account.name.c_str());
      if (!user) return fail(Errc::failed, "user {} is missing after useradd", account.name);
    }
    fs::path jail = layout.jail(account.name);
    if (TRY(ensure_directory(jail, 0, 0, 0755))) report.changes.push_back("prepared jail " + jail.string());
    for (auto sub : {"repo", "config"})
      if (TRY(ensure_directory(jail / sub, user->pw_uid, peers_gid, 0700)))
        report.changes.push_back(fmt::format("prepared {}/{}", jail.string(), sub));
    if (TRY(ensure_file(layout.keys_dir / account.name,
                        authorized_keys(account, published_recovery_key(layout, account.name)), 0644)))
      report.changes.push_back("wrote the keys of " + account.name);
  }

  // sshd_config last: it relies on every key line carrying its command (it has no ForceCommand), so
  // key files written by an older release are replaced before sshd reads a config without one.
  TRY(core::make_directories(layout.sshd_config.parent_path(), 0700));
  if (TRY(ensure_file(layout.sshd_config, render_sshd_config(config, accounts), 0644))) {
    report.changes.push_back("wrote " + layout.sshd_config.string());
    if (auto pid_text = core::read_text_file(layout.sshd_pid); pid_text && std::atoi(pid_text->c_str()) > 0)
      ::kill(std::atoi(pid_text->c_str()), SIGHUP); // sshd re-reads it for new sessions
  }

  // Peer users that no account names any more: their login goes now; their data stays. Only this
  // receiver's users (their key file is in its keys_dir): another receiver on the machine keeps its own.
  std::vector<std::string> stale;
  setpwent();
  while (passwd* user = ::getpwent()) {
    if (user->pw_gid != peers_gid || !fs::exists(layout.keys_dir / user->pw_name)) continue;
    bool known = false;
    for (const auto& account : accounts) known = known || account.name == user->pw_name;
    if (!known) stale.push_back(user->pw_name);
  }
  endpwent();
  for (const auto& name : stale) {
    fs::remove(layout.keys_dir / name);
    TRY(run_tool({"userdel", name}));
    report.changes.push_back("removed Unix user " + name);
  }
  return report;
}

namespace {
void end_sessions_of(const std::string& user_name) {
  passwd* user = ::getpwnam(user_name.c_str());
  if (!user || user->pw_uid == 0) return;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc", error)) {
    const std::string pid_text = entry.path().filename().string();
    if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat st{};
    if (::stat(entry.path().c_str(), &st) == 0 && st.st_uid == user->pw_uid) ::kill(std::atoi(pid_text.c_str()), SIGTERM);
  }
}

uint64_t tree_bytes(const fs::path& root) {
  uint64_t total = 0;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    struct stat st{};
    if (::lstat(it->path().c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}
} // namespace

core::Result<ScanResult> scan_usage(const config::Config& config, state::Db& db) {
  ScanResult result;
  ReceiverLayout layout = receiver_layout(config);
  auto accounts = TRY(list_accounts(db));
  for (auto& account : accounts) {
    fs::path jail = layout.jail(account.name);
    // Blocks on disk, not apparent sizes: what the peer really costs this site's disk.
    uint64_t used = tree_bytes(jail / "repo") + tree_bytes(jail / "config");
    bool over = used >= account.quota_bytes;
    if (over != account.over_quota) result.changed.push_back(account.name);
    account.used_bytes = used;
    account.over_quota = over;
    TRY(record_usage(db, account.name, used, over));
    if (fs::is_directory(jail)) {
      std::string status = fmt::format(
          "{{\"used_bytes\": {}, \"quota_bytes\": {}, \"state\": \"{}\", \"updated\": \"{}\"}}\n", used,
          account.quota_bytes, over ? "over_quota" : "ok", core::format_utc(core::now_ns()));
      TRY(core::write_file_atomic(jail / "quota.json", core::as_bytes(status), 0644));
    }
  }
  for (const auto& account : accounts) {
    // Only accounts sync made (their key file exists); a new one waits for `sync`.
    if (!fs::exists(layout.keys_dir / account.name)) continue;
    TRY(ensure_file(layout.keys_dir / account.name, authorized_keys(account, published_recovery_key(layout, account.name)),
                    0644));
  }
  // A session that is writing now keeps its flags until it ends: end it. The peer's processes are
  // only its sshd session (no shell); it reconnects and gets the new flags.
  for (const auto& account : accounts)
    if (account.over_quota && std::find(result.changed.begin(), result.changed.end(), account.name) != result.changed.end())
      end_sessions_of(account.name);
  result.accounts = std::move(accounts);
  return result;
}

core::Result<void> remove_jail(const config::Config& config, const std::string& peer) {
  TRY(validate_account_name(peer));
  std::error_code error;
  fs::remove_all(receiver_layout(config).jail(peer), error);
  if (error) return fail(Errc::io, "remove the jail of {}: {}", peer, error.message());
  return {};
}

} // namespace anemone::peers
