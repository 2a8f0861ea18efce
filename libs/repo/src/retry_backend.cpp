#include <atomic>
#include <chrono>
#include <thread>

#include "anemone/core/log.hpp"
#include "anemone/core/system.hpp"
#include "anemone/repo/backend.hpp"

namespace anemone::repo {

using core::Errc;

namespace {

class RetryBackend final : public Backend {
public:
  RetryBackend(std::unique_ptr<Backend> inner, RetryPolicy policy) : m_inner(std::move(inner)), m_policy(policy) {}

  std::string location() const override { return m_inner->location(); }
  core::Result<void> create_layout() override {
    return retry("create repository", [&] { return m_inner->create_layout(); });
  }
  core::Result<void> save(FileType type, const std::string& name, core::ByteView data) override {
    bool attempted = false;
    return retry("store " + name, [&]() -> core::Result<void> {
      auto saved = m_inner->save(type, name, data);
      // An earlier attempt may have stored it before its connection dropped.
      if (!saved && attempted && saved.error().code() == Errc::already_exists) {
        auto size = m_inner->size(type, name);
        if (size && *size == data.size()) return {};
      }
      attempted = true;
      return saved;
    });
  }
  core::Result<core::Bytes> load(FileType type, const std::string& name, uint64_t offset, uint64_t length) override {
    return retry("load " + name, [&] { return m_inner->load(type, name, offset, length); });
  }
  core::Result<uint64_t> size(FileType type, const std::string& name) override {
    return retry("stat " + name, [&] { return m_inner->size(type, name); });
  }
  core::Result<void> remove(FileType type, const std::string& name) override {
    return retry("remove " + name, [&] { return m_inner->remove(type, name); });
  }
  core::Result<std::vector<FileInfo>> list(FileType type) override {
    return retry("list", [&] { return m_inner->list(type); });
  }
  core::Result<size_t> remove_leftovers(Leftovers which) override {
    return retry("clean up", [&] { return m_inner->remove_leftovers(which); });
  }

private:
  // Once one operation has spent its whole budget on I/O errors, the peer is gone for now: later
  // failures (another upload thread, the lock removal at the end) are not retried, so a dead peer
  // costs one budget, not one per operation. Any success clears it.
  template <typename Work> auto retry(const std::string& what, Work&& work) -> decltype(work()) {
    int delay_ms = m_policy.first_delay_ms;
    for (int attempt = 1;; ++attempt) {
      auto result = work();
      if (result) m_peer_gone = false;
      if (result || result.error().code() != Errc::io || core::interrupted()) return result;
      if (attempt >= m_policy.attempts) m_peer_gone = true;
      if (m_peer_gone) return result;
      core::log_warning("{}: {} (attempt {} of {}, retrying in {} ms)", what, result.error().message(), attempt,
                        m_policy.attempts, delay_ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      delay_ms *= 2;
    }
  }

  std::unique_ptr<Backend> m_inner;
  RetryPolicy m_policy;
  std::atomic<bool> m_peer_gone{false};
};

} // namespace

std::unique_ptr<Backend> with_retries(std::unique_ptr<Backend> inner, RetryPolicy policy) {
  return std::make_unique<RetryBackend>(std::move(inner), policy);
}

} // namespace anemone::repo
