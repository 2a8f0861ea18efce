#include <chrono>
#include "anemone/peers/receiver_commands.hpp"

#include <cstdio>
#include <poll.h>
#include <set>
#include <sys/inotify.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "anemone/core/bytes.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/core/log.hpp"
#include "anemone/core/system.hpp"
#include "anemone/core/time.hpp"
#include "anemone/peers/accounts.hpp"
#include "anemone/peers/receiver.hpp"

namespace anemone::peers {

using core::Errc;
using nlohmann::json;

namespace {
void print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

core::Result<uint64_t> quota_value(const std::string& text) {
  auto size = core::parse_size(text);
  if (!size || *size == 0) return core::fail(Errc::usage, "'{}' is not a size like 50G or 512M", text);
  return *size;
}
} // namespace

core::Result<void> cmd_account_add(const config::Config& config, const AccountAddOptions& options) {
  uint64_t quota = options.quota ? TRY(quota_value(*options.quota)) : config.sftp.default_quota;
  auto db = TRY(state::Db::open(config.state_path));
  TRY(add_account(db, options.name, options.ssh_key, quota));
  core::log_info("account {} added with a quota of {}", options.name, core::format_bytes(quota));
  print(fmt::format("account {} added (quota {}); run `sftp-receiver-quota sync` to apply it\n", options.name,
                    core::format_bytes(quota)));
  return {};
}

core::Result<void> cmd_account_remove(const config::Config& config, const std::string& name, bool keep_data) {
  auto db = TRY(state::Db::open(config.state_path));
  TRY(remove_account(db, name));
  auto accounts = TRY(list_accounts(db));
  TRY(sync_receiver(config, accounts)); // the login goes at once
  if (!keep_data) TRY(remove_jail(config, name));
  core::log_info("account {} removed{}", name, keep_data ? " (data kept)" : " with its data");
  print(fmt::format("account {} removed{}\n", name, keep_data ? "; its data stays in its jail" : " with its data"));
  return {};
}

core::Result<void> cmd_account_set_quota(const config::Config& config, const std::string& name, const std::string& quota) {
  uint64_t bytes = TRY(quota_value(quota));
  auto db = TRY(state::Db::open(config.state_path));
  TRY(set_quota(db, name, bytes));
  print(fmt::format("quota of {} set to {}\n", name, core::format_bytes(bytes)));
  return {};
}

namespace {
void print_accounts(const std::vector<Account>& accounts, bool as_json) {
  if (as_json) {
    json list = json::array();
    for (const auto& a : accounts)
      list.push_back({{"name", a.name}, {"ssh_key", a.ssh_key}, {"quota_bytes", a.quota_bytes},
                      {"used_bytes", a.used_bytes}, {"state", a.over_quota ? "over_quota" : "ok"},
                      {"created", core::format_utc(a.created_ns)},
                      {"scanned", a.scanned_ns ? core::format_utc(a.scanned_ns) : ""}});
    print(list.dump(2) + "\n");
    return;
  }
  print(fmt::format("{:<32} {:>12} {:>12}  {:<10}  {}\n", "ACCOUNT", "USED", "QUOTA", "STATE", "SCANNED"));
  for (const auto& a : accounts)
    print(fmt::format("{:<32} {:>12} {:>12}  {:<10}  {}\n", a.name, core::format_bytes(a.used_bytes),
                      core::format_bytes(a.quota_bytes), a.over_quota ? "over quota" : "ok",
                      a.scanned_ns ? core::format_utc(a.scanned_ns) : "never"));
}
} // namespace

core::Result<void> cmd_account_list(const config::Config& config, bool as_json) {
  auto db = TRY(state::Db::open(config.state_path));
  print_accounts(TRY(list_accounts(db)), as_json);
  return {};
}

core::Result<void> cmd_status(const config::Config& config, bool as_json) { return cmd_account_list(config, as_json); }

core::Result<void> cmd_scan(const config::Config& config, bool as_json) {
  auto db = TRY(state::Db::open(config.state_path));
  auto result = TRY(scan_usage(config, db));
  for (const auto& name : result.changed)
    for (const auto& a : result.accounts)
      if (a.name == name)
        core::log_info("{}: {} ({} used of {})", name, a.over_quota ? "over quota, writes refused" : "under quota again, writes allowed",
                       core::format_bytes(a.used_bytes), core::format_bytes(a.quota_bytes));
  print_accounts(result.accounts, as_json);
  return {};
}

namespace {
// inotify on every directory of every jail: a finished upload triggers a scan at once, so a peer
// overshoots its quota by at most the uploads in flight when it crossed (one pack per connection).
class JailWatcher {
public:
  JailWatcher() : m_fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}
  ~JailWatcher() {
    if (m_fd >= 0) ::close(m_fd);
  }
  void watch_tree(const std::filesystem::path& root) {
    if (m_fd < 0) return;
    std::error_code error;
    add(root);
    for (auto it = std::filesystem::recursive_directory_iterator(root, error);
         !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error))
      if (it->is_directory(error)) add(it->path());
  }
  // Waits up to `timeout_ms` for a change; true when something changed.
  bool wait(int timeout_ms) {
    if (m_fd < 0) {
      ::usleep(static_cast<useconds_t>(timeout_ms) * 1000);
      return false;
    }
    // The scan's own quota.json (written through a temporary name) must not wake the next scan:
    // such events are read and dropped, and the wait goes on for the time that is left.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    alignas(inotify_event) char buffer[16384];
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd waiting{m_fd, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&waiting, 1, static_cast<int>(left.count())) <= 0) return false;
      bool relevant = false;
      ssize_t n = 0;
      while ((n = ::read(m_fd, buffer, sizeof buffer)) > 0) {
        for (ssize_t at = 0; at < n;) {
          const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
          std::string_view name = event->len ? std::string_view(event->name) : std::string_view();
          if (!name.starts_with("quota.json")) relevant = true;
          at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        }
      }
      if (relevant) return true;
    }
  }

