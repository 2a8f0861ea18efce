#include "anemone/runtime/watcher.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <poll.h>
#include <unistd.h>

#include "anemone/backup/targets.hpp"
#include "anemone/core/cron.hpp"
#include "anemone/core/log.hpp"
#include "anemone/core/system.hpp"
#include "anemone/core/time.hpp"
#include "anemone/runtime/child_process.hpp"
#include "anemone/runtime/debouncer.hpp"
#include "anemone/runtime/inotify_tree.hpp"
#include "anemone/runtime/run_plan.hpp"
#include "anemone/runtime/watcher_status.hpp"
#include "anemone/state/db.hpp"

namespace anemone::runtime {

using core::Errc;
namespace fs = std::filesystem;

namespace {

constexpr int64_t k_ns_per_ms = 1'000'000;
constexpr int64_t k_publish_every_ms = 1000;
// Even with nothing due, wake now and then: the wall clock may have been set.
constexpr int64_t k_longest_sleep_ms = 60'000;

int64_t mono_ms() { return static_cast<int64_t>(core::monotonic_seconds() * 1000.0); }

// SIGTERM/SIGINT stay blocked except inside ppoll, so one arriving between the check of
// core::interrupted() and the wait still ends the wait at once.
class SignalsBlocked {
public:
  SignalsBlocked() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    ::sigprocmask(SIG_BLOCK, &set, &m_previous);
  }
  ~SignalsBlocked() { ::sigprocmask(SIG_SETMASK, &m_previous, nullptr); }
  const sigset_t& previous() const { return m_previous; }

private:
  sigset_t m_previous;
};

fs::path default_backup_sender() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("backup-sender") : self.parent_path() / "backup-sender";
}

std::string outcome_of(int exit_code) {
  if (exit_code == 0) return "ok";
  if (exit_code == 130 || exit_code == 128 + SIGTERM || exit_code == 128 + SIGINT) return "interrupted";
  return "failed";
}

class Watcher {
public:
  Watcher(const config::Config& config, fs::path backup_sender, state::Db db)
      : m_config(config), m_backup_sender(std::move(backup_sender)), m_db(std::move(db)),
        m_debouncer(config.schedule.debounce_seconds * 1000LL, config.schedule.max_delay_seconds * 1000LL) {}

  core::Result<void> run();

private:
  core::Result<void> prepare();
  // When the next run is due (wall clock, ns); nullopt when nothing is due (live, no change).
  std::optional<int64_t> next_run_ns(int64_t now_ns, int64_t now_mono) const;
  // False (and a re-check planned) while the site has no target at all: a fresh site before its
  // first peer joins is waiting, not failing, so it gets no retry backoff.
  bool has_targets(int64_t now_ns);
  core::Result<void> start_run(int64_t now_ns);
  void finish_run(int exit_code, int64_t now_ns);
  void plan_after_run(int64_t run_started_ns, bool ok, int64_t now_ns);
  core::Result<void> wait_for_events(int64_t timeout_ms);
  void publish(bool force);

  const config::Config& m_config;
  fs::path m_backup_sender;
  state::Db m_db;
  ChangeDebouncer m_debouncer;
  std::optional<InotifyTree> m_tree;
  std::optional<core::CronSchedule> m_schedule;
  std::optional<ChildProcess> m_child;
  uint64_t m_changes_in_run = 0;
  bool m_initial_run = false;              // live: one run at start
  std::optional<int64_t> m_planned_ns;     // periodic/scheduled: the next regular run
  std::optional<int64_t> m_retry_ns;       // after a failure: the retry
  std::optional<int64_t> m_targets_check_ns;  // no target yet: when to look again
  WatcherStatus m_status;
  std::optional<WatcherStatus> m_published;
  int64_t m_published_mono = 0;
};

