// Content-defined chunking: bounds, determinism, keyed boundaries, streaming over a descriptor, and
// the property the design depends on: an insertion re-chunks only its neighbourhood.
#include <fcntl.h>
#include <fstream>
#include <set>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sodium.h>

#include "anemone/core/bytes.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/crypto/aead.hpp"
#include "anemone/repo/chunker.hpp"
#include "anemone/repo/keys.hpp"
#include "../scratch.hpp"

using namespace anemone;

namespace {

constexpr size_t k_mib = 1024 * 1024;

core::Bytes pseudo_random(size_t size, uint8_t seed_byte) {
  core::Bytes out(size);
  unsigned char seed[randombytes_SEEDBYTES] = {seed_byte};
  randombytes_buf_deterministic(out.data(), out.size(), seed);
  return out;
}

std::array<uint64_t, 256> gear_for(uint8_t seed_byte) {
  core::Bytes seed(32, seed_byte);
  return repo::gear_table(crypto::SecretBytes::copy_of(seed));
}

std::vector<core::Bytes> chunk_all(const repo::Chunker& chunker, const core::Bytes& data) {
  std::vector<core::Bytes> chunks;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t cut = chunker.find_cut(data.data() + pos, data.size() - pos);
    REQUIRE(cut > 0);
    REQUIRE(cut <= data.size() - pos);
    chunks.emplace_back(data.begin() + static_cast<ptrdiff_t>(pos), data.begin() + static_cast<ptrdiff_t>(pos + cut));
    pos += cut;
  }
  return chunks;
}

std::vector<size_t> lengths_of(const std::vector<core::Bytes>& chunks) {
  std::vector<size_t> lengths;
  for (const auto& chunk : chunks) lengths.push_back(chunk.size());
  return lengths;
}

std::vector<core::Bytes> chunk_fd(const repo::Chunker& chunker, int fd, uint64_t* bytes_read = nullptr) {
  core::Bytes buffer;
  repo::FileChunker file_chunker(chunker, fd, buffer);
  std::vector<core::Bytes> chunks;
  while (true) {
    auto chunk = file_chunker.next();
    REQUIRE(chunk);
    if (chunk->empty()) break;
    chunks.push_back(std::move(*chunk));
  }
  if (bytes_read) *bytes_read = file_chunker.bytes_read();
  return chunks;
}

} // namespace

TEST_CASE("chunker: chunk sizes stay within [min, max]", "[repo][chunker]") {
  repo::ChunkerParams params;
  repo::Chunker chunker(params, gear_for(1));
  auto data = pseudo_random(24 * k_mib + 12345, 7);
  auto chunks = chunk_all(chunker, data);
  REQUIRE(chunks.size() > 4);
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    INFO("chunk " << i);
    CHECK(chunks[i].size() >= params.min_size);
    CHECK(chunks[i].size() <= params.max_size);
  }
  CHECK(chunks.back().size() > 0);
  CHECK(chunks.back().size() <= params.max_size);

  SECTION("data without any cut point is cut at max_size") {
    // Over a run of one byte value the gear hash settles on a constant (-gear[0]) whose top bits are
    // not all zero for this table, so nothing cuts before max_size.
    core::Bytes zeros(10 * k_mib, 0);
    auto zero_chunks = chunk_all(chunker, zeros);
    REQUIRE(zero_chunks.size() == 3);
    CHECK(zero_chunks[0].size() == params.max_size);
    CHECK(zero_chunks[1].size() == params.max_size);
    CHECK(zero_chunks[2].size() == 2 * k_mib);
  }
  SECTION("short input is a single chunk") {
    CHECK(chunker.find_cut(data.data(), 100) == 100);
    CHECK(chunker.find_cut(data.data(), params.min_size) == params.min_size);
  }
  SECTION("a buffer longer than max_size never yields more than max_size") {
    CHECK(chunker.find_cut(data.data(), data.size()) <= params.max_size);
  }
}

TEST_CASE("chunker: concatenated chunks equal the input", "[repo][chunker]") {
  repo::Chunker chunker({}, gear_for(2));
  auto data = pseudo_random(9 * k_mib + 3, 8);
  auto chunks = chunk_all(chunker, data);
  core::Bytes joined;
  for (const auto& chunk : chunks) joined.insert(joined.end(), chunk.begin(), chunk.end());
  CHECK((joined == data));
}

TEST_CASE("chunker: boundaries depend only on the data and the gear table", "[repo][chunker]") {
  auto data = pseudo_random(16 * k_mib, 9);
  repo::Chunker first({}, gear_for(3));
  repo::Chunker second({}, gear_for(3)); // same seed, separately derived table
  auto lengths = lengths_of(chunk_all(first, data));
  CHECK(lengths == lengths_of(chunk_all(second, data)));
  CHECK(lengths == lengths_of(chunk_all(first, data)));

  repo::Chunker other({}, gear_for(4));
  auto other_lengths = lengths_of(chunk_all(other, data));
  CHECK(other_lengths != lengths);
  // Not merely shifted: hardly any cut position is shared.
  std::set<size_t> cuts;
  size_t pos = 0;
  for (size_t length : lengths) cuts.insert(pos += length);
  size_t shared = 0;
  pos = 0;
  for (size_t length : other_lengths) shared += cuts.count(pos += length);
  CHECK(shared <= 2); // the end of the data, and perhaps one coincidence
}

