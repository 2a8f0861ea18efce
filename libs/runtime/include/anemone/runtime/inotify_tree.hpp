#pragma once
// Recursive inotify watches over the backup sources: every directory gets a watch (new ones as they
// appear, moved ones at their new place), excludes are honoured, and a queue overflow is answered
// by a rescan. read_changes() reports how many events concern what a backup would read.
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"
#include "anemone/core/fs.hpp"

namespace anemone::runtime {

class InotifyTree {
public:
  // Watches every source. `ignored` are directories never watched (the state directory, a local
  // repository, the logs: a backup writes there, and watching them would start a run per run).
  // Errc::io naming fs.inotify.max_user_watches when the kernel's watch limit is reached while
  // the sources are first watched. A source path that is a symlink is watched where it leads.
  static core::Result<InotifyTree> open(std::vector<config::Source> sources, std::vector<std::filesystem::path> ignored);

  int fd() const { return m_fd.get(); }
  // Reads what is queued (never blocks); returns the number of relevant changes.
  core::Result<uint64_t> read_changes();

  // A source root deleted or moved away is watched again once its path is a directory again
  // (an application that swaps its data directory): call on each wake-up; returns the changes
  // (1 per root found again).
  core::Result<uint64_t> rewatch_missing_roots();
  bool has_missing_roots() const { return !m_missing_roots.empty(); }

  size_t watched_dirs() const { return m_watches.size(); }
  uint64_t overflows() const { return m_overflows; }

private:
  struct Watch {
    size_t source = 0;
    std::string relative; // "" for the source root, else "a/b"
  };
  InotifyTree(core::UniqueFd fd, std::vector<config::Source> sources, std::vector<std::filesystem::path> ignored)
      : m_fd(std::move(fd)), m_sources(std::move(sources)), m_ignored(std::move(ignored)) {}

  // Watches `relative` under source `source` and every directory below it.
  core::Result<void> add_tree(size_t source, const std::string& relative);
  core::Result<void> rescan();
  void forget_tree(size_t source, const std::string& relative);
  bool skipped_dir(size_t source, const std::string& relative) const;
  std::filesystem::path full_path(size_t source, const std::string& relative) const;

  core::UniqueFd m_fd;
  std::vector<config::Source> m_sources;
  std::vector<std::filesystem::path> m_ignored;
  std::unordered_map<int, Watch> m_watches;
  uint64_t m_overflows = 0;
  bool m_limit_warned = false;
  bool m_opened = false;                // after open(): the watch limit is an error only before
  std::vector<size_t> m_missing_roots;  // sources whose root is not watched now
};

} // namespace anemone::runtime
