#include "anemone/core/thread_pool.hpp"

namespace anemone::core {

ThreadPool::ThreadPool(size_t threads, size_t queue_limit) : m_queue_limit(queue_limit == 0 ? 1 : queue_limit) {
  for (size_t i = 0; i < (threads == 0 ? 1 : threads); ++i) m_threads.emplace_back([this] { worker(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_has_work.notify_all();
  for (auto& thread : m_threads) thread.join();
}

size_t ThreadPool::default_threads() {
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

void ThreadPool::enqueue(std::function<void()> job) {
  std::unique_lock lock(m_mutex);
  m_has_room.wait(lock, [this] { return m_queue.size() < m_queue_limit; });
  m_queue.push_back(std::move(job));
  lock.unlock();
  m_has_work.notify_one();
}

void ThreadPool::worker() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock lock(m_mutex);
      m_has_work.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
      if (m_queue.empty()) return;
      job = std::move(m_queue.front());
      m_queue.pop_front();
    }
    m_has_room.notify_one();
    job();
  }
}

} // namespace anemone::core
