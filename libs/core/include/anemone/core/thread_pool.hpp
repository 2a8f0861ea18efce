#pragma once
// A fixed set of worker threads with a bounded queue: submit() blocks while the queue is full, so a
// fast producer (the file reader) cannot pile up unbounded memory ahead of the workers.
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace anemone::core {

class ThreadPool {
public:
  ThreadPool(size_t threads, size_t queue_limit);
  ~ThreadPool(); // finishes queued work, then joins
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  template <typename F> auto submit(F&& work) -> std::future<decltype(work())> {
    using R = decltype(work());
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(work));
    auto future = task->get_future();
    enqueue([task] { (*task)(); });
    return future;
  }
  size_t size() const { return m_threads.size(); }

  // Threads worth using for CPU-bound work here: the core count, at least 1.
  static size_t default_threads();

private:
  void enqueue(std::function<void()> job);
  void worker();
  std::mutex m_mutex;
  std::condition_variable m_has_work;
  std::condition_variable m_has_room;
  std::deque<std::function<void()>> m_queue;
  size_t m_queue_limit;
  bool m_stopping = false;
  std::vector<std::thread> m_threads;
};

} // namespace anemone::core
