#include "anemone/repo/archiver.hpp"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <future>
#include <mutex>
#include <optional>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "anemone/core/fs.hpp"
#include "anemone/core/log.hpp"
#include "anemone/core/system.hpp"
#include "anemone/core/thread_pool.hpp"
#include "anemone/core/time.hpp"

namespace anemone::repo {

using core::Errc;
using core::fail;

bool is_excluded(const std::vector<std::string>& patterns, const std::string& relative_path, bool is_dir) {
  std::string base = relative_path.substr(relative_path.rfind('/') == std::string::npos ? 0 : relative_path.rfind('/') + 1);
  for (std::string pattern : patterns) {
    bool dir_only = !pattern.empty() && pattern.back() == '/';
    if (dir_only) {
      pattern.pop_back();
      if (!is_dir) continue;
    }
    if (!pattern.empty() && pattern.front() == '/') pattern.erase(0, 1);
    bool anchored = pattern.find('/') != std::string::npos;
    const std::string& subject = anchored ? relative_path : base;
    if (::fnmatch(pattern.c_str(), subject.c_str(), anchored ? FNM_PATHNAME : 0) == 0) return true;
  }
  return false;
}

namespace {

int64_t mtime_of(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}
int64_t ctime_of(const struct stat& st) {
  return static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
}

Node node_from_stat(const std::string& name, const struct stat& st) {
  Node node;
  node.name = name;
  node.mode = st.st_mode & 07777;
  node.uid = st.st_uid;
  node.gid = st.st_gid;
  node.mtime_ns = mtime_of(st);
  node.inode = st.st_ino;
  node.device = st.st_dev;
  node.links = st.st_nlink;
  return node;
}

// A file whose content is still being chunked and hashed by the workers.
// A small file read, hashed and stored entirely by a worker.
struct SmallRead {
  bool skipped = false; // vanished or replaced before it could be read (warned)
  bool changed = false; // changed while read (warned; not cached)
  std::optional<BlobId> id; // none for an empty file
  uint64_t bytes_read = 0;
};

core::UniqueFd open_for_reading(const std::string& path) {
  core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME));
  if (!fd && errno == EPERM) fd.reset(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  return fd;
}

struct PendingFile {
  size_t node_index;
  std::string path;
  std::vector<std::future<core::Result<BlobId>>> chunks;
  std::optional<std::future<core::Result<SmallRead>>> small;
  state::CachedFile cache_entry;
  bool cacheable = true;
};

class ArchiveRun {
public:
  ArchiveRun(Repository& repo, state::FilesCache& cache, const ArchiveOptions& options)
      : m_repo(repo), m_cache(cache), m_options(options),
        // More workers than cores: a worker reading a small file from a cold disk waits on I/O,
        // and the others keep the cores busy meanwhile.
        m_pool(2 * core::ThreadPool::default_threads(), 2 * core::ThreadPool::default_threads()) {}

  core::Result<ArchiveSummary> run() {
    double start = core::monotonic_seconds();
    int64_t start_time = core::now_ns(); // a snapshot is dated when it began, as in restic and borg
    // The repository's counters span its lifetime; this run reports only what it added.
    uint64_t stored_before = m_repo.stats().stored_bytes_added.load();
    uint64_t blobs_before = m_repo.stats().blobs_added.load();
    Tree root;
    auto sources = m_options.sources;
    std::sort(sources.begin(), sources.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const auto& source : sources) {
      struct stat st{};
      if (::stat(source.path.c_str(), &st) != 0)
        return core::fail_errno(fmt::format("source {} ({})", source.name, source.path.string()), errno);
      if (!S_ISDIR(st.st_mode)) return fail(Errc::config, "source {} ({}) is not a directory", source.name, source.path.string());
      m_excludes = &source.exclude;
      Node node = node_from_stat(source.name, st);
      node.type = NodeType::dir;
      node.subtree = TRY(archive_directory(source.path.string(), ""));
      root.nodes.push_back(std::move(node));
    }
    BlobId root_id = TRY(save_tree(root));
    TRY(m_repo.flush());

    Snapshot snapshot;
    snapshot.time_ns = start_time;
    snapshot.host = m_options.host;
    snapshot.hostname = core::host_name();
    for (const auto& source : sources) snapshot.sources.push_back({source.name, source.path.string()});
    snapshot.tree = root_id;
    snapshot.files = m_summary.files_new + m_summary.files_changed + m_summary.files_unchanged;
    snapshot.dirs = m_summary.dirs;
    snapshot.bytes = m_summary.bytes_total;
    m_summary.snapshot_id = TRY_CTX(m_repo.save_file(FileType::snapshot, serialize_snapshot(snapshot)), "save snapshot");
    m_summary.bytes_added = m_repo.stats().stored_bytes_added.load() - stored_before;
    m_summary.blobs_added = m_repo.stats().blobs_added.load() - blobs_before;
    m_summary.duration_s = core::monotonic_seconds() - start;
    return m_summary;
  }

private:
  void warn(std::string message) {
    core::log_warning("{}", message);
    std::lock_guard lock(m_warnings_mutex);
    m_summary.warnings.push_back(std::move(message));
  }

