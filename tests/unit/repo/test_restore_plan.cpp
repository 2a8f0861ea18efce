// The restore plan: blobs grouped by pack, neighbours read together, shared blobs read once.
#include <catch2/catch.hpp>

#include "anemone/repo/restore_plan.hpp"

using namespace anemone;
using repo::BlobId;

namespace {

BlobId id_of(uint8_t n) {
  BlobId id{};
  id[0] = n;
  return id;
}

repo::PackedBlob blob(uint8_t n, uint32_t offset, uint32_t length) {
  return {repo::BlobType::data, id_of(n), offset, length, length * 2};
}

} // namespace

TEST_CASE("restore plan groups blobs by pack and coalesces neighbours", "[repo][restore]") {
  repo::Index index;
  // Pack A: blobs 1..3 back to back, blob 4 far away. Pack B: blob 5.
  index.add_pack({"aa", {blob(1, 0, 100), blob(2, 100, 100), blob(3, 200, 100), blob(4, 10'000'000, 50)}});
  index.add_pack({"bb", {blob(5, 0, 10)}});

  std::vector<BlobId> first{id_of(5), id_of(1), id_of(3)};
  std::vector<BlobId> second{id_of(1), id_of(4), id_of(1)}; // blob 1 twice in one file
  std::vector<BlobId> empty;
  auto plan = repo::plan_restore(index, {&first, &second, &empty}, 1000);

  REQUIRE(plan.packs.size() == 2);
  CHECK(plan.packs[0].pack == "bb"); // first needed first
  CHECK(plan.packs[1].pack == "aa");
  CHECK(plan.writes_per_file == std::vector<size_t>{3, 3, 0});
  CHECK(plan.planned_size == std::vector<uint64_t>{20 + 200 + 200, 200 + 100 + 200, 0});
  CHECK(plan.problem == std::vector<std::string>{"", "", ""});

  const auto& reads = plan.packs[1].reads;
  REQUIRE(reads.size() == 2); // 1 and 3 together (blob 2 between them is read, unused), 4 alone
  CHECK(reads[0].offset == 0);
  CHECK(reads[0].length == 300);
  REQUIRE(reads[0].blobs.size() == 2);
  CHECK(reads[0].blobs[0].blob.id == id_of(1));
  // Blob 1 is read once and goes to three places: file 0 at 20, file 1 at 0 and at 300.
  REQUIRE(reads[0].blobs[0].targets.size() == 3);
  CHECK(reads[0].blobs[0].targets[0].file == 0);
  CHECK(reads[0].blobs[0].targets[0].offset == 20);
  CHECK(reads[0].blobs[0].targets[1].offset == 0);
  CHECK(reads[0].blobs[0].targets[2].offset == 300);
  CHECK(reads[1].offset == 10'000'000);
  CHECK(reads[1].length == 50);
}

TEST_CASE("restore plan: a file with a blob missing from the index is reported, not planned", "[repo][restore]") {
  repo::Index index;
  index.add_pack({"aa", {blob(1, 0, 100)}});
  std::vector<BlobId> whole{id_of(1)};
  std::vector<BlobId> broken{id_of(1), id_of(9)};
  auto plan = repo::plan_restore(index, {&whole, &broken});
  CHECK(plan.problem[0].empty());
  CHECK(plan.problem[1].find("is not in the index") != std::string::npos);
  CHECK(plan.writes_per_file[1] == 0);
  REQUIRE(plan.packs.size() == 1);
  REQUIRE(plan.packs[0].reads.size() == 1);
  CHECK(plan.packs[0].reads[0].blobs[0].targets.size() == 1); // only the whole file's
}

TEST_CASE("restore plan: a gap wider than the limit splits the read", "[repo][restore]") {
  repo::Index index;
  index.add_pack({"aa", {blob(1, 0, 100), blob(2, 100, 100), blob(3, 200, 100)}});
  std::vector<BlobId> file{id_of(3), id_of(1)};
  CHECK(repo::plan_restore(index, {&file}, 99).packs[0].reads.size() == 2);
  CHECK(repo::plan_restore(index, {&file}, 100).packs[0].reads.size() == 1);
}
