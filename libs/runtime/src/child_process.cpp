#include "anemone/runtime/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace anemone::runtime {

namespace {

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> by_name;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string text = *entry;
    by_name[text.substr(0, text.find('='))] = text;
  }
  for (const auto& text : extra) by_name[text.substr(0, text.find('='))] = text;
  std::vector<std::string> out;
  for (auto& [name, text] : by_name) out.push_back(std::move(text));
  return out;
}

} // namespace

core::Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  const bool own_group = options.own_group;
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_text = merged_environment(options.environment);
  std::vector<char*> env;
  for (const auto& entry : env_text) env.push_back(const_cast<char*>(entry.c_str()));
  env.push_back(nullptr);

  // The child starts with default signal handling and nothing blocked, whatever the watcher set.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (own_group) {
    posix_spawnattr_setpgroup(&attr, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attr, flags);
  posix_spawn_file_actions_t file_actions;
  posix_spawn_file_actions_init(&file_actions);
  if (options.stdout_to_stderr) posix_spawn_file_actions_adddup2(&file_actions, STDERR_FILENO, STDOUT_FILENO);
  pid_t pid = -1;
  int error = ::posix_spawn(&pid, args[0], &file_actions, &attr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&file_actions);
  posix_spawnattr_destroy(&attr);
  if (error != 0) return core::fail_errno(fmt::format("start {}", argv[0]), error);
  core::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    int open_error = errno;
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    return core::fail_errno("pidfd_open", open_error);
  }
  return ChildProcess(pid, std::move(pidfd), own_group);
}

ChildProcess::~ChildProcess() {
  if (m_pid <= 0) return;
  signal(SIGTERM);
  wait();
}

std::optional<int> ChildProcess::try_wait() {
  if (m_pid <= 0) return std::nullopt;
  int status = 0;
  pid_t done = ::waitpid(m_pid, &status, WNOHANG);
  if (done < 0 && errno != EINTR) {
    // Not our child any more (ECHILD): it is gone, and its status with it. Report a failure rather
    // than wait forever on a pidfd that stays readable.
    m_pid = -1;
    return 1;
  }
  if (done != m_pid) return std::nullopt;
  m_pid = -1;
  return exit_code_of(status);
}

void ChildProcess::signal(int signal_number) {
  if (m_pid > 0) ::kill(m_own_group ? -m_pid : m_pid, signal_number);
}

int ChildProcess::wait() {
  int status = 0;
  pid_t done = -1;
  while (m_pid > 0 && (done = ::waitpid(m_pid, &status, 0)) < 0 && errno == EINTR) {
  }
  m_pid = -1;
  return done < 0 ? 1 : exit_code_of(status); // ECHILD: its status is lost; not a success
}

} // namespace anemone::runtime
