#pragma once
// The files cache: per target, what each file looked like (device, inode, size, mtime, ctime) when
// it was last backed up, and the blob ids of its content. Loaded whole at the start of a run,
// written back in one transaction after the snapshot is safely stored, so an entry never names
// data the repository lacks.
#include <cstdint>
#include <string>
#include <unordered_map>

#include "anemone/core/bytes.hpp"
#include "anemone/state/db.hpp"

namespace anemone::state {

struct CachedFile {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  core::Bytes content; // concatenated 32-byte blob ids

  bool matches(const CachedFile& other) const {
    return device == other.device && inode == other.inode && size == other.size && mtime_ns == other.mtime_ns &&
           ctime_ns == other.ctime_ns;
  }
};

class FilesCache {
public:
  // Entries recorded for a different repository id are ignored (and replaced on save).
  static core::Result<FilesCache> load(Db& db, std::string target, std::string repo_id);

  const CachedFile* find(const std::string& path) const;
  // Called by archiver threads; thread-safe through the caller's lock, not here.
  void record(const std::string& path, CachedFile entry);
  size_t size() const { return m_entries.size(); }
  // Replaces the target's entries with the ones recorded in this run.
  core::Result<void> save(Db& db) const;

private:
  FilesCache(std::string target, std::string repo_id) : m_target(std::move(target)), m_repo_id(std::move(repo_id)) {}
  std::string m_target;
  std::string m_repo_id;
  std::unordered_map<std::string, CachedFile> m_entries;
  std::unordered_map<std::string, CachedFile> m_recorded;
};

} // namespace anemone::state
