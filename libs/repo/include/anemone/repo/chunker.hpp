#pragma once
// Content-defined chunking (FastCDC with normalized chunking, Xia et al. 2016): a gear rolling hash
// cuts where its top bits are zero, so an insertion moves only the cuts around it. The gear table is
// derived from the repository key, so chunk boundaries do not fingerprint known files.
#include <array>
#include <cstddef>
#include <cstdint>

#include "anemone/core/bytes.hpp"
#include "anemone/core/error.hpp"

namespace anemone::repo {

struct ChunkerParams {
  size_t min_size = 256 * 1024;
  size_t avg_size = 1024 * 1024; // a power of two
  size_t max_size = 4 * 1024 * 1024;
};

class Chunker {
public:
  Chunker(ChunkerParams params, const std::array<uint64_t, 256>& gear);
  // Length of the first chunk of data[0..length). When no cut is found before `length` and
  // length < max_size, returns length (the caller decides whether more data may follow).
  size_t find_cut(const uint8_t* data, size_t length) const;
  const ChunkerParams& params() const { return m_params; }

private:
  ChunkerParams m_params;
  std::array<uint64_t, 256> m_gear;
  uint64_t m_mask_small; // before avg_size: harder to cut
  uint64_t m_mask_large; // after avg_size: easier to cut
};

// Reads a file descriptor and yields its chunks; memory stays within a few times max_size. The
// buffer is the caller's, reused from file to file: allocating (and zeroing) it per file would
// dominate the cost of small files.
class FileChunker {
public:
  FileChunker(const Chunker& chunker, int fd, core::Bytes& buffer);
  // Next chunk, or an empty Bytes at end of file.
  core::Result<core::Bytes> next();
  uint64_t bytes_read() const { return m_bytes_read; }

private:
  core::Result<void> fill();
  const Chunker& m_chunker;
  int m_fd;
  core::Bytes& m_buffer;
  size_t m_start = 0;
  size_t m_end = 0;
  bool m_eof = false;
  uint64_t m_bytes_read = 0;
};

} // namespace anemone::repo
