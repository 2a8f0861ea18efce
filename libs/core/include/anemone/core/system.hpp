#pragma once
#include <filesystem>
#include <string>

#include "anemone/core/error.hpp"
#include "anemone/core/fs.hpp"

namespace anemone::core {

std::string host_name();
// True when a process with this pid exists on this machine (EPERM counts as alive).
bool process_alive(int pid);
bool stderr_is_terminal();

// SIGINT/SIGTERM set a flag that long loops poll; a second signal exits at once.
void install_interrupt_handlers();
bool interrupted();

// An exclusive advisory lock (flock) held while the object lives.
class FileLock {
public:
  enum class Wait { no, yes };
  static Result<FileLock> acquire(const std::filesystem::path& path, Wait wait);

private:
  explicit FileLock(UniqueFd fd) : m_fd(std::move(fd)) {}
  UniqueFd m_fd;
};

} // namespace anemone::core
