#pragma once
// Stores finished packs on background threads, so the workers that hash, compress and seal never
// wait on a write or an fsync (or, over SFTP, on the network). At most `max_queued` packs wait in
// memory; submit() blocks beyond that. The first error is kept and returned by the next submit()
// or drain(); packs still queued after an error are dropped (they were never indexed).
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "anemone/core/error.hpp"
#include "anemone/repo/pack.hpp"

namespace anemone::repo {

class PackUploader {
public:
  using Store = std::function<core::Result<void>(PackBuilder::Finished)>;
  PackUploader(Store store, size_t threads, size_t max_queued);
  ~PackUploader();
  PackUploader(const PackUploader&) = delete;
  PackUploader& operator=(const PackUploader&) = delete;

  core::Result<void> submit(PackBuilder::Finished pack);
  // Waits until every submitted pack is stored (or an error stopped the uploads).
  core::Result<void> drain();

private:
  void run();
  Store m_store;
  size_t m_max_queued;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<PackBuilder::Finished> m_queue;
  size_t m_in_flight = 0;
  std::optional<core::Error> m_error;
  bool m_stopping = false;
  std::vector<std::thread> m_threads;
};

} // namespace anemone::repo
