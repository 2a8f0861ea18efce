#include "anemone/runtime/inotify_tree.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anemone/core/log.hpp"
#include "anemone/repo/archiver.hpp"

namespace anemone::runtime {

using core::Errc;
namespace fs = std::filesystem;

namespace {

// What a backup would see change. IN_MODIFY fires per write; the debouncer absorbs the flood.
constexpr uint32_t k_event_mask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
                                  IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
constexpr uint32_t k_watch_flags = IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK;

std::string join(const std::string& relative, std::string_view name) {
  if (relative.empty()) return std::string(name);
  return relative + "/" + std::string(name);
}

bool within(const fs::path& path, const fs::path& dir) {
  auto [end, unused] = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
  return end == dir.end();
}

std::string max_user_watches() {
  std::ifstream in("/proc/sys/fs/inotify/max_user_watches");
  std::string value;
  in >> value;
  return value.empty() ? "?" : value;
}

core::Error watch_limit_error(const fs::path& path) {
  return core::Error(Errc::io,
                     fmt::format("cannot watch {}: the kernel's inotify watch limit is reached "
                                 "(fs.inotify.max_user_watches = {}); raise it, e.g. "
                                 "sysctl fs.inotify.max_user_watches=1048576, or use backup.mode periodic",
                                 path.string(), max_user_watches()));
}

} // namespace

core::Result<InotifyTree> InotifyTree::open(std::vector<config::Source> sources, std::vector<fs::path> ignored) {
  core::UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) return core::fail_errno("inotify_init1", errno);
  InotifyTree tree(std::move(fd), std::move(sources), std::move(ignored));
  for (size_t i = 0; i < tree.m_sources.size(); ++i) {
    auto& source = tree.m_sources[i];
    if (!fs::is_directory(source.path))
      return core::fail(Errc::io, "source {} ({}) is not a directory", source.name, source.path.string());
    // The backup follows a symlinked root; so does the watch (IN_DONT_FOLLOW would refuse it).
    // canonical() also drops a trailing '/', which would defeat the ignored-directory test.
    std::error_code ec;
    fs::path resolved = fs::canonical(source.path, ec);
    if (ec) return core::fail(Errc::io, "source {} ({}): {}", source.name, source.path.string(), ec.message());
    source.path = resolved;
    TRY(tree.add_tree(i, ""));
  }
  tree.m_opened = true;
  return tree;
}

fs::path InotifyTree::full_path(size_t source, const std::string& relative) const {
  return relative.empty() ? m_sources[source].path : m_sources[source].path / relative;
}

bool InotifyTree::skipped_dir(size_t source, const std::string& relative) const {
  if (!relative.empty() && repo::is_excluded(m_sources[source].exclude, relative, true)) return true;
  fs::path path = full_path(source, relative);
  for (const auto& dir : m_ignored)
    if (within(path, dir)) return true;
  return false;
}

core::Result<void> InotifyTree::add_tree(size_t source, const std::string& relative) {
  std::vector<std::string> stack{relative};
  while (!stack.empty()) {
    std::string current = std::move(stack.back());
    stack.pop_back();
    if (skipped_dir(source, current)) continue;
    fs::path path = full_path(source, current);
    int wd = ::inotify_add_watch(m_fd.get(), path.c_str(), k_event_mask | k_watch_flags);
    if (wd < 0) {
      int error = errno;
      if (error == ENOENT || error == ENOTDIR) { // gone (or replaced by a file) meanwhile
        if (current.empty()) m_missing_roots.push_back(source);
        continue;
      }
      if (error == ENOSPC) {
        // At start a partly watched tree would miss changes unseen: refuse, saying how to fix it.
        if (!m_opened) return tl::unexpected(watch_limit_error(path));
        // Later on, one unwatched directory must not stop the watcher; backups still see it.
        if (!m_limit_warned) core::log_error("{}", watch_limit_error(path).message());
        m_limit_warned = true;
        return {};
      }
      core::log_warning("cannot watch {}: {}", path.string(), std::strerror(error));
      continue;
    }
    m_watches[wd] = Watch{source, current};
    // Listed after the watch exists, so a directory made meanwhile is either seen here or reported.
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), ::closedir);
    if (!dir) continue;
    while (dirent* entry = ::readdir(dir.get())) {
      std::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      bool is_dir = entry->d_type == DT_DIR;
      if (entry->d_type == DT_UNKNOWN) {
        struct stat st{};
        is_dir = ::fstatat(::dirfd(dir.get()), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      if (is_dir) stack.push_back(join(current, name));
    }
  }
  return {};
}

