#include "anemone/repo/restorer.hpp"

#include <atomic>
#include <cerrno>
#include <optional>
#include <fcntl.h>
#include <future>
#include <map>
#include <set>
#include <memory>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <sodium.h>

#include "anemone/core/fs.hpp"
#include "anemone/core/log.hpp"
#include "anemone/core/system.hpp"
#include "anemone/core/thread_pool.hpp"
#include "anemone/core/time.hpp"
#include "anemone/repo/restore_plan.hpp"

namespace anemone::repo {

using core::Errc;
using core::fail;

namespace {
std::string normalize(std::string path) {
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

timespec to_timespec(int64_t ns) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns / 1000000000);
  ts.tv_nsec = static_cast<long>(ns % 1000000000);
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000;
    ts.tv_sec -= 1;
  }
  return ts;
}
} // namespace

bool restore_selects(const std::vector<std::string>& includes, const std::string& path, bool& fully_inside) {
  fully_inside = includes.empty();
  if (includes.empty()) return true;
  bool selected = false;
  for (const auto& raw : includes) {
    std::string include = normalize(raw);
    if (include.empty() || path == include || path.compare(0, include.size() + 1, include + "/") == 0) {
      fully_inside = true;
      return true;
    }
    if (include.compare(0, path.size() + 1, path + "/") == 0) selected = true; // an ancestor
  }
  return selected;
}

namespace {

struct DirFd {
  core::UniqueFd fd;
};
using SharedDir = std::shared_ptr<DirFd>;

struct DeferredDir {
  std::string path; // absolute, for the final metadata pass
  Node node;
};

// A regular file waiting for its blobs: created under a temporary name in its directory, written by
// the pack readers in any order, renamed into place when its last blob lands.
struct PendingFile {
  std::string path;      // in the snapshot, for messages
  std::string full_path; // on disk, for messages
  SharedDir dir;
  Node node;
  std::string temp;
  std::atomic<size_t> writes_left{0};
  std::atomic<bool> failed{false};
  std::atomic<bool> finished{false};
  std::mutex create_mutex; // the first write creates the temporary file
  std::mutex error_mutex;
  std::optional<core::Error> error;
};

// Files are restored in batches so that memory, open directories and the plan stay bounded on any
// tree; a pack whose blobs straddle two batches has its needed ranges read once per batch.
inline constexpr size_t k_batch_files = 4096;
inline constexpr uint64_t k_batch_bytes = 1024ull * 1024 * 1024;

class RestoreRun {
public:
  RestoreRun(Repository& repo, const RestoreOptions& options)
      : m_repo(repo), m_options(options), m_as_root(::geteuid() == 0),
        m_pool(options.readers ? options.readers : std::max<size_t>(4, core::ThreadPool::default_threads()), 64) {}

