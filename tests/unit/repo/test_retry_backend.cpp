// The retry decorator: I/O errors are retried with backoff; once a whole budget is spent the peer
// counts as gone and other operations fail at once, until one succeeds.
#include <atomic>

#include <catch2/catch.hpp>

#include "anemone/repo/backend.hpp"

using namespace anemone;
using core::Errc;

namespace {

// Every call fails with an I/O error while `down`; counts the calls.
class FlakyBackend final : public repo::Backend {
public:
  std::atomic<bool> down{true};
  std::atomic<int> calls{0};
  std::string location() const override { return "flaky"; }
  core::Result<void> create_layout() override { return outcome(); }
  core::Result<void> save(repo::FileType, const std::string&, core::ByteView) override { return outcome(); }
  core::Result<core::Bytes> load(repo::FileType, const std::string&, uint64_t, uint64_t) override {
    TRY(outcome());
    return core::Bytes{1, 2, 3};
  }
  core::Result<uint64_t> size(repo::FileType, const std::string&) override {
    TRY(outcome());
    return 3;
  }
  core::Result<void> remove(repo::FileType, const std::string&) override { return outcome(); }
  core::Result<std::vector<repo::FileInfo>> list(repo::FileType) override {
    TRY(outcome());
    return std::vector<repo::FileInfo>{};
  }
  core::Result<size_t> remove_leftovers(Leftovers) override {
    TRY(outcome());
    return 0;
  }

private:
  core::Result<void> outcome() {
    ++calls;
    if (down) return core::fail(Errc::io, "connection to the peer failed");
    return {};
  }
};

} // namespace

TEST_CASE("retries: a dead peer costs one retry budget, not one per operation", "[repo][retry]") {
  auto owned = std::make_unique<FlakyBackend>();
  FlakyBackend& flaky = *owned;
  auto backend = repo::with_retries(std::move(owned), {4, 1});

  auto first = backend->remove(repo::FileType::lock, "a");
  REQUIRE_FALSE(first);
  CHECK(first.error().code() == Errc::io);
  CHECK(flaky.calls == 4); // the whole budget

  flaky.calls = 0;
  CHECK_FALSE(backend->save(repo::FileType::pack, "b", {}));
  CHECK_FALSE(backend->list(repo::FileType::pack));
  CHECK(flaky.calls == 2); // one attempt each: the peer is gone

  flaky.down = false;
  CHECK(backend->size(repo::FileType::pack, "c")); // back: a success clears it
  flaky.down = true;
  flaky.calls = 0;
  CHECK_FALSE(backend->load(repo::FileType::pack, "d", 0, 0));
  CHECK(flaky.calls == 4); // retried in full again
}
