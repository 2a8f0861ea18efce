#pragma once
// The contracts of anemone::repo::Backend (libs/repo/include/anemone/repo/backend.hpp), checked the
// same way for every implementation (restic's backend/test suite). Call it from a TEST_CASE:
//
//   TEST_CASE("local backend conforms", "[repo][backend]") {
//     anemone::test::ScratchDir dir;
//     run_backend_conformance([&] { return make_local_backend((dir / "repo").string()); },
//                             {[&] { /* put a stray file in the backend's temporary area */ }});
//   }
//
// `make` returns a new client for one storage location that is empty when the test case starts;
// the suite calls it more than once to check that what one client wrote another one sees. The
// suite uses SECTIONs, so Catch runs the test case once per section: create the location inside
// the test case (a ScratchDir, a fresh directory on the SFTP peer), not outside it.
#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "anemone/core/bytes.hpp"
#include "anemone/crypto/aead.hpp"
#include "anemone/repo/backend.hpp"

namespace anemone::test {

struct BackendConformanceHooks {
  // Leaves a temporary file as a writer that died mid-upload would (optional: skipped when unset).
  std::function<void()> create_leftover;
};

namespace conformance_detail {

inline const repo::FileType k_id_types[] = {repo::FileType::key, repo::FileType::pack, repo::FileType::index,
                                            repo::FileType::snapshot, repo::FileType::lock};

inline core::Bytes content(std::string_view label, size_t size) {
  core::Bytes out;
  out.reserve(size);
  for (size_t i = 0; out.size() < size; ++i) out.push_back(static_cast<uint8_t>(label[i % label.size()] + i / 7));
  return out;
}

// Files are named by the hash of their content, as the repository names them.
inline std::string name_of(core::ByteView data) { return core::to_hex(crypto::plain_hash(data)); }

inline std::vector<std::pair<std::string, uint64_t>> listing(repo::Backend& backend, repo::FileType type) {
  auto listed = backend.list(type);
  REQUIRE(listed);
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& info : *listed) out.emplace_back(info.name, info.size);
  std::sort(out.begin(), out.end());
  return out;
}

// Every contract that needs a created layout, one SECTION each.
inline void run_on_layout(repo::Backend* backend, const std::function<std::unique_ptr<repo::Backend>()>& make,
                          const BackendConformanceHooks& hooks) {
  using core::Errc;
  using repo::FileType;

  SECTION("save and load round-trip for every file type") {
    auto config = content("config", 123);
    REQUIRE(backend->save(FileType::config, "config", config));
    CHECK(listing(*backend, FileType::config) == std::vector<std::pair<std::string, uint64_t>>{{"config", 123}});
    std::vector<std::pair<FileType, std::string>> saved;
    size_t size = 1;
    for (auto type : k_id_types) {
      for (int copy = 0; copy < 3; ++copy) {
        auto data = content(std::string(repo::file_type_name(type)) + std::to_string(copy), size);
        size = (size * 7 + 13) % 300000;
        auto name = name_of(data);
        INFO(repo::file_type_name(type) << " " << name);
        REQUIRE(backend->save(type, name, data));
        saved.emplace_back(type, name);
      }
    }
    auto reader = make(); // a second client sees everything the first one wrote
    auto config_loaded = reader->load(FileType::config, "config");
    REQUIRE(config_loaded);
    CHECK((*config_loaded == config));
    for (const auto& [type, name] : saved) {
      INFO(repo::file_type_name(type) << " " << name);
      auto loaded = reader->load(type, name);
      REQUIRE(loaded);
      CHECK(name_of(*loaded) == name);
      auto size_of = reader->size(type, name);
      REQUIRE(size_of);
      CHECK(*size_of == loaded->size());
    }
  }

  SECTION("an empty file round-trips") {
    core::Bytes empty;
    auto name = name_of(empty);
    REQUIRE(backend->save(FileType::index, name, empty));
    auto loaded = backend->load(FileType::index, name);
    REQUIRE(loaded);
    CHECK(loaded->empty());
    auto size = backend->size(FileType::index, name);
    REQUIRE(size);
    CHECK(*size == 0);
  }

  SECTION("load reads a range; length 0 reads to the end") {
    auto data = content("ranged", 100000);
    auto name = name_of(data);
    REQUIRE(backend->save(FileType::pack, name, data));
    auto whole = backend->load(FileType::pack, name);
    REQUIRE(whole);
    CHECK((*whole == data));
    auto middle = backend->load(FileType::pack, name, 1000, 2345);
    REQUIRE(middle);
    CHECK((*middle == core::Bytes(data.begin() + 1000, data.begin() + 3345)));
    auto tail = backend->load(FileType::pack, name, 99990);
    REQUIRE(tail);
    CHECK((*tail == core::Bytes(data.end() - 10, data.end())));
    auto last = backend->load(FileType::pack, name, 99999, 1);
    REQUIRE(last);
    CHECK((*last == core::Bytes{data.back()}));
    auto first = backend->load(FileType::pack, name, 0, 1);
    REQUIRE(first);
    CHECK((*first == core::Bytes{data.front()}));
    auto at_end = backend->load(FileType::pack, name, data.size(), 0);
    REQUIRE(at_end);
    CHECK(at_end->empty());
    // A range past the end must not come back silently short.
    CHECK_FALSE(backend->load(FileType::pack, name, 99990, 20));
  }

  SECTION("size() of a missing file is not_found") {
    auto data = content("sized", 4321);
    auto name = name_of(data);
    REQUIRE(backend->save(FileType::snapshot, name, data));
    auto size = backend->size(FileType::snapshot, name);
    REQUIRE(size);
    CHECK(*size == 4321);
    auto missing = backend->size(FileType::snapshot, name_of(content("other", 1)));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code() == Errc::not_found);
    // The same name under another type is another file.
    auto other_type = backend->size(FileType::index, name);
    REQUIRE_FALSE(other_type);
    CHECK(other_type.error().code() == Errc::not_found);
  }