TEST_CASE("chunker: FileChunker over a file equals find_cut in a loop", "[repo][chunker]") {
  anemone::test::ScratchDir dir;
  repo::Chunker chunker({}, gear_for(5));
  auto data = pseudo_random(13 * k_mib + 777, 10);
  auto expected = chunk_all(chunker, data);

  auto path = dir / "input.bin";
  REQUIRE(core::write_file_atomic(path, data));
  core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(fd);
  uint64_t bytes_read = 0;
  auto chunks = chunk_fd(chunker, fd.get(), &bytes_read);
  CHECK(bytes_read == data.size());
  CHECK(lengths_of(chunks) == lengths_of(expected));
  CHECK((chunks == expected));

  SECTION("an empty file yields no chunk") {
    auto empty_path = dir / "empty";
    REQUIRE(core::write_file_atomic(empty_path, {}));
    core::UniqueFd empty_fd(::open(empty_path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(empty_fd);
    CHECK(chunk_fd(chunker, empty_fd.get()).empty());
  }
}

TEST_CASE("chunker: FileChunker over a pipe (short reads) equals find_cut in a loop", "[repo][chunker]") {
  repo::Chunker chunker({}, gear_for(6));
  // Random data, then a zero run that only max_size cuts (so the reader must gather max_size bytes
  // from many short reads), then random data again.
  auto data = pseudo_random(7 * k_mib + 5, 11);
  data.resize(data.size() + 10 * k_mib, 0);
  auto tail = pseudo_random(3 * k_mib, 17);
  data.insert(data.end(), tail.begin(), tail.end());
  auto expected = chunk_all(chunker, data);
  size_t full_size = 0;
  for (const auto& chunk : expected) full_size += chunk.size() == chunker.params().max_size;
  REQUIRE(full_size >= 2);

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  core::UniqueFd read_end(fds[0]);
  core::UniqueFd write_end(fds[1]);
  std::thread writer([&] {
    // Odd-sized writes so reads straddle chunk boundaries.
    size_t pos = 0;
    while (pos < data.size()) {
      size_t piece = std::min<size_t>(7001, data.size() - pos);
      if (!core::write_all(write_end.get(), core::ByteView(data).subspan(pos, piece), "pipe")) break;
      pos += piece;
    }
    write_end.reset();
  });
  uint64_t bytes_read = 0;
  auto chunks = chunk_fd(chunker, read_end.get(), &bytes_read);
  writer.join();
  CHECK(bytes_read == data.size());
  CHECK((chunks == expected));
}

TEST_CASE("chunker: an insertion in the middle changes at most 3 chunks", "[repo][chunker]") {
  repo::Chunker chunker({}, gear_for(12));
  auto before = pseudo_random(32 * k_mib, 13);
  auto after = before;
  auto inserted = pseudo_random(100, 14);
  after.insert(after.begin() + static_cast<ptrdiff_t>(before.size() / 2), inserted.begin(), inserted.end());

  auto hashes = [&](const core::Bytes& data) {
    std::multiset<std::string> out;
    for (const auto& chunk : chunk_all(chunker, data)) out.insert(core::to_hex(crypto::plain_hash(chunk)));
    return out;
  };
  auto old_chunks = hashes(before);
  auto new_chunks = hashes(after);
  REQUIRE(old_chunks.size() > 10);
  size_t only_new = 0;
  for (const auto& hash : new_chunks) only_new += old_chunks.count(hash) == 0;
  size_t only_old = 0;
  for (const auto& hash : old_chunks) only_old += new_chunks.count(hash) == 0;
  INFO(old_chunks.size() << " chunks before, " << new_chunks.size() << " after");
  CHECK(only_new >= 1); // the chunk holding the insertion is new
  CHECK(only_new <= 3);
  CHECK(only_old <= 3);
}

TEST_CASE("chunker: the average chunk size on random data is near avg_size", "[repo][chunker]") {
  repo::ChunkerParams params;
  REQUIRE(params.avg_size == k_mib);
  repo::Chunker chunker(params, gear_for(15));
  auto data = pseudo_random(64 * k_mib, 16);
  auto lengths = lengths_of(chunk_all(chunker, data));
  double average = static_cast<double>(data.size()) / static_cast<double>(lengths.size());
  INFO(lengths.size() << " chunks, average " << average);
  CHECK(average >= 0.5 * static_cast<double>(params.avg_size));
  CHECK(average <= 2.0 * static_cast<double>(params.avg_size));
}
