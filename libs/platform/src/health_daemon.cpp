#include "anemone/platform/health_daemon.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <sys/signalfd.h>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "anemone/core/fs.hpp"
#include "anemone/core/log.hpp"
#include "anemone/core/system.hpp"
#include "anemone/core/time.hpp"
#include "anemone/platform/hysteresis.hpp"
#include "anemone/platform/prober.hpp"
#include "anemone/state/platform.hpp"

namespace anemone::platform {

namespace {

using state::BackendState;

// Even with nothing due, look at the clock (and the registry's generation) this often.
constexpr int64_t k_longest_wait_ms = 1000;
// Without a signalfd a signal is only seen between waits: keep them short.
constexpr int64_t k_longest_wait_without_signalfd_ms = 200;
constexpr int64_t k_warn_every_ms = 60'000;
constexpr int64_t k_ns_per_ms = 1'000'000;
// Health stored by an earlier run keeps its streak only if it is this recent.
constexpr int64_t k_streak_gap_intervals = 3;
constexpr int64_t k_streak_gap_minimum_ms = 10'000;

int64_t mono_ms() { return static_cast<int64_t>(core::monotonic_seconds() * 1000.0); }

// SIGTERM/SIGINT stay blocked while the checker runs, and a signalfd makes one that arrives
// readable inside the same curl_multi_poll that waits for the probes: libcurl's poll takes no
// signal mask, so the watcher's ppoll trick does not apply, and a signal arriving between the check
// and the wait is not lost (it stays pending, the fd stays readable). On the way out the mask is
// restored: the pending signal then reaches core's handler, which sets core::interrupted() as usual.
class StopSignals {
public:
  StopSignals() {
    sigemptyset(&m_set);
    sigaddset(&m_set, SIGTERM);
    sigaddset(&m_set, SIGINT);
    ::sigprocmask(SIG_BLOCK, &m_set, &m_previous);
    m_fd = core::UniqueFd(::signalfd(-1, &m_set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!m_fd) m_errno = errno;
  }
  ~StopSignals() {
    m_fd.reset();
    ::sigprocmask(SIG_SETMASK, &m_previous, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  int fd() const { return m_fd.get(); }
  int open_errno() const { return m_errno; }
  bool received() const {
    if (core::interrupted()) return true;
    sigset_t pending;
    if (::sigpending(&pending) != 0) return false;
    return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
  }

private:
  sigset_t m_set;
  sigset_t m_previous;
  core::UniqueFd m_fd;
  int m_errno = 0;
};

uint64_t process_seed() {
  std::random_device device;
  uint64_t seed = (static_cast<uint64_t>(device()) << 32) ^ device();
  return seed ^ static_cast<uint64_t>(core::now_ns()) ^ (static_cast<uint64_t>(::getpid()) << 17);
}

struct Tracked {
  uint64_t id = 0; // this process's handle: the probe's id and the schedule's key
  state::BackendRecord record;
  config::HealthSpec spec;
  ProbeRequest request;
  state::BackendHealth health;
  uint64_t jitter_key = 0;
  uint64_t probes = 0; // the jitter sequence
  bool in_flight = false;
  int64_t started_ms = 0;
};

struct ReloadCounts {
  size_t added = 0;
  size_t removed = 0;
  size_t changed = 0;
};

class HealthChecker {
public:
  HealthChecker(state::Db& db, const HealthCheckerOptions& options, Prober prober)
      : m_db(db), m_options(options), m_prober(std::move(prober)), m_seed(process_seed()) {}

  core::Result<void> run();

private:
  core::Result<ReloadCounts> reload(int64_t now_ms);
  void check_registry(int64_t now_ms);
  void start_due(int64_t now_ms);
  void on_finished(const ProbeCompletion& completion, int64_t now_ms);
  bool flush_due(int64_t now_ms) const;
  void flush(int64_t now_ms);
  int64_t wait_ms(int64_t now_ms, bool have_signalfd);
  void forget(uint64_t id);
  void log_population(std::string_view prefix);
  // A warning that repeats (the state file busy for a minute) is logged once a minute.
  template <typename... Args> void warn_limited(int64_t& last_ms, fmt::format_string<Args...> f, Args&&... args) {
    int64_t now = mono_ms();
    if (now - last_ms < k_warn_every_ms) return;
    last_ms = now;
    core::log_warning(f, std::forward<Args>(args)...);
  }

  state::Db& m_db;
  HealthCheckerOptions m_options;
  Prober m_prober;
  uint64_t m_seed;
  uint64_t m_next_id = 1;
  std::unordered_map<uint64_t, Tracked> m_backends;
  std::unordered_map<std::string, uint64_t> m_ids; // by backend name
  ProbeSchedule m_schedule;
  size_t m_services = 0;
  bool m_said_empty = false;

  int64_t m_generation = 0;
  int64_t m_generation_checked_ms = 0;
  int64_t m_reloaded_ms = 0;

  std::unordered_map<std::string, state::BackendHealth> m_unsaved_rows; // newest per backend
  std::vector<state::HealthEvent> m_unsaved_events;
  int64_t m_flushed_ms = 0;
  bool m_save_failing = false;

  int64_t m_warned_save_ms = std::numeric_limits<int64_t>::min() / 2;
  int64_t m_warned_registry_ms = std::numeric_limits<int64_t>::min() / 2;
  int64_t m_warned_start_ms = std::numeric_limits<int64_t>::min() / 2;
};

core::Result<ReloadCounts> HealthChecker::reload(int64_t now_ms) {
  auto registry = TRY(state::load_registry(m_db));
  m_reloaded_ms = now_ms;
  ReloadCounts counts;
  std::optional<std::map<std::string, state::BackendHealth>> stored;
  std::unordered_set<std::string> listed;
  for (const auto& record : registry.backends) {
    const config::ServiceSpec* service = registry.find_service(record.spec.service);
    if (!service) continue; // the registry's foreign keys forbid it
    const std::string& name = record.spec.name;
    listed.insert(name);
    ProbeRequest request = probe_request(record.spec, *service);
    if (auto known = m_ids.find(name); known != m_ids.end()) {
      Tracked& tracked = m_backends.at(known->second);
      bool probe_changed = !(tracked.request == request) || !(tracked.spec == service->health);
      bool record_changed = !(tracked.record.spec == record.spec) || tracked.record.drained != record.drained;
      tracked.record = record;
      if (probe_changed) {
        // The state so far stays (caddy-sync keeps routing on it); the next probes, sooner than
        // usual, confirm or overturn it under the usual rise/fall rules.
        tracked.request = std::move(request);
        tracked.spec = service->health;
        if (tracked.in_flight) m_prober.cancel(tracked.id);
        tracked.in_flight = false;
        m_schedule.set(tracked.id,
                       now_ms + first_probe_delay_ms(tracked.spec, jitter_value(tracked.jitter_key, ++tracked.probes)));
      }
      if (probe_changed || record_changed) ++counts.changed;
      continue;
    }
    // Health from an earlier run (or a restart) is kept: a restart does not send backends back
    // to unknown.
    if (!stored) stored = TRY(state::load_health(m_db));
    Tracked tracked;
    tracked.id = m_next_id++;
    tracked.record = record;
    tracked.spec = service->health;
    tracked.request = std::move(request);
    tracked.jitter_key = backend_jitter_key(name, m_seed);
    if (auto row = stored->find(name); row != stored->end()) {
      tracked.health = row->second;
      // A streak interrupted by a stop is not "in a row" with what follows: the state stays, the
      // counters start again.
      int64_t gap_ms = (core::now_ns() - tracked.health.checked_ns) / k_ns_per_ms;
      if (gap_ms > std::max(k_streak_gap_intervals * tracked.spec.interval_ms, k_streak_gap_minimum_ms)) {
        tracked.health.passes = 0;
        tracked.health.failures = 0;
      }
    } else {
      tracked.health.backend = name;
      tracked.health.since_ns = core::now_ns();
    }
    m_schedule.set(tracked.id, now_ms + first_probe_delay_ms(tracked.spec, jitter_value(tracked.jitter_key, 0)));
    m_ids.emplace(name, tracked.id);
    m_backends.emplace(tracked.id, std::move(tracked));
    ++counts.added;
  }
  for (auto it = m_ids.begin(); it != m_ids.end();) {
    if (listed.count(it->first)) {
      ++it;
      continue;
    }
    forget(it->second);
    m_unsaved_rows.erase(it->first);
    it = m_ids.erase(it);
    ++counts.removed;
  }
  m_services = registry.services.size();
  if (m_backends.empty() && !m_said_empty)
    core::log_info("no backends registered yet (caddy-sync adds them); waiting for some");
  m_said_empty = m_backends.empty();
  return counts;
}

void HealthChecker::forget(uint64_t id) {
  auto found = m_backends.find(id);
  if (found == m_backends.end()) return;
  if (found->second.in_flight) m_prober.cancel(id);
  m_schedule.erase(id);
  m_backends.erase(found);
}

void HealthChecker::log_population(std::string_view prefix) {
  size_t up = 0, down = 0, unknown = 0;
  for (const auto& [id, tracked] : m_backends) {
    switch (tracked.health.state) {
    case BackendState::up: ++up; break;
    case BackendState::down: ++down; break;
    case BackendState::unknown: ++unknown; break;
    }
  }
  core::log_info("{}probing {} backends of {} services ({} up, {} down, {} not probed yet), at most {} at a time",
                 prefix, m_backends.size(), m_services, up, down, unknown, m_options.max_in_flight);
}

void HealthChecker::check_registry(int64_t now_ms) {
  bool periodic = now_ms - m_reloaded_ms >= m_options.reload_every_ms;
  if (!periodic && now_ms - m_generation_checked_ms < m_options.generation_check_ms) return;
  m_generation_checked_ms = now_ms;
  auto generation = state::platform_generation(m_db);
  if (!generation) {
    warn_limited(m_warned_registry_ms, "cannot read the registry's generation: {}", generation.error().message());
    return;
  }
  if (*generation == m_generation && !periodic) return;
  auto counts = reload(now_ms);
  if (!counts) {
    warn_limited(m_warned_registry_ms, "cannot reload the registry (still probing the backends known before): {}",
                 counts.error().message());
    return;
  }
  m_generation = *generation;
  if (counts->added || counts->removed || counts->changed)
    log_population(fmt::format("registry changed ({} added, {} removed, {} changed): ", counts->added, counts->removed,
                               counts->changed));
}

void HealthChecker::start_due(int64_t now_ms) {
  while (m_prober.can_start()) {
    auto id = m_schedule.pop_due(now_ms);
    if (!id) return;
    auto found = m_backends.find(*id);
    if (found == m_backends.end()) continue;
    Tracked& tracked = found->second;
    if (auto started = m_prober.start(tracked.id, tracked.request); !started) {
      // Not the backend's fault (libcurl could not set the probe up): no verdict, try again later.
      warn_limited(m_warned_start_ms, "backend {}: cannot start a probe: {}", tracked.record.spec.name,
                   started.error().message());
      m_schedule.set(tracked.id, now_ms + std::max<int64_t>(tracked.spec.interval_ms, 1));
      continue;
    }
    tracked.in_flight = true;
    tracked.started_ms = now_ms;
  }
}

void HealthChecker::on_finished(const ProbeCompletion& completion, int64_t now_ms) {
  auto found = m_backends.find(completion.id);
  if (found == m_backends.end()) return;
  Tracked& tracked = found->second;
  tracked.in_flight = false;
  auto update = apply_probe(tracked.record.spec, tracked.health, completion.result, tracked.spec, core::now_ns());
  tracked.health = std::move(update.health);
  m_unsaved_rows[tracked.record.spec.name] = tracked.health;
  if (update.event) {
    const auto& event = *update.event;
    auto level = event.to == BackendState::up ? core::LogLevel::info : core::LogLevel::warning;
    core::log_line(level, fmt::format("backend {} (site {}) {} -> {}: {}", event.backend, event.site,
                                      state::state_name(event.from), state::state_name(event.to), event.reason));
    m_unsaved_events.push_back(std::move(*update.event));
  }
  // From the start of this probe; a probe that took longer than the delay is followed at once.
  int64_t delay = next_probe_delay_ms(tracked.health, tracked.spec, jitter_value(tracked.jitter_key, ++tracked.probes));
  m_schedule.set(tracked.id, std::max(tracked.started_ms + delay, now_ms));
}

bool HealthChecker::flush_due(int64_t now_ms) const {
  if (m_unsaved_rows.empty() && m_unsaved_events.empty()) return false;
  if (!m_unsaved_events.empty() && !m_save_failing) return true; // a transition is written at once
  return now_ms - m_flushed_ms >= m_options.flush_every_ms;
}

void HealthChecker::flush(int64_t now_ms) {
  if (m_unsaved_rows.empty() && m_unsaved_events.empty()) return;
  std::vector<state::BackendHealth> rows;
  rows.reserve(m_unsaved_rows.size());
  for (const auto& [name, row] : m_unsaved_rows) rows.push_back(row);
  auto before = state::platform_generation(m_db);
  auto saved = state::save_health(m_db, rows, m_unsaved_events);
  m_flushed_ms = now_ms;
  if (!saved) {
    m_save_failing = true;
    warn_limited(m_warned_save_ms, "cannot record health in {} (kept, retried every {} ms): {}",
                 m_db.path().string(), m_options.flush_every_ms, saved.error().message());
    return;
  }
  if (m_save_failing) core::log_info("health recorded again in {}", m_db.path().string());
  m_save_failing = false;
  m_unsaved_rows.clear();
  m_unsaved_events.clear();
  // A transition moves platform_generation too (it is a routing change for caddy-sync): that is
  // not a registry change to reload for. A change by someone else since the last look still is.
  if (before && *before == m_generation)
    if (auto after = state::platform_generation(m_db)) m_generation = *after;
}

int64_t HealthChecker::wait_ms(int64_t now_ms, bool have_signalfd) {
  int64_t wait = have_signalfd ? k_longest_wait_ms : k_longest_wait_without_signalfd_ms;
  // With every slot taken, due probes wait for a completion (socket activity ends the wait).
  if (m_prober.can_start())
    if (auto due = m_schedule.next_due()) wait = std::min(wait, *due - now_ms);
  if (!m_unsaved_rows.empty() || !m_unsaved_events.empty())
    wait = std::min(wait, m_flushed_ms + m_options.flush_every_ms - now_ms);
  wait = std::min(wait, m_generation_checked_ms + m_options.generation_check_ms - now_ms);
  wait = std::min(wait, m_reloaded_ms + m_options.reload_every_ms - now_ms);
  return std::max<int64_t>(wait, 0);
}

core::Result<void> HealthChecker::run() {
  StopSignals stop;
  if (stop.fd() < 0)
    core::log_warning("signalfd: {}; SIGTERM is noticed within {} ms instead of at once", std::strerror(stop.open_errno()),
                      k_longest_wait_without_signalfd_ms);
  int64_t now = mono_ms();
  m_generation = TRY(state::platform_generation(m_db));
  m_generation_checked_ms = now;
  TRY(reload(now));
  m_flushed_ms = now;
  log_population("");
  while (!stop.received()) {
    now = mono_ms();
    check_registry(now);
    start_due(now);
    auto polled = m_prober.poll(wait_ms(now, stop.fd() >= 0), stop.fd());
    if (!polled) return tl::unexpected(polled.error());
    now = mono_ms();
    for (const auto& completion : polled->finished) on_finished(completion, now);
    if (flush_due(now)) flush(now);
  }
  if (m_prober.in_flight()) core::log_info("stopping: {} probes in flight abandoned", m_prober.in_flight());
  m_save_failing = false;
  flush(mono_ms());
  core::log_info("stopped");
  return {};
}

} // namespace

core::Result<void> run_health_checker(state::Db& db, const HealthCheckerOptions& options) {
  if (core::interrupted()) return {};
  auto prober = TRY(Prober::create(options.max_in_flight));
  HealthChecker checker(db, options, std::move(prober));
  return checker.run();
}

} // namespace anemone::platform
