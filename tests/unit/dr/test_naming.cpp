#include <catch2/catch.hpp>

#include "anemone/dr/naming.hpp"

using namespace anemone;

TEST_CASE("a config backup's name tells site and time and sorts by time", "[dr]") {
  int64_t t = 1764640800ll * 1000000000; // 2025-12-02T02:00:00Z
  std::string name = dr::config_backup_name("site-a", t);
  CHECK(name == "site-a.20251202T020000Z.anemone-config");
  auto parsed = dr::parse_config_backup_name(name);
  REQUIRE(parsed);
  CHECK(parsed->site == "site-a");
  CHECK(parsed->id == "20251202T020000Z");
  CHECK(parsed->time_ns == t);
  for (auto bad : {"site-a.anemone-config", "site-a.20251302T020000Z.anemone-config", "recovery.pub",
                   ".20251202T020000Z.anemone-config", "site-a.20251202T020000Z.anemone-config.tmp"})
    CHECK_FALSE(dr::parse_config_backup_name(bad));

  std::vector<std::pair<std::string, uint64_t>> listing = {
      {dr::config_backup_name("site-a", t + 86400ll * 1000000000), 20}, {name, 10},
      {dr::config_backup_name("site-b", t), 30}, {"recovery.pub", 1}};
  auto mine = dr::backups_of_site(listing, "site-a");
  REQUIRE(mine.size() == 2);
  CHECK(mine[0].file == name);
  CHECK(mine[0].size == 10);
  CHECK(dr::choose_backup(mine, std::nullopt)->id == "20251203T020000Z");
  CHECK(dr::choose_backup(mine, std::string("20251202T020000Z"))->file == name);
  CHECK(dr::choose_backup(mine, name)->file == name);
  CHECK_FALSE(dr::choose_backup(mine, std::string("20990101T000000Z")));
  CHECK_FALSE(dr::choose_backup({}, std::nullopt));
}
