#include "anemone/repo/pack_uploader.hpp"

namespace anemone::repo {

PackUploader::PackUploader(Store store, size_t threads, size_t max_queued)
    : m_store(std::move(store)), m_max_queued(max_queued == 0 ? 1 : max_queued) {
  for (size_t i = 0; i < (threads == 0 ? 1 : threads); ++i) m_threads.emplace_back([this] { run(); });
}

PackUploader::~PackUploader() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    m_queue.clear();
  }
  m_changed.notify_all();
  for (auto& thread : m_threads) thread.join();
}

core::Result<void> PackUploader::submit(PackBuilder::Finished pack) {
  std::unique_lock lock(m_mutex);
  m_changed.wait(lock, [this] { return m_error || m_queue.size() < m_max_queued; });
  if (m_error) return tl::unexpected(*m_error);
  m_queue.push_back(std::move(pack));
  lock.unlock();
  m_changed.notify_all();
  return {};
}

core::Result<void> PackUploader::drain() {
  std::unique_lock lock(m_mutex);
  m_changed.wait(lock, [this] { return m_queue.empty() && m_in_flight == 0; });
  if (m_error) return tl::unexpected(*m_error);
  return {};
}

void PackUploader::run() {
  while (true) {
    PackBuilder::Finished pack;
    {
      std::unique_lock lock(m_mutex);
      m_changed.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
      if (m_queue.empty()) return;
      pack = std::move(m_queue.front());
      m_queue.pop_front();
      ++m_in_flight;
    }
    m_changed.notify_all(); // room in the queue
    auto stored = m_store(std::move(pack));
    {
      std::lock_guard lock(m_mutex);
      --m_in_flight;
      if (!stored && !m_error) {
        m_error = stored.error();
        m_queue.clear();
      }
    }
    m_changed.notify_all();
  }
}

} // namespace anemone::repo
