#include "anemone/repo/lock.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "anemone/core/log.hpp"
#include "anemone/core/system.hpp"
#include "anemone/core/time.hpp"
#include "json_fields.hpp"

namespace anemone::repo {

using core::Errc;
using nlohmann::json;

namespace {

core::Result<std::string> write_lock(Repository& repo, LockKind kind) {
  json doc = {{"host", core::host_name()},
              {"pid", static_cast<int>(::getpid())},
              {"time", core::format_utc_precise(core::now_ns())},
              {"exclusive", kind == LockKind::exclusive}};
  std::string text = doc.dump();
  return repo.save_file(FileType::lock, core::as_bytes(text));
}

bool is_stale(const LockInfo& lock) {
  if (lock.host == core::host_name() && !core::process_alive(lock.pid)) return true;
  return core::now_ns() - lock.time_ns > k_lock_stale_after_seconds * 1000000000;
}

std::string describe(const LockInfo& lock) {
  return fmt::format("{} lock held by {} pid {} since {}", lock.kind == LockKind::exclusive ? "an exclusive" : "a",
                     lock.host, lock.pid, core::format_utc(lock.time_ns));
}

} // namespace

core::Result<std::vector<LockInfo>> list_locks(Repository& repo) {
  auto files = TRY(repo.backend().list(FileType::lock));
  std::vector<LockInfo> locks;
  for (const auto& file : files) {
    auto body = repo.load_file(FileType::lock, file.name);
    if (!body) {
      // Removed between list and load (a lock being refreshed) or damaged: not a live lock.
      if (body.error().code() != Errc::not_found) core::log_warning("lock {}: {}", file.name, body.error().message());
      continue;
    }
    json doc = json::parse(body->begin(), body->end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) continue;
    LockInfo info;
    info.name = file.name;
    info.host = doc.value("host", "");
    info.pid = number_field<int>(doc, "pid", 0).value_or(0);
    info.time_ns = core::parse_utc(doc.value("time", "")).value_or(0);
    info.kind = doc.value("exclusive", false) ? LockKind::exclusive : LockKind::shared;
    info.stale = is_stale(info);
    locks.push_back(std::move(info));
  }
  return locks;
}

core::Result<std::unique_ptr<RepoLock>> RepoLock::acquire(Repository& repo, LockKind kind) {
  auto check_conflicts = [&](const std::string& own) -> core::Result<void> {
    auto locks = TRY(list_locks(repo));
    for (const auto& lock : locks) {
      if (lock.name == own) continue;
      if (lock.stale) {
        if (lock.host == core::host_name()) (void)repo.backend().remove(FileType::lock, lock.name);
        continue;
      }
      if (kind == LockKind::exclusive || lock.kind == LockKind::exclusive)
        return core::fail(Errc::locked, "repository {} is locked: {}", repo.backend().location(), describe(lock));
    }
    return {};
  };
  TRY(check_conflicts(""));
  std::string name = TRY(write_lock(repo, kind));
  // Two processes may have checked at the same time; looking again after writing ours means at
  // least one of them sees the other.
  if (auto again = check_conflicts(name); !again) {
    (void)repo.backend().remove(FileType::lock, name);
    return tl::unexpected(again.error());
  }
  return std::unique_ptr<RepoLock>(new RepoLock(repo, kind, std::move(name)));
}

RepoLock::RepoLock(Repository& repo, LockKind kind, std::string name)
    : m_repo(repo), m_kind(kind), m_name(std::move(name)) {
  m_refresher = std::thread([this] { refresh_loop(); });
}

void RepoLock::refresh_loop() {
  std::unique_lock lock(m_mutex);
  while (!m_wake.wait_for(lock, std::chrono::seconds(k_lock_refresh_seconds), [this] { return m_stop; })) {
    auto fresh = write_lock(m_repo, m_kind);
    if (!fresh) {
      core::log_warning("refreshing the repository lock: {}", fresh.error().message());
      continue;
    }
    (void)m_repo.backend().remove(FileType::lock, m_name);
    m_name = *fresh;
  }
}

RepoLock::~RepoLock() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  m_refresher.join();
  if (auto removed = m_repo.backend().remove(FileType::lock, m_name); !removed)
    core::log_warning("removing the repository lock: {}", removed.error().message());
}

core::Result<size_t> remove_locks(Repository& repo, UnlockScope scope) {
  auto locks = TRY(list_locks(repo));
  size_t removed = 0;
  for (const auto& lock : locks) {
    if (scope == UnlockScope::stale && !lock.stale) continue;
    TRY(repo.backend().remove(FileType::lock, lock.name));
    ++removed;
  }
  return removed;
}

} // namespace anemone::repo
