#pragma once
// Repository locks: files under locks/, sealed like all metadata, naming host, pid and time.
// Backups take shared locks, prune takes an exclusive one. A lock is stale when its process is gone
// (same host) or it has not been refreshed for k_lock_stale_after; stale locks never block, and a
// lock of a dead process on this host is removed on sight.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "anemone/core/error.hpp"
#include "anemone/repo/repository.hpp"

namespace anemone::repo {

inline constexpr int64_t k_lock_refresh_seconds = 5 * 60;
inline constexpr int64_t k_lock_stale_after_seconds = 30 * 60;

enum class LockKind { shared, exclusive };

struct LockInfo {
  std::string name; // file name
  std::string host;
  int pid = 0;
  int64_t time_ns = 0;
  LockKind kind = LockKind::shared;
  bool stale = false;
};

core::Result<std::vector<LockInfo>> list_locks(Repository& repo);

class RepoLock {
public:
  // Errc::locked, naming the holder's host and pid, when a live conflicting lock exists.
  static core::Result<std::unique_ptr<RepoLock>> acquire(Repository& repo, LockKind kind);
  ~RepoLock(); // removes the lock file
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;

private:
  RepoLock(Repository& repo, LockKind kind, std::string name);
  void refresh_loop();
  Repository& m_repo;
  LockKind m_kind;
  std::mutex m_mutex;
  std::string m_name;
  std::condition_variable m_wake;
  bool m_stop = false;
  std::thread m_refresher;
};

// Removes stale locks (or every lock with `all`); returns how many were removed.
enum class UnlockScope { stale, all };
core::Result<size_t> remove_locks(Repository& repo, UnlockScope scope);

} // namespace anemone::repo