  SECTION("list returns exactly the saved names with their sizes") {
    for (auto type : k_id_types) CHECK(listing(*backend, type).empty());
    std::vector<std::pair<std::string, uint64_t>> packs;
    std::vector<std::pair<std::string, uint64_t>> snapshots;
    for (int i = 0; i < 40; ++i) { // enough packs to spread over many prefixes
      auto data = content("pack" + std::to_string(i), 100 + static_cast<size_t>(i));
      packs.emplace_back(name_of(data), data.size());
      REQUIRE(backend->save(FileType::pack, packs.back().first, data));
    }
    for (int i = 0; i < 3; ++i) {
      auto data = content("snap" + std::to_string(i), 10 + static_cast<size_t>(i));
      snapshots.emplace_back(name_of(data), data.size());
      REQUIRE(backend->save(FileType::snapshot, snapshots.back().first, data));
    }
    std::sort(packs.begin(), packs.end());
    std::sort(snapshots.begin(), snapshots.end());
    CHECK(listing(*backend, FileType::pack) == packs);
    CHECK(listing(*backend, FileType::snapshot) == snapshots);
    CHECK(listing(*backend, FileType::index).empty());
    CHECK(listing(*backend, FileType::key).empty());
    CHECK(listing(*backend, FileType::lock).empty());
    CHECK(listing(*backend, FileType::config).empty());
    CHECK(listing(*make(), FileType::pack) == packs);
  }

