#include "anemone/core/fs.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

namespace anemone::core {

void UniqueFd::reset(int fd) {
  if (m_fd >= 0) ::close(m_fd);
  m_fd = fd;
}

Result<Bytes> read_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(fmt::format("open {}", path.string()), errno);
  Bytes out;
  uint8_t buffer[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(fmt::format("read {}", path.string()), errno);
    }
    if (n == 0) break;
    out.insert(out.end(), buffer, buffer + n);
  }
  return out;
}

Result<std::string> read_text_file(const std::filesystem::path& path) {
  Bytes data = TRY(read_file(path));
  return std::string(data.begin(), data.end());
}

Result<void> write_all(int fd, ByteView data, std::string_view what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(fmt::format("write {}", what), errno);
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<Bytes> read_at(int fd, uint64_t offset, size_t length, std::string_view what) {
  Bytes out(length);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(fmt::format("read {}", what), errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

Result<void> fsync_directory(const std::filesystem::path& directory) {
  UniqueFd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno(fmt::format("open directory {}", directory.string()), errno);
  if (::fsync(fd.get()) != 0) return fail_errno(fmt::format("fsync {}", directory.string()), errno);
  return {};
}

Result<void> make_directories(const std::filesystem::path& path, mode_t mode) {
  std::filesystem::path partial;
  for (const auto& part : path) {
    partial /= part;
    if (partial.string().empty() || partial == partial.root_path()) continue;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST)
      return fail_errno(fmt::format("create directory {}", partial.string()), errno);
  }
  return {};
}

Result<AtomicFile> AtomicFile::create(const std::filesystem::path& path, mode_t mode) {
  uint8_t random[6];
  randombytes_buf(random, sizeof random);
  std::filesystem::path temp = path;
  temp += ".tmp-" + to_hex(random);
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd) return fail_errno(fmt::format("create {}", temp.string()), errno);
  return AtomicFile(path, std::move(temp), std::move(fd));
}

AtomicFile::~AtomicFile() {
  if (m_fd) {
    m_fd.reset();
    ::unlink(m_temp.c_str());
  }
}

Result<void> AtomicFile::write(ByteView data) { return write_all(m_fd.get(), data, m_temp.string()); }

Result<void> AtomicFile::commit(Durability durability) {
  if (durability == Durability::fsync && ::fsync(m_fd.get()) != 0)
    return fail_errno(fmt::format("fsync {}", m_temp.string()), errno);
  if (::close(m_fd.release()) != 0) {
    int saved = errno;
    ::unlink(m_temp.c_str());
    return fail_errno(fmt::format("close {}", m_temp.string()), saved);
  }
  if (::rename(m_temp.c_str(), m_path.c_str()) != 0) {
    int saved = errno;
    ::unlink(m_temp.c_str());
    return fail_errno(fmt::format("rename {} to {}", m_temp.string(), m_path.string()), saved);
  }
  if (durability == Durability::fsync) {
    auto parent = m_path.parent_path();
    TRY(fsync_directory(parent.empty() ? "." : parent));
  }
  return {};
}

Result<void> write_file_atomic(const std::filesystem::path& path, ByteView data, mode_t mode) {
  AtomicFile file = TRY(AtomicFile::create(path, mode));
  TRY(file.write(data));
  return file.commit();
}

} // namespace anemone::core