  core::Result<BlobId> save_tree(const Tree& tree) {
    core::Bytes body = serialize_tree(tree);
    BlobId id = m_repo.blob_id(body);
    TRY(m_repo.save_blob(BlobType::tree, id, body));
    return id;
  }

  core::Result<std::vector<std::string>> read_names(const std::string& path) {
    DIR* handle = ::opendir(path.c_str());
    if (!handle) return core::fail_errno("open directory " + path, errno);
    std::unique_ptr<DIR, int (*)(DIR*)> guard(handle, ::closedir);
    std::vector<std::string> names;
    errno = 0;
    while (dirent* entry = ::readdir(handle)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  core::Result<BlobId> archive_directory(const std::string& path, const std::string& relative) {
    if (core::interrupted()) return fail(Errc::interrupted, "interrupted");
    ++m_summary.dirs;
    Tree tree;
    std::vector<PendingFile> pending;
    auto names = read_names(path);
    if (!names) {
      warn(fmt::format("{}: {} (directory saved empty)", path, names.error().message()));
      return save_tree(tree);
    }
    for (const auto& name : *names) {
      std::string child = path + "/" + name;
      std::string child_relative = relative.empty() ? name : relative + "/" + name;
      struct stat st{};
      if (::lstat(child.c_str(), &st) != 0) {
        warn(fmt::format("{}: vanished during the backup ({})", child, std::strerror(errno)));
        continue;
      }
      if (is_excluded(*m_excludes, child_relative, S_ISDIR(st.st_mode))) continue;
      Node node = node_from_stat(name, st);
      if (S_ISDIR(st.st_mode)) {
        node.type = NodeType::dir;
        node.subtree = TRY(archive_directory(child, child_relative));
      } else if (S_ISLNK(st.st_mode)) {
        node.type = NodeType::symlink;
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        ssize_t n = ::readlink(child.c_str(), target.data(), target.size());
        if (n < 0) {
          warn(fmt::format("{}: vanished during the backup ({})", child, std::strerror(errno)));
          continue;
        }
        target.resize(static_cast<size_t>(n));
        node.link_target = std::move(target);
      } else if (S_ISFIFO(st.st_mode)) {
        node.type = NodeType::fifo;
      } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        node.type = S_ISCHR(st.st_mode) ? NodeType::chardev : NodeType::blockdev;
        node.rdev = st.st_rdev;
      } else if (S_ISREG(st.st_mode)) {
        node.type = NodeType::file;
        node.size = static_cast<uint64_t>(st.st_size);
        auto file = TRY(start_file(child, st, tree.nodes.size()));
        if (!file) continue; // vanished or unreadable: warned
        if (file->chunks.empty() && !file->small && !file->cache_entry.content.empty()) {
          // unchanged: content from the cache
          for (size_t i = 0; i < file->cache_entry.content.size(); i += 32) {
            BlobId id;
            std::copy_n(file->cache_entry.content.begin() + static_cast<ptrdiff_t>(i), 32, id.begin());
            node.content.push_back(id);
          }
          m_cache.record(child, std::move(file->cache_entry));
        } else {
          pending.push_back(std::move(*file));
        }
        m_summary.bytes_total += node.size;
      } else {
        continue; // sockets: nothing to restore
      }
      tree.nodes.push_back(std::move(node));
    }
    for (auto& file : pending) TRY(finish_file(file, tree.nodes[file.node_index]));
    // Files that vanished before a worker could read them were marked with an empty name.
    std::erase_if(tree.nodes, [](const Node& node) { return node.name.empty(); });
    return save_tree(tree);
  }

  // Opens and chunks a file (or finds it unchanged). nullopt when it vanished or cannot be read.
  core::Result<std::optional<PendingFile>> start_file(const std::string& path, const struct stat& st, size_t index) {
    PendingFile file;
    file.node_index = index;
    file.path = path;
    file.cache_entry = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                        static_cast<uint64_t>(st.st_size), mtime_of(st), ctime_of(st), {}};
    const state::CachedFile* cached = m_cache.find(path);
    if (cached && cached->matches(file.cache_entry) && all_present(cached->content)) {
      file.cache_entry.content = cached->content;
      ++m_summary.files_unchanged;
      count_done(file.cache_entry.size);
      if (m_options.progress) m_options.progress->files_done += 1;
      return file;
    }
    if (cached) ++m_summary.files_changed;
    else ++m_summary.files_new;
    if (static_cast<uint64_t>(st.st_size) < m_repo.chunker().params().min_size) {
      // One chunk by definition: a worker opens, reads and stores it, so many small files are
      // read in parallel (what matters on a cold cache) and this thread only walks.
      file.small = m_pool.submit([this, path, st]() { return read_small_file(path, st); });
      return file;
    }
    if (m_options.before_read_file) m_options.before_read_file(path);
    core::UniqueFd fd = open_for_reading(path);
    if (!fd) {
      uncount(cached != nullptr);
      warn(fmt::format("{}: {} during the backup, skipped", path, errno == ENOENT ? "vanished" : std::strerror(errno)));
      return std::optional<PendingFile>();
    }
    struct stat opened{};
    ::fstat(fd.get(), &opened);
    if (opened.st_ino != st.st_ino || opened.st_dev != st.st_dev || !S_ISREG(opened.st_mode)) {
      uncount(cached != nullptr);
      warn(fmt::format("{}: replaced during the backup, skipped", path));
      return std::optional<PendingFile>();
    }
    FileChunker chunker(m_repo.chunker(), fd.get(), m_read_buffer);
    while (true) {
      if (core::interrupted()) return fail(Errc::interrupted, "interrupted");
      auto chunk = chunker.next();
      if (!chunk) {
        warn(fmt::format("{}: {}; saved up to the error", path, chunk.error().message()));
        file.cacheable = false;
        break;
      }
      if (chunk->empty()) break;
      count_done(chunk->size());
      file.chunks.push_back(m_pool.submit([this, captured = std::move(*chunk)]() mutable -> core::Result<BlobId> {
        // The task object lives as long as its future; move the chunk out so it is freed now.
        core::Bytes data = std::move(captured);
        BlobId id = m_repo.blob_id(data);
        TRY(m_repo.save_blob(BlobType::data, id, data));
        return id;
      }));
    }
    m_summary.bytes_read += chunker.bytes_read();
    struct stat after{};
    ::fstat(fd.get(), &after);
    if (after.st_size != opened.st_size || mtime_of(after) != mtime_of(opened) || chunker.bytes_read() != static_cast<uint64_t>(opened.st_size)) {
      warn(fmt::format("{}: changed while it was read; the snapshot holds what was read", path));
      file.cacheable = false;
    }
    return file;
  }

