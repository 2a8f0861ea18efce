#include "anemone/state/files_cache.hpp"
#include <vector>

namespace anemone::state {

core::Result<FilesCache> FilesCache::load(Db& db, std::string target, std::string repo_id) {
  FilesCache cache(std::move(target), std::move(repo_id));
  auto stmt = TRY(db.prepare("SELECT path, device, inode, size, mtime_ns, ctime_ns, content FROM files_cache "
                             "WHERE target = ? AND repo_id = ?"));
  stmt.bind(1, cache.m_target).bind(2, cache.m_repo_id);
  while (TRY(stmt.step())) {
    CachedFile entry;
    core::Bytes path = stmt.column_blob(0);
    entry.device = static_cast<uint64_t>(stmt.column_int(1));
    entry.inode = static_cast<uint64_t>(stmt.column_int(2));
    entry.size = static_cast<uint64_t>(stmt.column_int(3));
    entry.mtime_ns = stmt.column_int(4);
    entry.ctime_ns = stmt.column_int(5);
    entry.content = stmt.column_blob(6);
    cache.m_entries.emplace(std::string(path.begin(), path.end()), std::move(entry));
  }
  return cache;
}

const CachedFile* FilesCache::find(const std::string& path) const {
  auto it = m_entries.find(path);
  return it == m_entries.end() ? nullptr : &it->second;
}

void FilesCache::record(const std::string& path, CachedFile entry) { m_recorded[path] = std::move(entry); }

core::Result<void> FilesCache::save(Db& db) const {
  // Write only the difference: an unchanged tree costs no writes at all.
  std::vector<const std::string*> removed;
  for (const auto& [path, entry] : m_entries)
    if (!m_recorded.count(path)) removed.push_back(&path);
  std::vector<std::pair<const std::string*, const CachedFile*>> changed;
  for (const auto& [path, entry] : m_recorded) {
    auto it = m_entries.find(path);
    if (it == m_entries.end() || !it->second.matches(entry) || it->second.content != entry.content)
      changed.emplace_back(&path, &entry);
  }
  if (removed.empty() && changed.empty()) return {};
  auto txn = TRY(Txn::begin(db));
  // Rows of another repository under this target name (the repository was replaced) go first.
  auto stale = TRY(db.prepare("DELETE FROM files_cache WHERE target = ? AND repo_id != ?"));
  TRY(stale.bind(1, m_target).bind(2, m_repo_id).run());
  auto erase = TRY(db.prepare("DELETE FROM files_cache WHERE target = ? AND path = ?"));
  for (const auto* path : removed) TRY(erase.bind(1, m_target).bind(2, core::as_bytes(*path)).run());
  auto upsert = TRY(db.prepare("INSERT OR REPLACE INTO files_cache (target, repo_id, path, device, inode, size, "
                               "mtime_ns, ctime_ns, content, seen_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"));
  for (const auto& [path, entry] : changed) {
    upsert.bind(1, m_target)
        .bind(2, m_repo_id)
        .bind(3, core::as_bytes(*path))
        .bind(4, static_cast<int64_t>(entry->device))
        .bind(5, static_cast<int64_t>(entry->inode))
        .bind(6, static_cast<int64_t>(entry->size))
        .bind(7, entry->mtime_ns)
        .bind(8, entry->ctime_ns)
        .bind(9, core::ByteView(entry->content));
    TRY(upsert.run());
  }
  return txn.commit();
}

} // namespace anemone::state