  SECTION("remove deletes; removing a missing file succeeds") {
    auto keep = content("keep", 50);
    auto gone = content("gone", 60);
    REQUIRE(backend->save(FileType::lock, name_of(keep), keep));
    REQUIRE(backend->save(FileType::lock, name_of(gone), gone));
    REQUIRE(backend->remove(FileType::lock, name_of(gone)));
    CHECK(listing(*backend, FileType::lock) == std::vector<std::pair<std::string, uint64_t>>{{name_of(keep), 50}});
    auto loaded = backend->load(FileType::lock, name_of(gone));
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().code() == Errc::not_found);
    CHECK(backend->remove(FileType::lock, name_of(gone)));                       // again: idempotent
    CHECK(backend->remove(FileType::pack, name_of(content("never saved", 5)))); // never existed
    // Removing under another type leaves the file alone.
    CHECK(backend->remove(FileType::index, name_of(keep)));
    CHECK(backend->load(FileType::lock, name_of(keep)));
    // A removed name can be saved again.
    REQUIRE(backend->save(FileType::lock, name_of(gone), gone));
    CHECK(listing(*backend, FileType::lock).size() == 2);
  }

  SECTION("load of a missing file is not_found") {
    for (auto type : k_id_types) {
      INFO(repo::file_type_name(type));
      auto loaded = backend->load(type, name_of(content("absent", 10)));
      REQUIRE_FALSE(loaded);
      CHECK(loaded.error().code() == Errc::not_found);
    }
    auto config = backend->load(FileType::config, "config");
    REQUIRE_FALSE(config);
    CHECK(config.error().code() == Errc::not_found);
  }

  SECTION("saving an existing name fails with already_exists and keeps the original") {
    auto original = content("original", 777);
    auto name = name_of(original);
    for (auto type : k_id_types) {
      INFO(repo::file_type_name(type));
      REQUIRE(backend->save(type, name, original));
      auto impostor = content("impostor", 555);
      auto again = backend->save(type, name, impostor);
      REQUIRE_FALSE(again);
      CHECK(again.error().code() == Errc::already_exists);
      auto loaded = backend->load(type, name);
      REQUIRE(loaded);
      CHECK((*loaded == original));
      CHECK(listing(*backend, type) == std::vector<std::pair<std::string, uint64_t>>{{name, 777}});
    }
    // The failed saves left no temporary files behind.
    auto leftovers = backend->remove_leftovers(repo::Backend::Leftovers::all);
    REQUIRE(leftovers);
    CHECK(*leftovers == 0);
  }

  SECTION("invalid names are refused") {
    auto data = content("bad", 10);
    for (const std::string& name : {std::string("../x"), std::string("ABC"), std::string(""), std::string("a/b"),
                                    std::string("../../etc/passwd"), std::string("0a/../0b"), std::string(".."),
                                    std::string("zz"), std::string("abc\n"), std::string("ab cd")}) {
      for (auto type : k_id_types) {
        INFO(repo::file_type_name(type) << " '" << name << "'");
        CHECK_FALSE(backend->save(type, name, data));
        CHECK_FALSE(backend->load(type, name));
        CHECK_FALSE(backend->size(type, name));
        CHECK_FALSE(backend->remove(type, name));
      }
    }
    for (auto type : k_id_types) CHECK(listing(*backend, type).empty());
  }

  SECTION("successful saves leave no temporary files") {
    for (int i = 0; i < 5; ++i) {
      auto data = content("clean" + std::to_string(i), 1000);
      REQUIRE(backend->save(FileType::pack, name_of(data), data));
    }
    auto leftovers = backend->remove_leftovers(repo::Backend::Leftovers::all);
    REQUIRE(leftovers);
    CHECK(*leftovers == 0);
  }

  if (hooks.create_leftover) {
    SECTION("remove_leftovers(all) removes temporary files") {
      auto data = content("stored", 100);
      REQUIRE(backend->save(FileType::pack, name_of(data), data));
      hooks.create_leftover();
      hooks.create_leftover();
      auto removed = backend->remove_leftovers(repo::Backend::Leftovers::all);
      REQUIRE(removed);
      CHECK(*removed == 2);
      auto again = backend->remove_leftovers(repo::Backend::Leftovers::all);
      REQUIRE(again);
      CHECK(*again == 0);
      // Stored files are not leftovers.
      CHECK(listing(*backend, FileType::pack).size() == 1);
      CHECK(backend->load(FileType::pack, name_of(data)));
    }
  }
}

} // namespace conformance_detail

inline void run_backend_conformance(const std::function<std::unique_ptr<repo::Backend>()>& make,
                                    const BackendConformanceHooks& hooks = {}) {
  using namespace conformance_detail;
  using core::Errc;
  using repo::FileType;

  auto backend = make();
  REQUIRE(backend);
  CHECK_FALSE(backend->location().empty());

  SECTION("create_layout is repeatable until a config exists, then fails with already_exists") {
    REQUIRE(backend->create_layout());
    REQUIRE(backend->create_layout());
    CHECK(listing(*backend, FileType::config).empty());
    auto config = content("config", 300);
    REQUIRE(backend->save(FileType::config, "config", config));
    auto again = backend->create_layout();
    REQUIRE_FALSE(again);
    CHECK(again.error().code() == Errc::already_exists);
    auto loaded = backend->load(FileType::config, "config");
    REQUIRE(loaded);
    CHECK((*loaded == config));
    auto from_other = make()->create_layout();
    REQUIRE_FALSE(from_other);
    CHECK(from_other.error().code() == Errc::already_exists);
  }
  // Nested rather than after an early `return` from the section above: Catch only schedules the
  // SECTIONs it has reached.
  SECTION("with a layout") {
    REQUIRE(backend->create_layout());
    run_on_layout(backend.get(), make, hooks);
  }
}

} // namespace anemone::test
