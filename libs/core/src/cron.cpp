#include "anemone/core/cron.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace anemone::core {

namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const char* const* names; // three-letter names for min, min+1, …; nullptr when none
};

constexpr const char* k_month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* k_weekday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr FieldSpec k_fields[] = {
    {"minute", 0, 59, nullptr},
    {"hour", 0, 23, nullptr},
    {"day of month", 1, 31, nullptr},
    {"month", 1, 12, k_month_names},
    {"day of week", 0, 7, k_weekday_names}, // 7 is Sunday too
};

constexpr std::pair<std::string_view, std::string_view> k_shorthands[] = {
    {"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},  {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
};

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

Result<int> parse_value(const FieldSpec& spec, std::string_view word) {
  if (spec.names != nullptr && word.size() == 3) {
    std::string lower;
    for (char c : word) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    int count = spec.names == k_month_names ? 12 : 7;
    for (int i = 0; i < count; ++i)
      if (lower == spec.names[i]) return spec.min + i;
  }
  int value = 0;
  auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (word.empty() || error != std::errc() || end != word.data() + word.size())
    return fail(Errc::config, "{}: expected a number{}, got \"{}\"", spec.name,
                spec.names != nullptr ? " or a name" : "", word);
  if (value < spec.min || value > spec.max)
    return fail(Errc::config, "{}: {} is outside {}-{}", spec.name, value, spec.min, spec.max);
  return value;
}

// One comma-separated item: *, */n, a, a-b, a-b/n, a/n (a to the maximum, every n).
Result<void> parse_item(const FieldSpec& spec, std::string_view item, std::vector<bool>& bits) {
  int step = 1;
  if (size_t slash = item.find('/'); slash != std::string_view::npos) {
    std::string_view step_text = item.substr(slash + 1);
    auto [end, error] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
    if (step_text.empty() || error != std::errc() || end != step_text.data() + step_text.size() || step < 1 ||
        step > spec.max)
      return fail(Errc::config, "{}: expected a step from 1 to {} after '/', got \"{}\"", spec.name, spec.max, step_text);
    item = item.substr(0, slash);
  }
  int first = spec.min;
  int last = spec.max;
  if (item == "*") {
    // every value
  } else if (size_t dash = item.find('-'); dash != std::string_view::npos) {
    first = TRY(parse_value(spec, item.substr(0, dash)));
    last = TRY(parse_value(spec, item.substr(dash + 1)));
    if (first > last) return fail(Errc::config, "{}: the range {} runs backwards", spec.name, item);
  } else {
    first = TRY(parse_value(spec, item));
    if (step == 1) last = first; // "a/n" runs from a to the maximum
  }
  for (int v = first; v <= last; v += step) bits[static_cast<size_t>(v)] = true;
  return {};
}

Result<std::vector<bool>> parse_field(const FieldSpec& spec, std::string_view text) {
  std::vector<bool> bits(static_cast<size_t>(spec.max) + 1, false);
  for (std::string_view item : split(text, ',')) {
    if (item.empty()) return fail(Errc::config, "{}: empty item in \"{}\"", spec.name, text);
    TRY(parse_item(spec, item, bits));
  }
  return bits;
}

template <size_t N> void copy_bits(const std::vector<bool>& from, std::bitset<N>& to) {
  for (size_t i = 0; i < N && i < from.size(); ++i) to[i] = from[i];
}

} // namespace

Result<CronSchedule> CronSchedule::parse(std::string_view text) {
  CronSchedule schedule;
  schedule.m_text = std::string(text);
  std::vector<std::string_view> words = split_whitespace(text);
  if (words.size() == 1 && !words[0].empty() && words[0][0] == '@') {
    std::string_view expansion;
    for (const auto& [name, fields] : k_shorthands)
      if (words[0] == name) expansion = fields;
    if (expansion.empty())
      return fail(Errc::config, "unknown schedule \"{}\" (known: @hourly, @daily, @weekly, @monthly, @yearly)", words[0]);
    words = split_whitespace(expansion);
  }
  if (words.size() != 5)
    return fail(Errc::config, "expected five fields (minute hour day-of-month month day-of-week), got {} in \"{}\"",
                words.size(), text);
  std::vector<bool> fields[5];
  for (size_t i = 0; i < 5; ++i) fields[i] = TRY(parse_field(k_fields[i], words[i]));
  copy_bits(fields[0], schedule.m_minutes);
  copy_bits(fields[1], schedule.m_hours);
  copy_bits(fields[2], schedule.m_days);
  copy_bits(fields[3], schedule.m_months);
  copy_bits(fields[4], schedule.m_weekdays);
  if (fields[4][7]) schedule.m_weekdays[0] = true;
  // Vixie cron: a day field is "restricted" unless it starts with '*' (so "*/2" is not).
  schedule.m_days_restricted = words[2][0] != '*';
  schedule.m_weekdays_restricted = words[4][0] != '*';
  return schedule;
}

bool CronSchedule::day_matches(const std::tm& day) const {
  bool by_date = m_days[static_cast<size_t>(day.tm_mday)];
  bool by_weekday = m_weekdays[static_cast<size_t>(day.tm_wday)];
  if (m_days_restricted && m_weekdays_restricted) return by_date || by_weekday;
  return by_date && by_weekday;
}

std::optional<std::time_t> CronSchedule::next_after(std::time_t after) const {
  constexpr int k_days_searched = 5 * 366 + 1;
  std::time_t start = (after / 60 + 1) * 60;
  std::tm first{};
  localtime_r(&start, &first);
  // Days are walked at noon, where no daylight-saving change falls, then each due minute is
  // turned back into a time by mktime (which moves a minute skipped by DST to just after the change).
  std::tm day = first;
  day.tm_hour = 12;
  day.tm_min = day.tm_sec = 0;
  day.tm_isdst = -1;
  for (int i = 0; i < k_days_searched; ++i) {
    if (i > 0) ++day.tm_mday;
    day.tm_hour = 12;
    day.tm_isdst = -1;
    std::mktime(&day); // normalises the date and fills in the weekday
    if (!m_months[static_cast<size_t>(day.tm_mon + 1)] || !day_matches(day)) continue;
    bool today = i == 0;
    for (int hour = today ? first.tm_hour : 0; hour < 24; ++hour) {
      if (!m_hours[static_cast<size_t>(hour)]) continue;
      for (int minute = today && hour == first.tm_hour ? first.tm_min : 0; minute < 60; ++minute) {
        if (!m_minutes[static_cast<size_t>(minute)]) continue;
        std::tm candidate = day;
        candidate.tm_hour = hour;
        candidate.tm_min = minute;
        candidate.tm_sec = 0;
        candidate.tm_isdst = -1;
        std::time_t t = std::mktime(&candidate);
        if (t != -1 && t > after) return t;
      }
    }
  }
  return std::nullopt;
}

} // namespace anemone::core
