#include "anemone/repo/chunker.hpp"

#include <bit>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace anemone::repo {

namespace {
// A mask of `bits` ones spread over the top of the word: the gear hash's high bits depend on the
// most recent 64 bytes, the low bits on fewer.
uint64_t top_mask(int bits) { return bits <= 0 ? 0 : ~uint64_t{0} << (64 - bits); }
} // namespace

Chunker::Chunker(ChunkerParams params, const std::array<uint64_t, 256>& gear) : m_params(params), m_gear(gear) {
  int bits = std::countr_zero(params.avg_size);
  m_mask_small = top_mask(bits + 2);
  m_mask_large = top_mask(bits - 2);
}

size_t Chunker::find_cut(const uint8_t* data, size_t length) const {
  if (length <= m_params.min_size) return length;
  size_t limit = std::min(length, m_params.max_size);
  size_t normal = std::min(limit, m_params.avg_size);
  uint64_t hash = 0;
  size_t i = m_params.min_size;
  for (; i < normal; ++i) {
    hash = (hash << 1) + m_gear[data[i]];
    if ((hash & m_mask_small) == 0) return i + 1;
  }
  for (; i < limit; ++i) {
    hash = (hash << 1) + m_gear[data[i]];
    if ((hash & m_mask_large) == 0) return i + 1;
  }
  return limit;
}

FileChunker::FileChunker(const Chunker& chunker, int fd, core::Bytes& buffer)
    : m_chunker(chunker), m_fd(fd), m_buffer(buffer) {}

core::Result<void> FileChunker::fill() {
  size_t max = m_chunker.params().max_size;
  if (m_buffer.size() < 4 * max) m_buffer.resize(4 * max);
  if (m_start > 0 && m_buffer.size() - m_start < 2 * max) {
    std::memmove(m_buffer.data(), m_buffer.data() + m_start, m_end - m_start);
    m_end -= m_start;
    m_start = 0;
  }
  while (!m_eof && m_end - m_start < max) {
    ssize_t n = ::read(m_fd, m_buffer.data() + m_end, m_buffer.size() - m_end);
    if (n < 0) {
      if (errno == EINTR) continue;
      return core::fail_errno("read", errno);
    }
    if (n == 0) m_eof = true;
    m_end += static_cast<size_t>(n);
    m_bytes_read += static_cast<uint64_t>(n);
  }
  return {};
}

core::Result<core::Bytes> FileChunker::next() {
  TRY(fill());
  size_t available = m_end - m_start;
  if (available == 0) return core::Bytes();
  size_t cut = m_chunker.find_cut(m_buffer.data() + m_start, available);
  core::Bytes chunk(m_buffer.begin() + static_cast<ptrdiff_t>(m_start),
                    m_buffer.begin() + static_cast<ptrdiff_t>(m_start + cut));
  m_start += cut;
  return chunk;
}

} // namespace anemone::repo
