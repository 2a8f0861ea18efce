#include "anemone/runtime/commands.hpp"

#include <nlohmann/json.hpp>

#include "anemone/core/fs.hpp"
#include "anemone/core/output.hpp"
#include "anemone/core/system.hpp"
#include "anemone/core/time.hpp"
#include "anemone/peers/receiver.hpp"
#include "anemone/runtime/watcher_status.hpp"
#include "anemone/state/db.hpp"

namespace anemone::runtime {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json time_or_null(const std::optional<int64_t>& ns) { return ns ? json(core::format_utc(*ns)) : json(nullptr); }

// "in 12s", "3m ago": relative to now, to the second.
std::string relative(int64_t ns, int64_t now) {
  int64_t ms = (ns - now) / 1'000'000;
  if (ms >= 0) return "in " + core::format_duration_ms((ms + 999) / 1000 * 1000);
  return core::format_duration_ms(-ms / 1000 * 1000) + " ago";
}

std::string mode_settings(const config::Config& config) {
  const auto& s = config.schedule;
  switch (s.mode) {
  case config::BackupMode::live:
    return fmt::format("live (debounce {}s, max delay {}s)", s.debounce_seconds, s.max_delay_seconds);
  case config::BackupMode::periodic:
    return fmt::format("periodic (every {})", core::format_duration_ms(s.interval_minutes * 60'000LL));
  case config::BackupMode::scheduled:
    return fmt::format("scheduled (\"{}\", local time)", s.schedule);
  }
  return "";
}

// Alive, not a zombie, and a watcher: a pid reused by another program does not count.
bool watcher_alive(int pid) {
  std::string stat = core::read_text_file(fmt::format("/proc/{}/stat", pid)).value_or("");
  size_t open = stat.find('('), close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 2 >= stat.size()) return false;
  return stat.substr(open + 1, close - open - 1) == "watcher" && stat[close + 2] != 'Z';
}

std::string shell_quoted(const std::string& value) {
  std::string out = "'";
  for (char c : value) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

} // namespace

core::Result<void> cmd_status(const config::Config& config, bool json_out) {
  std::optional<WatcherStatus> status;
  if (fs::exists(config.state_path)) {
    auto db = TRY(state::Db::open(config.state_path));
    status = TRY(read_status(db));
  }
  bool running = status && watcher_alive(status->pid);
  int64_t now = core::now_ns();
  if (json_out) {
    json out = {{"running", running}, {"mode", config::mode_name(config.schedule.mode)}};
    if (status) {
      out["pid"] = running ? json(status->pid) : json(nullptr);
      out["started"] = core::format_utc(status->started_ns);
      out["updated"] = core::format_utc(status->updated_ns);
      out["watched_dirs"] = status->watched_dirs;
      out["pending_changes"] = status->pending_changes;
      out["first_change"] = time_or_null(status->first_change_ns);
      out["next_run"] = running ? time_or_null(status->next_run_ns) : json(nullptr);
      out["run"] = running && status->run_pid ? json{{"pid", *status->run_pid}, {"started", time_or_null(status->run_started_ns)}}
                                              : json(nullptr);
      out["runs_started"] = status->runs_started;
      out["last_run"] = status->last_started_ns
                            ? json{{"started", time_or_null(status->last_started_ns)},
                                   {"finished", time_or_null(status->last_finished_ns)},
                                   {"outcome", status->last_outcome ? json(*status->last_outcome) : json(nullptr)},
                                   {"exit_code", status->last_exit_code ? json(*status->last_exit_code) : json(nullptr)}}
                            : json(nullptr);
      out["consecutive_failures"] = status->consecutive_failures;
      out["overflows"] = status->overflows;
    }
    core::print_json(out);
    return {};
  }
  core::print_line("mode: {}", mode_settings(config));
  if (!status) {
    core::print_line("watcher: has not run on this site ({})", config.state_path.string());
    return {};
  }
  if (!running) {
    core::print_line("watcher: not running (last seen {}, pid {})", core::format_utc(status->updated_ns), status->pid);
  } else {
    core::print_line("watcher: running (pid {}, since {})", status->pid, core::format_utc(status->started_ns));
  }
  if (config.schedule.mode == config::BackupMode::live)
    core::print_line("watched directories: {}{}", status->watched_dirs,
                     status->overflows ? fmt::format(" ({} queue overflows, rescanned)", status->overflows) : "");
  if (status->pending_changes)
    core::print_line("pending changes: {} (first {})", status->pending_changes, relative(*status->first_change_ns, now));
  else if (config.schedule.mode == config::BackupMode::live)
    core::print_line("pending changes: none");
  if (running && status->run_pid)
    core::print_line("running now: backup-sender run (pid {}, started {})", *status->run_pid,
                     relative(status->run_started_ns.value_or(now), now));
  else if (running && status->next_run_ns)
    core::print_line("next run: {} ({})", core::format_utc(*status->next_run_ns), relative(*status->next_run_ns, now));
  else if (running)
    core::print_line("next run: after the next change");
  if (status->last_started_ns && status->last_outcome) {
    core::print_line("last run: {} ({}), {}{}", core::format_utc(*status->last_started_ns),
                     relative(*status->last_started_ns, now), *status->last_outcome,
                     *status->last_outcome == "ok" ? "" : fmt::format(" (exit {})", status->last_exit_code.value_or(-1)));
    if (status->consecutive_failures > 1)
      core::print_line("failures in a row: {}", status->consecutive_failures);
  } else {
    core::print_line("last run: none yet");
  }
  return {};
}

core::Result<void> cmd_env(const config::Config& config) {
  fs::path state_dir = config.state_path.parent_path();
  std::vector<std::pair<std::string, std::string>> values{
      {"ANEMONE_CONFIG", fs::absolute(config.file).string()},
      {"ANEMONE_LOGS", config.logs_dir.string()},
      {"ANEMONE_RUN", config.run_dir.string()},
      {"ANEMONE_STATE_DIR", state_dir.string()},
      {"ANEMONE_SSHD_CONFIG", peers::receiver_layout(config).sshd_config.string()},
      {"ANEMONE_WG_INTERFACE", config.wireguard.interface},
      {"ANEMONE_SECRETS", config.secrets_dir.string()},
      // The platform (issue 6): whether its programs run here, Caddy's admin address (host:port,
      // as caddy_admin was validated to be http://HOST:PORT) and Caddy's data directory.
      {"ANEMONE_PLATFORM", config.platform.enabled ? "enabled" : "disabled"},
      {"ANEMONE_CADDY_ADMIN", config.platform.caddy_admin.substr(std::string_view("http://").size())},
      {"ANEMONE_CADDY_HOME", (state_dir / "caddy").string()},
  };
  for (const auto& [name, value] : values) core::print_line("{}={}", name, shell_quoted(value));
  return {};
}

} // namespace anemone::runtime