void InotifyTree::forget_tree(size_t source, const std::string& relative) {
  std::string prefix = relative + "/";
  for (auto it = m_watches.begin(); it != m_watches.end();) {
    const Watch& watch = it->second;
    if (watch.source == source &&
        (relative.empty() || watch.relative == relative || watch.relative.starts_with(prefix))) {
      ::inotify_rm_watch(m_fd.get(), it->first);
      it = m_watches.erase(it);
    } else {
      ++it;
    }
  }
}

core::Result<void> InotifyTree::rescan() {
  m_missing_roots.clear();
  for (size_t i = 0; i < m_sources.size(); ++i) TRY(add_tree(i, ""));
  return {};
}

core::Result<uint64_t> InotifyTree::rewatch_missing_roots() {
  if (m_missing_roots.empty()) return 0;
  std::vector<size_t> missing = std::exchange(m_missing_roots, {});
  uint64_t found = 0;
  for (size_t source : missing) {
    TRY(add_tree(source, ""));
    bool still_missing = std::find(m_missing_roots.begin(), m_missing_roots.end(), source) != m_missing_roots.end();
    if (!still_missing) {
      core::log_info("source {} ({}) is back; watching it again", m_sources[source].name,
                     m_sources[source].path.string());
      ++found;
    }
  }
  return found;
}

core::Result<uint64_t> InotifyTree::read_changes() {
  alignas(inotify_event) std::array<char, 64 * 1024> buffer;
  uint64_t changes = 0;
  for (;;) {
    ssize_t n = ::read(m_fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return core::fail_errno("read inotify events", errno);
    }
    if (n == 0) break;
    for (ssize_t offset = 0; offset < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + offset);
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if (event->mask & IN_Q_OVERFLOW) {
        // Events were lost: directories made meanwhile may be unwatched. Watch them, and back up.
        ++m_overflows;
        core::log_warning("inotify queue overflowed; rescanning the sources");
        TRY(rescan());
        ++changes;
        continue;
      }
      auto found = m_watches.find(event->wd);
      if (found == m_watches.end()) continue; // a watch already forgotten
      if (event->mask & IN_IGNORED) {
        m_watches.erase(found);
        continue;
      }
      Watch watch = found->second;
      bool is_dir = event->mask & IN_ISDIR;
      if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
        // The parent reports the change; only a source root itself has no watched parent.
        if (watch.relative.empty()) {
          core::log_warning("source {} ({}) was {}; it is watched again when it is back", m_sources[watch.source].name,
                            m_sources[watch.source].path.string(),
                            event->mask & IN_DELETE_SELF ? "deleted" : "moved away");
          // Moved away, its watches would report the old tree under the configured path.
          forget_tree(watch.source, "");
          m_missing_roots.push_back(watch.source);
          ++changes;
        }
        continue;
      }
      std::string child = join(watch.relative, std::string_view(event->len ? event->name : ""));
      if (event->len == 0) { // about the directory itself (IN_ATTRIB on it)
        ++changes;
        continue;
      }
      if (repo::is_excluded(m_sources[watch.source].exclude, child, is_dir)) continue;
      if (is_dir && skipped_dir(watch.source, child)) continue;
      if (is_dir && (event->mask & IN_MOVED_FROM)) forget_tree(watch.source, child);
      if (is_dir && (event->mask & (IN_CREATE | IN_MOVED_TO))) TRY(add_tree(watch.source, child));
      ++changes;
    }
  }
  return changes;
}

} // namespace anemone::runtime