  core::Result<SmallRead> read_small_file(const std::string& path, const struct stat& st) {
    SmallRead result;
    if (m_options.before_read_file) m_options.before_read_file(path);
    core::UniqueFd fd = open_for_reading(path);
    struct stat opened{};
    if (!fd || ::fstat(fd.get(), &opened) != 0 || opened.st_ino != st.st_ino || opened.st_dev != st.st_dev ||
        !S_ISREG(opened.st_mode)) {
      warn(fmt::format("{}: {} during the backup, skipped", path,
                       !fd && errno != ENOENT ? std::strerror(errno) : fd ? "replaced" : "vanished"));
      result.skipped = true;
      return result;
    }
    // One byte more than expected tells a file that grew since lstat.
    core::Bytes data = TRY_CTX(core::read_at(fd.get(), 0, static_cast<size_t>(opened.st_size) + 1, path), path);
    result.bytes_read = data.size();
    struct stat after{};
    ::fstat(fd.get(), &after);
    if (data.size() != static_cast<uint64_t>(opened.st_size) || mtime_of(after) != mtime_of(opened)) {
      warn(fmt::format("{}: changed while it was read; the snapshot holds what was read", path));
      result.changed = true;
    }
    if (!data.empty()) {
      BlobId id = m_repo.blob_id(data);
      TRY_CTX(m_repo.save_blob(BlobType::data, id, data), path);
      result.id = id;
    }
    return result;
  }

