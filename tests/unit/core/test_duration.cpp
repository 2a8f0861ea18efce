// Durations as config files and flags write them ("5s", "26h", "1h30m").
#include <catch2/catch.hpp>

#include "anemone/core/time.hpp"

using namespace anemone;

TEST_CASE("durations: units, combinations and refusals", "[core][time]") {
  CHECK(core::parse_duration_ms("500ms") == 500);
  CHECK(core::parse_duration_ms("30s") == 30000);
  CHECK(core::parse_duration_ms("5m") == 300000);
  CHECK(core::parse_duration_ms("26h") == 26ll * 3600000);
  CHECK(core::parse_duration_ms("7d") == 7ll * 86400000);
  CHECK(core::parse_duration_ms("1h30m") == 90ll * 60000);
  CHECK(core::parse_duration_ms("1m500ms") == 60500);
  for (const char* bad : {"", "26", "h", "1.5h", "-1s", "1 h", "1y", "5sec", "1h30", "9999999999s"})
    CHECK_FALSE(core::parse_duration_ms(bad));
  CHECK(core::format_duration_ms(26ll * 3600000) == "26h");
  CHECK(core::format_duration_ms(90ll * 60000) == "1h30m");
  CHECK(core::format_duration_ms(1500) == "1500ms");
  CHECK(core::format_duration_ms(0) == "0s");
  CHECK(core::format_duration_ms(86400000 + 1000) == "24h1s");
  CHECK(core::format_duration_ms(2ll * 86400000) == "2d");
}
