#pragma once
// Cron schedules ("0 3 * * *") as Vixie cron and crontab(5) define them: five fields (minute, hour,
// day of month, month, day of week) of '*', numbers, ranges, steps, lists and names (jan, mon),
// or one of @hourly @daily @midnight @weekly @monthly @yearly @annually. When both day fields are
// restricted a day matching either one is due, as in every cron. Times are local (TZ).
#include <bitset>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "anemone/core/error.hpp"

namespace anemone::core {

class CronSchedule {
public:
  // Errc::config naming the field and the bad value: "day of week: 8 is outside 0-7".
  static Result<CronSchedule> parse(std::string_view text);

  // The first due minute strictly after `after` (seconds since the epoch), in local time; nullopt
  // when none comes within five years (e.g. "0 0 30 2 *").
  std::optional<std::time_t> next_after(std::time_t after) const;
  const std::string& text() const { return m_text; }

private:
  bool day_matches(const std::tm& day) const;

  std::string m_text;
  std::bitset<60> m_minutes;
  std::bitset<24> m_hours;
  std::bitset<32> m_days;   // 1-31
  std::bitset<13> m_months; // 1-12
  std::bitset<7> m_weekdays; // 0 = Sunday
  bool m_days_restricted = false;
  bool m_weekdays_restricted = false;
};

} // namespace anemone::core
