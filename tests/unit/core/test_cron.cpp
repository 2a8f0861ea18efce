// Cron schedules: the syntax crontab(5) allows, clear errors for the rest, and the next due minute
// in local time (including a daylight-saving change).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
#include <string>

#include "anemone/core/cron.hpp"

using namespace anemone;

namespace {

// Sets TZ for one test and puts it back afterwards.
class LocalZone {
public:
  explicit LocalZone(const char* zone) {
    if (const char* old = std::getenv("TZ")) m_old = old;
    ::setenv("TZ", zone, 1);
    ::tzset();
  }
  ~LocalZone() {
    if (m_old.empty()) ::unsetenv("TZ");
    else ::setenv("TZ", m_old.c_str(), 1);
    ::tzset();
  }

private:
  std::string m_old;
};

std::time_t local(int year, int month, int day, int hour, int minute) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_isdst = -1;
  return std::mktime(&tm);
}

std::string show(std::time_t t) {
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M %a", &tm);
  return text;
}

std::string next(const char* schedule, std::time_t after) {
  auto parsed = core::CronSchedule::parse(schedule);
  REQUIRE(parsed);
  auto due = parsed->next_after(after);
  return due ? show(*due) : "never";
}

} // namespace

TEST_CASE("cron: the next due minute", "[core][cron]") {
  LocalZone zone("UTC");
  std::time_t t = local(2026, 12, 1, 11, 40); // a Tuesday
  CHECK(next("0 3 * * *", t) == "2026-12-02 03:00 Wed");
  CHECK(next("* * * * *", t) == "2026-12-01 11:41 Tue"); // strictly after
  CHECK(next("*/15 * * * *", t) == "2026-12-01 11:45 Tue");
  CHECK(next("5,50 11 * * *", t) == "2026-12-01 11:50 Tue");
  CHECK(next("0 4 * * sun", t) == "2026-12-06 04:00 Sun");
  CHECK(next("0 4 * * 7", t) == "2026-12-06 04:00 Sun");
  CHECK(next("0 5 * * Wed", t) == "2026-12-02 05:00 Wed");
  CHECK(next("30 2 1 jan *", t) == "2027-01-01 02:30 Fri");
  CHECK(next("0 0 29 feb *", t) == "2028-02-29 00:00 Tue");
  CHECK(next("0 9-17/4 * * mon-fri", t) == "2026-12-01 13:00 Tue");
  CHECK(next("10/20 * * * *", t) == "2026-12-01 11:50 Tue");
  CHECK(next("@daily", t) == "2026-12-02 00:00 Wed");
  CHECK(next("@hourly", t) == "2026-12-01 12:00 Tue");
  CHECK(next("@weekly", t) == "2026-12-06 00:00 Sun");
  CHECK(next("@monthly", t) == "2027-01-01 00:00 Fri");
  // Both day fields restricted: either one makes the day due (the 13th, or any Friday).
  CHECK(next("0 0 13 * fri", t) == "2026-12-04 00:00 Fri");
  CHECK(next("0 0 13 * fri", local(2026, 12, 12, 0, 0)) == "2026-12-13 00:00 Sun");
  // "*/2" counts as unrestricted, so the weekday alone decides within it.
  CHECK(next("0 0 */2 * mon", t) == "2026-12-07 00:00 Mon");
  CHECK(next("0 0 30 2 *", t) == "never");
}

TEST_CASE("cron: local time across a daylight-saving change", "[core][cron]") {
  LocalZone zone("Europe/Paris");
  // 2027-03-28: clocks go from 02:00 to 03:00; a 02:30 job runs just after the change, once.
  std::time_t before = local(2027, 3, 28, 1, 0);
  CHECK(next("30 2 * * *", before) == "2027-03-28 03:30 Sun");
  CHECK(next("0 3 * * *", before) == "2027-03-28 03:00 Sun");
  // 2027-10-31: 02:00-03:00 happens twice; a 03:00 job still runs once that day.
  auto schedule = core::CronSchedule::parse("0 3 * * *");
  REQUIRE(schedule);
  std::time_t first = *schedule->next_after(local(2027, 10, 31, 0, 0));
  CHECK(show(first) == "2027-10-31 03:00 Sun");
  CHECK(show(*schedule->next_after(first)) == "2027-11-01 03:00 Mon");
}

TEST_CASE("cron: bad schedules are refused with the field named", "[core][cron]") {
  auto message = [](const char* text) {
    auto parsed = core::CronSchedule::parse(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code() == core::Errc::config);
    return parsed.error().message();
  };
  CHECK(message("0 3 * *").find("expected five fields") != std::string::npos);
  CHECK(message("0 3 * * * *").find("got 6") != std::string::npos);
  CHECK(message("60 3 * * *") == "minute: 60 is outside 0-59");
  CHECK(message("0 24 * * *") == "hour: 24 is outside 0-23");
  CHECK(message("0 3 0 * *") == "day of month: 0 is outside 1-31");
  CHECK(message("0 3 * 13 *") == "month: 13 is outside 1-12");
  CHECK(message("0 3 * * 8") == "day of week: 8 is outside 0-7");
  CHECK(message("0 3 * * funday").find("day of week: expected a number or a name") != std::string::npos);
  CHECK(message("x 3 * * *").find("minute: expected a number") != std::string::npos);
  CHECK(message("0 5-3 * * *").find("runs backwards") != std::string::npos);
  CHECK(message("*/0 * * * *").find("step") != std::string::npos);
  CHECK(message("1,,2 * * * *").find("empty item") != std::string::npos);
  CHECK(message("@reboot").find("unknown schedule") != std::string::npos);
  CHECK(message("").find("expected five fields") != std::string::npos);
}
