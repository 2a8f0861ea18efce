#include "locked_file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anemone/core/fs.hpp"

namespace anemone::dr {

core::Result<LockedFile> read_locked_file(const std::filesystem::path& path, uint64_t limit) {
  core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return core::fail_errno("open " + path.string(), errno);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return core::fail_errno("stat " + path.string(), errno);
  if (!S_ISREG(st.st_mode)) return core::fail(core::Errc::failed, "{} is not a regular file", path.string());
  if (static_cast<uint64_t>(st.st_size) > limit)
    return core::fail(core::Errc::failed, "{} is larger than {} bytes", path.string(), limit);
  LockedFile file{crypto::SecretBytes(static_cast<size_t>(st.st_size)), static_cast<uint32_t>(st.st_mode & 0777)};
  size_t used = 0;
  while (used < file.bytes.size()) {
    ssize_t n = ::read(fd.get(), file.bytes.data() + used, file.bytes.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core::fail_errno("read " + path.string(), errno);
    if (n == 0) return core::fail(core::Errc::io, "{} shrank while being read", path.string());
    used += static_cast<size_t>(n);
  }
  return file;
}

} // namespace anemone::dr