  // A file counted as new or changed turned out to be gone.
  void uncount(bool was_cached) {
    if (was_cached) --m_summary.files_changed;
    else --m_summary.files_new;
  }

  core::Result<void> finish_file(PendingFile& file, Node& node) {
    if (file.small) {
      SmallRead read = TRY(file.small->get());
      if (read.skipped) {
        uncount(m_cache.find(file.path) != nullptr);
        m_summary.bytes_total -= node.size;
        node.name.clear(); // dropped from the tree
        return {};
      }
      m_summary.bytes_read += read.bytes_read;
      count_done(read.bytes_read);
      if (read.changed) file.cacheable = false;
      m_summary.bytes_total = m_summary.bytes_total - node.size + read.bytes_read;
      node.size = read.bytes_read;
      if (read.id) {
        node.content.push_back(*read.id);
        file.cache_entry.content.assign(read.id->begin(), read.id->end());
      }
    }
    for (auto& future : file.chunks) {
      BlobId id = TRY_CTX(future.get(), file.path);
      node.content.push_back(id);
      file.cache_entry.content.insert(file.cache_entry.content.end(), id.begin(), id.end());
    }
    if (file.cacheable) m_cache.record(file.path, std::move(file.cache_entry));
    if (m_options.progress) m_options.progress->files_done += 1;
    return {};
  }

  bool all_present(const core::Bytes& content) {
    if (content.size() % 32 != 0) return false;
    for (size_t i = 0; i < content.size(); i += 32) {
      BlobId id;
      std::copy_n(content.begin() + static_cast<ptrdiff_t>(i), 32, id.begin());
      if (!m_repo.has_blob(id)) return false;
    }
    return true;
  }

  void count_done(uint64_t bytes) {
    if (m_options.progress) m_options.progress->bytes_done += bytes;
  }

  Repository& m_repo;
  state::FilesCache& m_cache;
  const ArchiveOptions& m_options;
  const std::vector<std::string>* m_excludes = nullptr;
  std::mutex m_warnings_mutex;
  ArchiveSummary m_summary;
  core::Bytes m_read_buffer;
  core::ThreadPool m_pool;
};

} // namespace

namespace {
void scan_directory(const std::string& path, const std::string& relative, const std::vector<std::string>& excludes,
                    core::ProgressCounters& progress, const std::atomic<bool>& stop) {
  DIR* handle = ::opendir(path.c_str());
  if (!handle) return;
  std::unique_ptr<DIR, int (*)(DIR*)> guard(handle, ::closedir);
  while (dirent* entry = ::readdir(handle)) {
    if (stop.load()) return;
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string child_relative = relative.empty() ? name : relative + "/" + name;
    struct stat st{};
    if (::fstatat(::dirfd(handle), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (is_excluded(excludes, child_relative, S_ISDIR(st.st_mode))) continue;
    if (S_ISDIR(st.st_mode)) {
      scan_directory(path + "/" + name, child_relative, excludes, progress, stop);
    } else if (S_ISREG(st.st_mode)) {
      progress.files_total += 1;
      progress.bytes_total += static_cast<uint64_t>(st.st_size);
    }
  }
}
} // namespace

void scan_totals(const std::vector<config::Source>& sources, core::ProgressCounters& progress,
                 const std::atomic<bool>& stop) {
  for (const auto& source : sources) scan_directory(source.path.string(), "", source.exclude, progress, stop);
  if (!stop.load()) progress.totals_known = true;
}

core::Result<ArchiveSummary> archive(Repository& repo, state::FilesCache& cache, const ArchiveOptions& options) {
  ArchiveRun run(repo, cache, options);
  return run.run();
}

} // namespace anemone::repo