  core::Result<RestoreSummary> run(const Snapshot& snapshot) {
    double start = core::monotonic_seconds();
    TRY(core::make_directories(m_options.target_dir, 0700));
    auto root = std::make_shared<DirFd>();
    root->fd.reset(::open(m_options.target_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root->fd) return core::fail_errno("open " + m_options.target_dir.string(), errno);
    auto tree = TRY(m_repo.load_tree(snapshot.tree));
    TRY(restore_tree(tree, root, m_options.target_dir.string(), ""));
    TRY(flush_batch());
    for (const auto& include : m_options.includes)
      if (!normalize(include).empty() && !m_matched.count(normalize(include))) m_summary.unmatched_includes.push_back(include);
    TRY(make_hard_links());
    // Directory metadata last (deepest first): writing files would change their mtimes again.
    for (auto it = m_dirs.rbegin(); it != m_dirs.rend(); ++it) apply_dir_metadata(*it);
    m_summary.duration_s = core::monotonic_seconds() - start;
    return m_summary;
  }

private:
  void warn(std::string message) {
    core::log_warning("{}", message);
    std::lock_guard lock(m_mutex);
    m_summary.warnings.push_back(std::move(message));
  }

  core::Result<void> restore_tree(const Tree& tree, const SharedDir& dir, const std::string& dir_path,
                                  const std::string& snapshot_path) {
    for (const auto& node : tree.nodes) {
      if (core::interrupted()) return fail(Errc::interrupted, "interrupted");
      std::string path = snapshot_path.empty() ? node.name : snapshot_path + "/" + node.name;
      bool fully_inside = false;
      if (!restore_selects(m_options.includes, path, fully_inside)) continue;
      for (const auto& include : m_options.includes)
        if (normalize(include) == path) m_matched.insert(path);
      if (!fully_inside && node.type != NodeType::dir) continue;
      std::string full_path = dir_path + "/" + node.name;
      switch (node.type) {
      case NodeType::dir: TRY(restore_dir(node, dir, full_path, path)); break;
      case NodeType::file: TRY(restore_file(node, dir, full_path, path)); break;
      default: restore_special(node, dir, full_path); break;
      }
    }
    return {};
  }

  core::Result<void> restore_dir(const Node& node, const SharedDir& parent, const std::string& full_path,
                                 const std::string& path) {
    auto dir = std::make_shared<DirFd>();
    std::string where = full_path;
    auto placed = path == node.name ? m_options.source_paths.find(node.name) : m_options.source_paths.end();
    if (placed != m_options.source_paths.end()) {
      // A source put back at its own path: its parents are made as needed, the last step never followed.
      where = placed->second.string();
      TRY(core::make_directories(placed->second.parent_path(), 0755));
      if (::mkdir(where.c_str(), 0700) != 0 && errno != EEXIST) return core::fail_errno("create directory " + where, errno);
      dir->fd.reset(::open(where.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    } else {
      if (::mkdirat(parent->fd.get(), node.name.c_str(), 0700) != 0 && errno != EEXIST)
        return core::fail_errno("create directory " + full_path, errno);
      dir->fd.reset(::openat(parent->fd.get(), node.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!dir->fd)
      return core::fail_errno(fmt::format("open directory {} (an existing non-directory or symlink is never "
                                          "followed)", where), errno);
    ++m_summary.dirs;
    auto subtree = m_repo.load_tree(*node.subtree);
    if (!subtree) {
      core::log_error("{}: directory listing damaged, contents not restored: {}", path, subtree.error().message());
      m_summary.damaged.push_back(path + "/");
    } else {
      TRY(restore_tree(*subtree, dir, where, path));
    }
    m_dirs.push_back({where, node});
    return {};
  }

  core::Result<void> restore_file(const Node& node, const SharedDir& dir, const std::string& full_path,
                                  const std::string& path) {
    if (node.links > 1) {
      auto key = std::make_pair(node.device, node.inode);
      auto [it, inserted] = m_first_link.emplace(key, full_path);
      if (!inserted) {
        m_hard_links.push_back({it->second, dir, node.name, full_path});
        return {};
      }
    }
    auto file = std::make_unique<PendingFile>();
    file->path = path;
    file->full_path = full_path;
    file->dir = dir;
    file->node = node;
    m_batch_bytes += node.size;
    m_batch.push_back(std::move(file));
    if (m_batch.size() >= k_batch_files || m_batch_bytes >= k_batch_bytes) TRY(flush_batch());
    return {};
  }

  // Creates the batch's files, reads the packs they need in parallel, and settles every file:
  // renamed into place, or reported damaged and removed.
  core::Result<void> flush_batch() {
    if (m_batch.empty()) return {};
    std::vector<const std::vector<BlobId>*> contents;
    for (const auto& file : m_batch) contents.push_back(&file->node.content);
    RestorePlan plan = plan_restore(m_repo.index(), contents);

    for (size_t i = 0; i < m_batch.size(); ++i) {
      PendingFile& file = *m_batch[i];
      if (!plan.problem[i].empty()) {
        file.failed = true;
        file.error = core::Error(Errc::not_found, plan.problem[i]);
        continue;
      }
      if (plan.planned_size[i] != file.node.size) {
        file.failed = true;
        file.error = core::Error(Errc::corrupt, fmt::format("its blobs hold {} bytes, the snapshot says {}",
                                                            plan.planned_size[i], file.node.size));
        continue;
      }
      file.writes_left = plan.writes_per_file[i];
      if (file.writes_left == 0) { // empty: nothing will come from a pack
        TRY(create_temp(file));
        core::UniqueFd fd(::openat(file.dir->fd.get(), file.temp.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) return core::fail_errno("open " + file.full_path, errno);
        TRY(finish(file, std::move(fd)));
      }
    }

    std::vector<std::future<core::Result<void>>> reads;
    for (auto& pack : plan.packs)
      for (auto& read : pack.reads)
        reads.push_back(m_pool.submit([this, &pack, &read] { return restore_read(pack.pack, read); }));
    std::optional<core::Error> fatal;
    for (auto& read : reads)
      if (auto done = read.get(); !done && !fatal) fatal = done.error();

    for (auto& file : m_batch) {
      if (file->finished) continue;
      if (!file->temp.empty()) ::unlinkat(file->dir->fd.get(), file->temp.c_str(), 0);
      if (fatal || !file->error) continue;
      core::log_error("{}: damaged, not restored: {}", file->path, file->error->message());
      m_summary.damaged.push_back(file->path);
    }
    m_batch.clear();
    m_batch_bytes = 0;
    if (fatal) return tl::unexpected(std::move(*fatal));
    return {};
  }

  core::Result<void> ensure_created(PendingFile& file) {
    std::lock_guard lock(file.create_mutex);
    if (!file.temp.empty()) return {};
    return create_temp(file);
  }

  core::Result<void> create_temp(PendingFile& file) {
    uint8_t random[6];
    randombytes_buf(random, sizeof random);
    std::string temp = ".anemone-restore-" + core::to_hex(random);
    core::UniqueFd fd(::openat(file.dir->fd.get(), temp.c_str(),
                               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return core::fail_errno("create " + file.full_path, errno);
    file.temp = std::move(temp);
    return {};
  }

  // Marks the file damaged (corrupt or missing data) or returns the error that ends the run.
  static core::Result<void> file_failed(PendingFile& file, const core::Error& error) {
    if (error.code() != Errc::corrupt && error.code() != Errc::not_found) return tl::unexpected(error);
    std::lock_guard lock(file.error_mutex);
    file.failed = true;
    if (!file.error) file.error = error;
    return {};
  }

  // Reads one range of a pack and writes each of its blobs wherever the batch's files need it.
  core::Result<void> restore_read(const std::string& pack, const PackRead& read) {
    if (core::interrupted()) return fail(Errc::interrupted, "interrupted");
    auto data = m_repo.backend().load(FileType::pack, pack, read.offset, read.length);
    if (!data) {
      auto error = data.error().context("pack " + pack);
      for (const auto& planned : read.blobs)
        for (const auto& target : planned.targets) TRY(file_failed(*m_batch[target.file], error));
      return {};
    }
    for (const auto& planned : read.blobs) {
      uint64_t start = planned.blob.offset - read.offset;
      core::Result<core::Bytes> plain = start + planned.blob.length <= data->size()
          ? m_repo.decode_verified(planned.blob, core::ByteView(data->data() + start, planned.blob.length))
          : core::Result<core::Bytes>(fail(Errc::corrupt, "pack {} is shorter than its index says", pack));
      for (const auto& target : planned.targets) {
        PendingFile& file = *m_batch[target.file];
        if (!plain) {
          TRY(file_failed(file, plain.error().context("pack " + pack)));
          continue;
        }
        if (file.failed) continue;
        TRY(ensure_created(file));
        auto fd = TRY(write_at(file, *plain, target.offset));
        if (m_options.progress) m_options.progress->bytes_done += plain->size();
        // The reader that writes a file's last blob finishes it, so finishing runs in parallel too.
        if (file.writes_left.fetch_sub(1) == 1 && !file.failed) TRY(finish(file, std::move(fd)));
      }
    }
    return {};
  }

  static core::Result<core::UniqueFd> write_at(const PendingFile& file, core::ByteView data, uint64_t offset) {
    core::UniqueFd fd(::openat(file.dir->fd.get(), file.temp.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return core::fail_errno("open " + file.full_path, errno);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(fd.get(), data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return core::fail_errno("write " + file.full_path, errno);
      done += static_cast<size_t>(n);
    }
    return fd;
  }

  // Metadata, then the rename that makes the file visible under its name.
  core::Result<void> finish(PendingFile& file, core::UniqueFd fd) {
    const Node& node = file.node;
    if (m_as_root && ::fchown(fd.get(), node.uid, node.gid) != 0) warn(fmt::format("{}: chown: {}", file.full_path, std::strerror(errno)));
    if (::fchmod(fd.get(), node.mode) != 0) warn(fmt::format("{}: chmod: {}", file.full_path, std::strerror(errno)));
    timespec times[2] = {to_timespec(node.mtime_ns), to_timespec(node.mtime_ns)};
    ::futimens(fd.get(), times);
    fd.reset();
    if (::renameat(file.dir->fd.get(), file.temp.c_str(), file.dir->fd.get(), node.name.c_str()) != 0)
      return core::fail_errno("rename into place " + file.full_path, errno);
    file.finished = true;
    std::lock_guard lock(m_mutex);
    ++m_summary.files;
    m_summary.bytes += node.size;
    if (m_options.progress) m_options.progress->files_done += 1;
    return {};
  }

  void restore_special(const Node& node, const SharedDir& dir, const std::string& full_path) {
    int fd = dir->fd.get();
    const char* name = node.name.c_str();
    ::unlinkat(fd, name, 0); // replace an existing file of that name (never a directory)
    int rc = 0;
    switch (node.type) {
    case NodeType::symlink: rc = ::symlinkat(node.link_target.c_str(), fd, name); break;
    case NodeType::fifo: rc = ::mkfifoat(fd, name, node.mode & 07777); break;
    case NodeType::chardev:
    case NodeType::blockdev:
      if (!m_as_root) {
        warn(fmt::format("{}: device node skipped (needs root)", full_path));
        return;
      }
      rc = ::mknodat(fd, name, (node.type == NodeType::chardev ? S_IFCHR : S_IFBLK) | (node.mode & 07777),
                     static_cast<dev_t>(node.rdev));
      break;
    default: return;
    }
    if (rc != 0) {
      warn(fmt::format("{}: {}", full_path, std::strerror(errno)));
      return;
    }
    if (m_as_root) ::fchownat(fd, name, node.uid, node.gid, AT_SYMLINK_NOFOLLOW);
    if (node.type != NodeType::symlink) ::fchmodat(fd, name, node.mode & 07777, 0);
    timespec times[2] = {to_timespec(node.mtime_ns), to_timespec(node.mtime_ns)};
    ::utimensat(fd, name, times, AT_SYMLINK_NOFOLLOW);
    ++m_summary.links;
  }

  core::Result<void> make_hard_links() {
    for (const auto& link : m_hard_links) {
      ::unlinkat(link.dir->fd.get(), link.name.c_str(), 0);
      if (::linkat(AT_FDCWD, link.first.c_str(), link.dir->fd.get(), link.name.c_str(), 0) != 0) {
        warn(fmt::format("{}: hard link to {}: {}", link.full_path, link.first, std::strerror(errno)));
        continue;
      }
      ++m_summary.links;
    }
    return {};
  }

  void apply_dir_metadata(const DeferredDir& dir) {
    core::UniqueFd fd(::open(dir.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return;
    if (m_as_root) ::fchown(fd.get(), dir.node.uid, dir.node.gid);
    ::fchmod(fd.get(), dir.node.mode);
    timespec times[2] = {to_timespec(dir.node.mtime_ns), to_timespec(dir.node.mtime_ns)};
    ::futimens(fd.get(), times);
  }

  struct HardLink {
    std::string first;
    SharedDir dir;
    std::string name;
    std::string full_path;
  };

  Repository& m_repo;
  const RestoreOptions& m_options;
  bool m_as_root;
  std::mutex m_mutex;
  RestoreSummary m_summary;
  std::vector<DeferredDir> m_dirs;
  std::map<std::pair<uint64_t, uint64_t>, std::string> m_first_link;
  std::set<std::string> m_matched; // includes that named a node
  std::vector<HardLink> m_hard_links;
  std::vector<std::unique_ptr<PendingFile>> m_batch;
  uint64_t m_batch_bytes = 0;
  core::ThreadPool m_pool; // pack readers
};

} // namespace

core::Result<RestoreSummary> restore(Repository& repo, const Snapshot& snapshot, const RestoreOptions& options) {
  RestoreRun run(repo, options);
  return run.run(snapshot);
}

} // namespace anemone::repo
