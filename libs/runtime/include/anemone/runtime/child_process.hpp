#pragma once
// A child the watcher starts and waits for without blocking: posix_spawn (no shell) plus a pidfd
// that poll() reports readable when the child ends. The child inherits stdout and stderr, so its
// log lines land in the watcher's log. A child still running when the object dies gets SIGTERM and
// is waited for: no zombie, no orphaned backup.
#include <optional>
#include <string>
#include <vector>

#include "anemone/core/error.hpp"
#include "anemone/core/fs.hpp"

namespace anemone::runtime {

struct SpawnOptions {
  // Added to (or replacing those of) the parent's environment.
  std::vector<std::string> environment;
  // The child leads a new process group, and signal() reaches all of it (a cron job's shell and
  // what it started).
  bool own_group = false;
  // The child's stdout goes where the parent's stderr goes: the parent's stdout stays its own.
  bool stdout_to_stderr = false;
};

class ChildProcess {
public:
  static core::Result<ChildProcess> spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});
  ChildProcess(ChildProcess&& other) noexcept
      : m_pid(std::exchange(other.m_pid, -1)), m_pidfd(std::move(other.m_pidfd)), m_own_group(other.m_own_group) {}
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess();

  int pid() const { return m_pid; }
  int pidfd() const { return m_pidfd.get(); }
  // The exit code once it ended (128 + signal when killed by one); nullopt while it runs.
  std::optional<int> try_wait();
  void signal(int signal_number);
  // Blocks until it ends.
  int wait();

private:
  ChildProcess(int pid, core::UniqueFd pidfd, bool own_group)
      : m_pid(pid), m_pidfd(std::move(pidfd)), m_own_group(own_group) {}
  int m_pid;
  core::UniqueFd m_pidfd;
  bool m_own_group;
};

} // namespace anemone::runtime