core::Result<void> Watcher::prepare() {
  const auto& schedule = m_config.schedule;
  m_status.pid = static_cast<int>(::getpid());
  m_status.mode = std::string(config::mode_name(schedule.mode));
  m_status.started_ns = core::now_ns();
  if (m_config.sources.empty()) {
    core::log_info("{} declares no backup.sources: nothing to back up, the watcher idles", m_config.file.string());
    return {};
  }
  int64_t now = core::now_ns();
  auto last_start = TRY(last_backup_start_ns(m_db));
  switch (schedule.mode) {
  case config::BackupMode::live: {
    m_tree = TRY(InotifyTree::open(m_config.sources, written_by_the_core(m_config)));
    m_initial_run = true;
    core::log_info("live mode: watching {} directories in {} sources; a run starts {}s after the last change, "
                   "at most {}s after the first",
                   m_tree->watched_dirs(), m_config.sources.size(), schedule.debounce_seconds,
                   schedule.max_delay_seconds);
    break;
  }
  case config::BackupMode::periodic:
    m_planned_ns = next_periodic_ns(last_start, schedule.interval_minutes * 60'000LL * k_ns_per_ms, now);
    core::log_info("periodic mode: a run every {}; next at {}", core::format_duration_ms(schedule.interval_minutes * 60'000LL),
                   *m_planned_ns <= now ? "once, now" : core::format_utc(*m_planned_ns));
    break;
  case config::BackupMode::scheduled:
    m_schedule = TRY(core::CronSchedule::parse(schedule.schedule));
    m_planned_ns = next_scheduled_ns(*m_schedule, last_start, now);
    if (!m_planned_ns)
      core::log_warning("scheduled mode: \"{}\" never fires; no backup will start", schedule.schedule);
    else if (*m_planned_ns <= now)
      core::log_info("scheduled mode (\"{}\"): a run was missed since {}; running it now", schedule.schedule,
                     core::format_utc(*last_start));
    else
      core::log_info("scheduled mode (\"{}\"): next run at {}", schedule.schedule, core::format_utc(*m_planned_ns));
    break;
  }
  return {};
}

std::optional<int64_t> Watcher::next_run_ns(int64_t now_ns, int64_t now_mono) const {
  std::optional<int64_t> due;
  if (m_config.sources.empty()) return std::nullopt;
  if (m_config.schedule.mode == config::BackupMode::live) {
    if (m_initial_run) {
      due = now_ns;
    } else if (auto at = m_debouncer.due_at()) {
      due = now_ns + (*at - now_mono) * k_ns_per_ms;
      if (m_retry_ns) due = std::max(*due, *m_retry_ns); // a failing target is not hammered per change
    } else if (m_retry_ns) {
      due = m_retry_ns;
    } else if (m_status.last_started_ns) {
      // A quiet source still gets a snapshot now and then (unchanged files are not read again), so
      // its targets' last backup stays younger than health.max_backup_age.
      due = *m_status.last_started_ns + m_config.health.max_backup_age_ms / 2 * k_ns_per_ms;
    }
  } else {
    due = m_planned_ns;
    if (m_retry_ns) due = due ? std::min(*due, *m_retry_ns) : m_retry_ns;
  }
  if (due && m_targets_check_ns) due = std::max(*due, *m_targets_check_ns);
  return due;
}

bool Watcher::has_targets(int64_t now_ns) {
  constexpr int64_t k_targets_check_ms = 10'000;
  // Mesh peers are targets too; they appear in the state file when one joins, config unchanged.
  auto config = backup::with_peer_targets(config::Config(m_config));
  bool found = !config || !config->targets.empty(); // an unreadable mesh: let backup-sender say why
  if (found) {
    if (m_targets_check_ns) core::log_info("a backup target exists now; starting the waiting run");
    m_targets_check_ns.reset();
    return true;
  }
  if (!m_targets_check_ns)
    core::log_info("no backup target yet ({} declares no backup.targets and no peer has joined); the run "
                   "waits until one exists (checked every {}s)",
                   m_config.file.string(), k_targets_check_ms / 1000);
  m_targets_check_ns = now_ns + k_targets_check_ms * k_ns_per_ms;
  publish(true);
  return false;
}

core::Result<void> Watcher::start_run(int64_t now_ns) {
  std::vector<std::string> argv{m_backup_sender.string(), "--config", fs::absolute(m_config.file).string(), "run",
                                "--wait"};
  m_changes_in_run = m_debouncer.pending_changes();
  core::log_info("starting backup-sender run{}",
                 m_changes_in_run ? fmt::format(" ({} changes)", m_changes_in_run)
                 : m_initial_run  ? " (start of the watcher)"
                 : m_retry_ns     ? fmt::format(" (retry {} after a failure)", m_status.consecutive_failures)
                                  : "");
  auto child = ChildProcess::spawn(argv, {.environment = {}, .own_group = false, .stdout_to_stderr = true});
  if (!child) return tl::unexpected(child.error());
  m_child.emplace(std::move(*child));
  m_debouncer.on_run_started();
  m_initial_run = false;
  m_retry_ns.reset();
  m_planned_ns.reset();
  m_status.run_pid = m_child->pid();
  m_status.run_started_ns = now_ns;
  m_status.runs_started++;
  m_status.last_started_ns = now_ns;
  publish(true);
  return {};
}

void Watcher::finish_run(int exit_code, int64_t now_ns) {
  int64_t started = m_status.run_started_ns.value_or(now_ns);
  std::string outcome = outcome_of(exit_code);
  double seconds = static_cast<double>(now_ns - started) / 1e9;
  m_child.reset();
  m_status.run_pid.reset();
  m_status.run_started_ns.reset();
  m_status.last_finished_ns = now_ns;
  m_status.last_outcome = outcome;
  m_status.last_exit_code = exit_code;
  if (outcome == "ok") {
    m_status.consecutive_failures = 0;
    core::log_info("backup-sender run finished in {:.1f}s", seconds);
  } else if (outcome == "failed") {
    m_status.consecutive_failures++;
    int64_t delay = retry_delay_ms(m_status.consecutive_failures);
    m_retry_ns = now_ns + delay * k_ns_per_ms;
    core::log_error("backup-sender run failed (exit {}) after {:.1f}s; retry in {}", exit_code, seconds,
                    core::format_duration_ms(delay));
    if (m_config.schedule.mode == config::BackupMode::live) m_debouncer.on_run_failed(mono_ms(), m_changes_in_run);
  } else {
    core::log_warning("backup-sender run was interrupted after {:.1f}s", seconds);
    // Stopped by someone else while the watcher goes on: what it was to back up is still pending.
    if (!core::interrupted() && m_config.schedule.mode == config::BackupMode::live)
      m_debouncer.on_run_failed(mono_ms(), m_changes_in_run);
  }
  plan_after_run(started, outcome == "ok", now_ns);
  publish(true);
}

void Watcher::plan_after_run(int64_t run_started_ns, bool ok, int64_t now_ns) {
  const auto& schedule = m_config.schedule;
  if (schedule.mode == config::BackupMode::periodic) {
    m_planned_ns = next_periodic_ns(run_started_ns, schedule.interval_minutes * 60'000LL * k_ns_per_ms, now_ns);
  } else if (schedule.mode == config::BackupMode::scheduled && m_schedule) {
    // From now: a schedule that fired while the run went on is not run twice in a row.
    m_planned_ns = next_scheduled_ns(*m_schedule, std::nullopt, now_ns);
  }
  (void)ok;
}

void Watcher::publish(bool force) {
  int64_t now_mono = mono_ms();
  int64_t now = core::now_ns();
  m_status.watched_dirs = m_tree ? m_tree->watched_dirs() : 0;
  m_status.overflows = m_tree ? m_tree->overflows() : 0;
  m_status.pending_changes = m_debouncer.pending_changes();
  m_status.first_change_ns.reset();
  if (auto first = m_debouncer.first_change_ms()) m_status.first_change_ns = now - (now_mono - *first) * k_ns_per_ms;
  m_status.next_run_ns = m_child ? std::nullopt : next_run_ns(now, now_mono);
  // Times derived from the monotonic clock jitter by a millisecond or so; compare them coarsely.
  auto coarse = [](WatcherStatus s) {
    s.updated_ns = 0;
    if (s.first_change_ns) *s.first_change_ns /= 1'000'000'000;
    if (s.next_run_ns) *s.next_run_ns /= 1'000'000'000;
    return s;
  };
  if (m_published && coarse(*m_published) == coarse(m_status)) return;
  if (!force && now_mono - m_published_mono < k_publish_every_ms) return;
  m_status.updated_ns = now;
  if (auto written = publish_status(m_db, m_status); !written) {
    core::log_warning("cannot publish the watcher's status: {}", written.error().message());
    return;
  }
  m_published = m_status;
  m_published_mono = now_mono;
}

core::Result<void> Watcher::wait_for_events(int64_t timeout_ms) {
  std::vector<pollfd> fds;
  if (m_tree) fds.push_back({m_tree->fd(), POLLIN, 0});
  if (m_child) fds.push_back({m_child->pidfd(), POLLIN, 0});
  timespec timeout{static_cast<time_t>(timeout_ms / 1000), static_cast<long>((timeout_ms % 1000) * k_ns_per_ms)};
  sigset_t unblocked;
  sigemptyset(&unblocked);
  int ready = ::ppoll(fds.data(), fds.size(), &timeout, &unblocked);
  if (ready < 0 && errno != EINTR) return core::fail_errno("ppoll", errno);
  if (m_tree) {
    uint64_t changes = (ready > 0 && (fds[0].revents & POLLIN)) ? TRY(m_tree->read_changes()) : 0;
    changes += TRY(m_tree->rewatch_missing_roots());
    if (changes) m_debouncer.on_change(mono_ms(), changes);
  }
  return {};
}

core::Result<void> Watcher::run() {
  TRY(prepare());
  SignalsBlocked blocked;
  publish(true);
  while (!core::interrupted()) {
    int64_t now = core::now_ns();
    if (m_child) {
      if (auto code = m_child->try_wait()) {
        finish_run(*code, now);
        continue;
      }
    } else if (auto due = next_run_ns(now, mono_ms()); due && *due <= now) {
      if (has_targets(now)) TRY(start_run(now));
      continue;
    }
    publish(false);
    int64_t timeout_ms = k_longest_sleep_ms;
    if (!m_child)
      if (auto due = next_run_ns(now, mono_ms())) timeout_ms = std::clamp<int64_t>((*due - now) / k_ns_per_ms + 1, 0, timeout_ms);
    // A source root that went away is looked for every few seconds.
    if (m_tree && m_tree->has_missing_roots()) timeout_ms = std::min<int64_t>(timeout_ms, 5000);
    // Unpublished news waits at most a second.
    if (m_published && !(*m_published == m_status)) timeout_ms = std::min(timeout_ms, k_publish_every_ms);
    TRY(wait_for_events(timeout_ms));
  }
  if (m_child) {
    core::log_info("stopping: waiting for the running backup (pid {}) to stop", m_child->pid());
    m_child->signal(SIGTERM);
    finish_run(m_child->wait(), core::now_ns());
  }
  m_status.next_run_ns.reset();
  core::log_info("stopped");
  return {};
}

} // namespace

std::vector<fs::path> written_by_the_core(const config::Config& config) {
  std::vector<fs::path> dirs{config.state_path.parent_path(), config.logs_dir, config.run_dir, config.sftp.backups_dir};
  for (const auto& target : config.targets)
    if (target.type == config::TargetType::local) dirs.push_back(target.path);
  // Compared with the sources' canonical paths: symlinks resolved, no trailing '/' (which would
  // leave an empty last element and match nothing, so each run's own writes would start the next).
  for (auto& dir : dirs) {
    std::error_code ec;
    fs::path resolved = fs::weakly_canonical(fs::absolute(dir), ec);
    dir = ec ? fs::absolute(dir).lexically_normal() : resolved;
    if (!dir.has_filename() && dir.has_parent_path() && dir != dir.root_path()) dir = dir.parent_path();
  }
  return dirs;
}

core::Result<void> run_watcher(const config::Config& config, const WatcherOptions& options) {
  auto db = TRY(state::Db::open(config.state_path));
  fs::path backup_sender = options.backup_sender.empty() ? default_backup_sender() : options.backup_sender;
  if (::access(backup_sender.c_str(), X_OK) != 0)
    return core::fail(Errc::config, "cannot run {}: {}", backup_sender.string(), std::strerror(errno));
  Watcher watcher(config, std::move(backup_sender), std::move(db));
  return watcher.run();
}

} // namespace anemone::runtime
