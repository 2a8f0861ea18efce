#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "anemone/core/fs.hpp"
#include "anemone/core/system.hpp"
#include "anemone/repo/backend.hpp"
#include "temp_names.hpp"

namespace anemone::repo {

using core::Errc;
using core::fail;
namespace fs = std::filesystem;

std::string_view file_type_name(FileType type) {
  switch (type) {
  case FileType::config: return "config";
  case FileType::key: return "keys";
  case FileType::pack: return "data";
  case FileType::index: return "index";
  case FileType::snapshot: return "snapshots";
  case FileType::lock: return "locks";
  }
  return "?";
}

namespace {

class LocalBackend final : public Backend {
public:
  explicit LocalBackend(fs::path root) : m_root(std::move(root)) {}

  std::string location() const override { return "local:" + m_root.string(); }

  core::Result<void> create_layout() override {
    if (fs::exists(m_root / "config"))
      return fail(Errc::already_exists, "a repository already exists at {}", m_root.string());
    TRY(core::make_directories(m_root, 0700));
    for (auto dir : {"keys", "data", "index", "snapshots", "locks", "tmp"})
      TRY(core::make_directories(m_root / dir, 0700));
    for (int i = 0; i < 256; ++i) {
      uint8_t byte = static_cast<uint8_t>(i);
      TRY(core::make_directories(m_root / "data" / core::to_hex({&byte, 1}), 0700));
    }
    return core::fsync_directory(m_root);
  }

  core::Result<void> save(FileType type, const std::string& name, core::ByteView data) override {
    fs::path final_path = TRY(path_for(type, name));
    fs::path temp = m_root / "tmp" / new_temp_name();
    core::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) return core::fail_errno(fmt::format("create {}", temp.string()), errno);
    auto cleanup = [&](core::Error error) -> core::Result<void> {
      fd.reset();
      ::unlink(temp.c_str());
      return tl::unexpected(std::move(error));
    };
    if (auto written = core::write_all(fd.get(), data, temp.string()); !written) return cleanup(written.error());
    if (::fsync(fd.get()) != 0) return cleanup(core::fail_errno("fsync " + temp.string(), errno).value());
    if (::close(fd.release()) != 0) return cleanup(core::fail_errno("close " + temp.string(), errno).value());
    // link() instead of rename(): it fails when the final name exists, as the contract says.
    if (type == FileType::config) {
      if (::rename(temp.c_str(), final_path.c_str()) != 0)
        return cleanup(core::fail_errno("rename to " + final_path.string(), errno).value());
    } else {
      if (::link(temp.c_str(), final_path.c_str()) != 0)
        return cleanup(core::fail_errno("store " + final_path.string(), errno).value());
      ::unlink(temp.c_str());
    }
    return core::fsync_directory(final_path.parent_path());
  }

  core::Result<core::Bytes> load(FileType type, const std::string& name, uint64_t offset,
                                 uint64_t length) override {
    fs::path path = TRY(path_for(type, name));
    core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return core::fail_errno(fmt::format("open {}", path.string()), errno);
    if (length == 0) {
      struct stat st{};
      if (::fstat(fd.get(), &st) != 0) return core::fail_errno("stat " + path.string(), errno);
      if (static_cast<uint64_t>(st.st_size) < offset) return core::Bytes();
      length = static_cast<uint64_t>(st.st_size) - offset;
    }
    auto data = TRY(core::read_at(fd.get(), offset, length, path.string()));
    if (data.size() != length)
      return fail(Errc::corrupt, "{}: short read ({} of {} bytes at offset {})", path.string(), data.size(),
                  length, offset);
    return data;
  }

  core::Result<uint64_t> size(FileType type, const std::string& name) override {
    fs::path path = TRY(path_for(type, name));
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return core::fail_errno("stat " + path.string(), errno);
    return static_cast<uint64_t>(st.st_size);
  }

  core::Result<void> remove(FileType type, const std::string& name) override {
    fs::path path = TRY(path_for(type, name));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return core::fail_errno("remove " + path.string(), errno);
    return {};
  }

  core::Result<std::vector<FileInfo>> list(FileType type) override {
    std::vector<FileInfo> out;
    if (type == FileType::config) {
      struct stat st{};
      if (::stat((m_root / "config").c_str(), &st) == 0)
        out.push_back({"config", static_cast<uint64_t>(st.st_size)});
      return out;
    }
    fs::path dir = m_root / std::string(file_type_name(type));
    if (type == FileType::pack) {
      for (int i = 0; i < 256; ++i) {
        uint8_t byte = static_cast<uint8_t>(i);
        TRY(list_dir(dir / core::to_hex({&byte, 1}), out));
      }
    } else {
      TRY(list_dir(dir, out));
    }
    return out;
  }

  core::Result<size_t> remove_leftovers(Leftovers which) override {
    fs::path dir = m_root / "tmp";
    std::vector<FileInfo> entries;
    TRY(list_dir(dir, entries, Filter::any));
    size_t removed = 0;
    for (const auto& entry : entries) {
      bool remove_it = which == Leftovers::all || temp_owner_is_dead(entry.name);
      if (remove_it && ::unlink((dir / entry.name).c_str()) == 0) ++removed;
    }
    return removed;
  }

private:
  enum class Filter { ids, any };

  core::Result<fs::path> path_for(FileType type, const std::string& name) const {
    if (type == FileType::config) return m_root / "config";
    if (!valid_file_name(name)) return fail(Errc::failed, "invalid repository file name '{}'", name);
    fs::path dir = m_root / std::string(file_type_name(type));
    if (type == FileType::pack) dir /= name.substr(0, 2);
    return dir / name;
  }

  core::Result<void> list_dir(const fs::path& dir, std::vector<FileInfo>& out, Filter filter = Filter::ids) const {
    DIR* handle = ::opendir(dir.c_str());
    if (!handle) {
      if (errno == ENOENT) return {};
      return core::fail_errno("list " + dir.string(), errno);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> guard(handle, ::closedir);
    while (dirent* entry = ::readdir(handle)) {
      std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      if (filter == Filter::ids && !valid_file_name(name)) continue;
      struct stat st{};
      if (::fstatat(::dirfd(handle), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (!S_ISREG(st.st_mode)) continue;
      out.push_back({name, static_cast<uint64_t>(st.st_size)});
    }
    return {};
  }

  fs::path m_root;
};

} // namespace

std::unique_ptr<Backend> make_local_backend(const std::string& path) {
  return std::make_unique<LocalBackend>(fs::path(path));
}

} // namespace anemone::repo
