#pragma once
// File handles and whole-file operations. Writes that must never be seen half-done go through
// AtomicFile: temp file + fsync + rename + directory fsync, and only on an explicit commit().
#include <filesystem>
#include <string>
#include <utility>

#include "anemone/core/bytes.hpp"
#include "anemone/core/error.hpp"

namespace anemone::core {

class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return m_fd; }
  explicit operator bool() const { return m_fd >= 0; }
  int release() { return std::exchange(m_fd, -1); }
  void reset(int fd = -1);

private:
  int m_fd = -1;
};

Result<Bytes> read_file(const std::filesystem::path& path);
Result<std::string> read_text_file(const std::filesystem::path& path);
// Writes all of `data` to fd, retrying on EINTR and short writes.
Result<void> write_all(int fd, ByteView data, std::string_view what);
// pread until `length` bytes or end of file.
Result<Bytes> read_at(int fd, uint64_t offset, size_t length, std::string_view what);
Result<void> fsync_directory(const std::filesystem::path& directory);
Result<void> make_directories(const std::filesystem::path& path, mode_t mode = 0755);

enum class Durability { fsync, none };

class AtomicFile {
public:
  // Creates a temporary file beside `path` with `mode` (0600 for secrets).
  static Result<AtomicFile> create(const std::filesystem::path& path, mode_t mode = 0644);
  AtomicFile(AtomicFile&&) noexcept = default;
  AtomicFile& operator=(AtomicFile&&) noexcept = default;
  ~AtomicFile(); // removes the temporary file unless committed

  Result<void> write(ByteView data);
  // Makes the content visible under the final name. An existing file is replaced.
  Result<void> commit(Durability durability = Durability::fsync);

private:
  AtomicFile(std::filesystem::path path, std::filesystem::path temp, UniqueFd fd)
      : m_path(std::move(path)), m_temp(std::move(temp)), m_fd(std::move(fd)) {}
  std::filesystem::path m_path;
  std::filesystem::path m_temp;
  UniqueFd m_fd;
};

Result<void> write_file_atomic(const std::filesystem::path& path, ByteView data, mode_t mode = 0644);

} // namespace anemone::core
