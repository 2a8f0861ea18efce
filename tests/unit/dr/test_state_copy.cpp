#include <catch2/catch.hpp>

#include "../scratch.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/dr/state_copy.hpp"
#include "anemone/peers/accounts.hpp"

using namespace anemone;

namespace {
int64_t count(state::Db& db, std::string_view table) {
  auto stmt = db.prepare(fmt::format("SELECT count(*) FROM {}", table));
  REQUIRE(stmt);
  REQUIRE(*stmt->step());
  return stmt->column_int(0);
}
const std::string k_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
} // namespace

TEST_CASE("every table of the state says what a config backup does with it", "[dr]") {
  test::ScratchDir scratch;
  auto db = state::Db::open(scratch / "anemone.db");
  REQUIRE(db);
  auto missing = dr::unclassified_tables(*db);
  REQUIRE(missing);
  CHECK(*missing == std::vector<std::string>{}); // a new table needs a rule in state_copy.cpp
}

TEST_CASE("the state's copy is consistent, leaves the files cache out, and its digest follows only what was made",
          "[dr]") {
  test::ScratchDir scratch;
  auto db = state::Db::open(scratch / "anemone.db");
  REQUIRE(db);
  REQUIRE(db->exec("INSERT INTO files_cache VALUES ('t', 'r', x'2f61', 1, 2, 3, 4, 5, x'00', 1)"));
  REQUIRE(peers::add_account(*db, "site-b", k_key, 1 << 30));

  auto first = dr::copy_state(*db, scratch / "tmp");
  REQUIRE(first);
  CHECK(std::filesystem::is_empty(scratch / "tmp")); // nothing left behind
  {
    auto file = scratch / "copy.db";
    REQUIRE(core::write_file_atomic(file, first->bytes.view(), 0600));
    auto copy = state::Db::open(file);
    REQUIRE(copy);
    CHECK(count(*copy, "files_cache") == 0);
    CHECK(count(*copy, "sftp_accounts") == 1);
  }
  CHECK(count(*db, "files_cache") == 1); // the live state is untouched

  // History and measurements do not make a new backup...
  REQUIRE(db->exec("INSERT INTO runs(tool, command, target, started_ns) VALUES ('backup-sender', 'run', 't', 1)"));
  REQUIRE(peers::record_usage(*db, "site-b", 12345, false));
  CHECK(dr::copy_state(*db, scratch / "tmp")->digest == first->digest);
  // ...what the operator made does.
  REQUIRE(peers::set_quota(*db, "site-b", 2ull << 30));
  CHECK(dr::copy_state(*db, scratch / "tmp")->digest != first->digest);
}