private:
  void add(const std::filesystem::path& dir) {
    if (m_watched.insert(dir.string()).second)
      ::inotify_add_watch(m_fd, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ONLYDIR);
  }
  int m_fd;
  std::set<std::string> m_watched;
};
} // namespace

core::Result<void> cmd_watch(const config::Config& config, int interval_seconds) {
  auto db = TRY(state::Db::open(config.state_path));
  core::log_info("watching {} (changes at once, a full scan every {}s)", config.sftp.backups_dir.string(),
                 interval_seconds);
  JailWatcher watcher;
  while (!core::interrupted()) {
    auto result = scan_usage(config, db);
    if (!result) {
      core::log_error("scan: {}", result.error().message());
    } else {
      for (const auto& name : result->changed)
        for (const auto& a : result->accounts)
          if (a.name == name)
            core::log_info("{}: {} ({} used of {})", name, a.over_quota ? "over quota, writes refused" : "under quota, writes allowed",
                           core::format_bytes(a.used_bytes), core::format_bytes(a.quota_bytes));
      // The backups directory too: a jail made for a new peer is watched from the scan it wakes.
      watcher.watch_tree(config.sftp.backups_dir);
    }
    // Wake on a change in any jail, or at the interval; a short pause gathers a burst of writes.
    if (watcher.wait(interval_seconds * 1000)) ::usleep(100000);
  }
  return core::fail(Errc::interrupted, "interrupted");
}

core::Result<void> cmd_sshd_config(const config::Config& config, const std::string& output) {
  auto db = TRY(state::Db::open(config.state_path));
  auto accounts = TRY(list_accounts(db));
  std::string text = render_sshd_config(config, accounts);
  if (output.empty() || output == "-") print(text);
  else TRY(core::write_file_atomic(output, core::as_bytes(text), 0644));
  return {};
}

core::Result<void> cmd_sync(const config::Config& config, bool as_json) {
  auto db = TRY(state::Db::open(config.state_path));
  auto accounts = TRY(list_accounts(db));
  auto report = TRY(sync_receiver(config, accounts));
  for (const auto& change : report.changes) core::log_info("sync: {}", change);
  if (as_json) print(json{{"changes", report.changes}, {"accounts", accounts.size()}}.dump(2) + "\n");
  else print(report.changes.empty() ? std::string("nothing to change\n")
                                    : fmt::format("{} change(s):\n  {}\n", report.changes.size(),
                                                  fmt::join(report.changes, "\n  ")));
  return {};
}

} // namespace anemone::peers
