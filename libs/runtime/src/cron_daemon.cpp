#include "anemone/runtime/cron_daemon.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <list>
#include <poll.h>
#include <unistd.h>

#include "anemone/core/fs.hpp"
#include "anemone/core/log.hpp"
#include "anemone/core/system.hpp"
#include "anemone/core/time.hpp"
#include "anemone/runtime/child_process.hpp"
#include "anemone/runtime/crontab.hpp"

namespace anemone::runtime {

namespace fs = std::filesystem;

namespace {

constexpr int64_t k_ns_per_s = 1'000'000'000;
constexpr int64_t k_longest_sleep_ms = 60'000;
constexpr uintmax_t k_rotate_bytes = 10ull << 20;
constexpr int k_rotated_kept = 3;

struct RunningJob {
  size_t job = 0;
  ChildProcess process;
  double started = 0;
};

std::vector<std::string> job_environment(const config::Config& config, const Crontab& crontab) {
  std::error_code ec;
  fs::path tools = fs::read_symlink("/proc/self/exe", ec).parent_path();
  const char* path = std::getenv("PATH");
  std::vector<std::string> env{
      "ANEMONE_CONFIG=" + fs::absolute(config.file).string(),
      "ANEMONE_LOGS=" + config.logs_dir.string(),
      "PATH=" + tools.string() + ":" + (path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
  };
  for (const auto& [name, value] : crontab.environment) env.push_back(name + "=" + value);
  return env;
}

std::time_t now_s() { return static_cast<std::time_t>(core::now_ns() / k_ns_per_s); }

} // namespace

void rotate_cron_logs(const fs::path& logs_dir, uintmax_t max_bytes, int keep) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(logs_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with("cron-") || !name.ends_with(".log")) continue;
    if (!entry.is_regular_file(ec) || entry.file_size(ec) <= max_bytes) continue;
    fs::path base = entry.path();
    fs::remove(fs::path(base.string() + "." + std::to_string(keep)), ec);
    for (int i = keep - 1; i >= 1; --i) // (a missing .i is no error)
      fs::rename(fs::path(base.string() + "." + std::to_string(i)), fs::path(base.string() + "." + std::to_string(i + 1)), ec);
    ec.clear();
    fs::rename(base, fs::path(base.string() + ".1"), ec);
    if (ec) core::log_warning("cannot rotate {}: {}", base.string(), ec.message());
    else core::log_info("rotated {}", base.string());
  }
}

core::Result<void> run_cron(const config::Config& config, const fs::path& crontab_file) {
  std::string text = TRY(core::read_text_file(crontab_file));
  Crontab crontab = TRY(parse_crontab(text, crontab_file.string()));
  std::vector<std::string> environment = job_environment(config, crontab);
  std::vector<std::optional<std::time_t>> next(crontab.jobs.size());
  for (size_t i = 0; i < crontab.jobs.size(); ++i) {
    next[i] = crontab.jobs[i].schedule.next_after(now_s());
    core::log_info("job {} (line {}, \"{}\"): {}; next at {}", i + 1, crontab.jobs[i].line,
                   crontab.jobs[i].schedule.text(), crontab.jobs[i].command,
                   next[i] ? core::format_utc(*next[i] * k_ns_per_s) : "never");
  }
  if (crontab.jobs.empty()) core::log_info("{} has no jobs; idling", crontab_file.string());

  // As in the watcher: signals only arrive inside ppoll, so none is lost between check and wait.
  sigset_t blocked, previous, unblocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  sigemptyset(&unblocked);
  ::sigprocmask(SIG_BLOCK, &blocked, &previous);

  std::list<RunningJob> running;
  while (!core::interrupted()) {
    for (auto it = running.begin(); it != running.end();) {
      if (auto code = it->process.try_wait()) {
        const CronJob& job = crontab.jobs[it->job];
        double seconds = core::monotonic_seconds() - it->started;
        if (*code == 0) core::log_info("job {} (line {}) finished in {:.1f}s", it->job + 1, job.line, seconds);
        else core::log_error("job {} (line {}) failed: exit {} after {:.1f}s", it->job + 1, job.line, *code, seconds);
        it = running.erase(it);
      } else {
        ++it;
      }
    }
    std::time_t now = now_s();
    for (size_t i = 0; i < crontab.jobs.size(); ++i) {
      if (!next[i] || *next[i] > now) continue;
      next[i] = crontab.jobs[i].schedule.next_after(now);
      const CronJob& job = crontab.jobs[i];
      bool busy = std::any_of(running.begin(), running.end(), [&](const RunningJob& r) { return r.job == i; });
      if (busy) {
        core::log_warning("job {} (line {}) is still running; not starting it again", i + 1, job.line);
        continue;
      }
      rotate_cron_logs(config.logs_dir, k_rotate_bytes, k_rotated_kept);
      auto child = ChildProcess::spawn({"/bin/sh", "-c", job.command}, {.environment = environment, .own_group = true, .stdout_to_stderr = false});
      if (!child) {
        core::log_error("job {} (line {}): {}", i + 1, job.line, child.error().message());
        continue;
      }
      core::log_info("job {} (line {}) started (pid {}): {}", i + 1, job.line, child->pid(), job.command);
      running.push_back(RunningJob{i, std::move(*child), core::monotonic_seconds()});
    }
    int64_t timeout_ms = k_longest_sleep_ms;
    for (const auto& due : next)
      if (due) timeout_ms = std::min<int64_t>(timeout_ms, std::max<int64_t>(0, (*due - now_s()) * 1000 + 50));
    std::vector<pollfd> fds;
    for (const auto& job : running) fds.push_back({job.process.pidfd(), POLLIN, 0});
    timespec timeout{static_cast<time_t>(timeout_ms / 1000), static_cast<long>((timeout_ms % 1000) * 1'000'000)};
    if (::ppoll(fds.data(), fds.size(), &timeout, &unblocked) < 0 && errno != EINTR) {
      ::sigprocmask(SIG_SETMASK, &previous, nullptr);
      return core::fail_errno("ppoll", errno);
    }
  }
  // Every job's group hears TERM at once, so several slow jobs stop together, inside supervisord's
  // stopwaitsecs; jobs lead their own groups, so supervisord's own signals never reach them.
  for (auto& job : running) {
    core::log_info("stopping: job {} (pid {})", job.job + 1, job.process.pid());
    job.process.signal(SIGTERM);
  }
  // Up to 45 s to stop (supervisord waits 60 s for the daemon), then KILL to their groups: a job
  // must not outlive the daemon and hold the site lock with nobody to reap it.
  constexpr double k_stop_seconds = 45;
  double deadline = core::monotonic_seconds() + k_stop_seconds;
  while (!running.empty()) {
    running.remove_if([](RunningJob& job) { return job.process.try_wait().has_value(); });
    if (running.empty()) break;
    if (core::monotonic_seconds() >= deadline) {
      for (auto& job : running) {
        core::log_warning("job {} (pid {}) did not stop within {:.0f}s; killing it", job.job + 1, job.process.pid(),
                          k_stop_seconds);
        job.process.signal(SIGKILL);
      }
      running.clear(); // waits for each
      break;
    }
    ::usleep(100'000);
  }
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  core::log_info("stopped");
  return {};
}

} // namespace anemone::runtime
