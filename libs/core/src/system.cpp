#include "anemone/core/system.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace anemone::core {

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

bool process_alive(int pid) {
  if (pid <= 0) return false;
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

namespace {
std::atomic<int> g_signals{0};
void on_signal(int signal_number) {
  if (g_signals.fetch_add(1) >= 1) {
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
  }
}
} // namespace

void install_interrupt_handlers() {
  struct sigaction action{};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

bool interrupted() { return g_signals.load() > 0; }

Result<FileLock> FileLock::acquire(const std::filesystem::path& path, Wait wait) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return fail_errno(fmt::format("open lock file {}", path.string()), errno);
  int operation = LOCK_EX | (wait == Wait::no ? LOCK_NB : 0);
  while (::flock(fd.get(), operation) != 0) {
    if (errno == EINTR && !interrupted()) continue;
    if (errno == EINTR) return fail(Errc::interrupted, "interrupted while waiting for {}", path.string());
    if (errno == EWOULDBLOCK) return fail(Errc::locked, "{} is held by another process", path.string());
    return fail_errno(fmt::format("lock {}", path.string()), errno);
  }
  return FileLock(std::move(fd));
}

} // namespace anemone::core
