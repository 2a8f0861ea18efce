#include "anemone/repo/retention.hpp"

#include <algorithm>
#include <ctime>
#include <map>

#include <fmt/format.h>

namespace anemone::repo {

namespace {

std::tm local_tm(int64_t time_ns) {
  time_t seconds = static_cast<time_t>(time_ns / 1000000000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  return tm;
}

using BucketFn = std::string (*)(const std::tm&);

std::string hour_bucket(const std::tm& t) { return fmt::format("{}-{}-{}-{}", t.tm_year, t.tm_yday, t.tm_hour, 0); }
std::string day_bucket(const std::tm& t) { return fmt::format("{}-{}", t.tm_year, t.tm_yday); }
std::string week_bucket(const std::tm& t) {
  char text[16];
  std::strftime(text, sizeof text, "%G-%V", &t);
  return text;
}
std::string month_bucket(const std::tm& t) { return fmt::format("{}-{}", t.tm_year, t.tm_mon); }
std::string year_bucket(const std::tm& t) { return fmt::format("{}", t.tm_year); }

std::string group_key(const Snapshot& s) {
  std::vector<std::string> names;
  for (const auto& source : s.sources) names.push_back(source.name);
  std::sort(names.begin(), names.end());
  return s.host + "\n" + fmt::format("{}", fmt::join(names, ","));
}

} // namespace

std::vector<RetentionDecision> apply_retention(const std::vector<Snapshot>& snapshots, const config::Retention& policy) {
  std::vector<RetentionDecision> decisions;
  std::map<std::string, std::vector<size_t>> groups;
  for (const auto& snapshot : snapshots) {
    groups[group_key(snapshot)].push_back(decisions.size());
    decisions.push_back({snapshot, policy.empty(), {}});
  }
  if (policy.empty()) return decisions;

  struct Rule {
    const char* reason;
    int count;
    BucketFn bucket;
  };
  const Rule rules[] = {{"hourly", policy.keep_hourly, hour_bucket},   {"daily", policy.keep_daily, day_bucket},
                        {"weekly", policy.keep_weekly, week_bucket},   {"monthly", policy.keep_monthly, month_bucket},
                        {"yearly", policy.keep_yearly, year_bucket}};
  for (auto& [key, members] : groups) {
    // newest first
    std::sort(members.begin(), members.end(), [&](size_t a, size_t b) {
      return decisions[a].snapshot.time_ns > decisions[b].snapshot.time_ns;
    });
    for (size_t i = 0; i < members.size() && static_cast<int>(i) < policy.keep_last; ++i) {
      decisions[members[i]].keep = true;
      decisions[members[i]].reasons.push_back("last");
    }
    for (const auto& rule : rules) {
      if (rule.count <= 0) continue;
      int kept = 0;
      std::string previous;
      for (size_t index : members) {
        if (kept >= rule.count) break;
        std::string bucket = rule.bucket(local_tm(decisions[index].snapshot.time_ns));
        if (bucket == previous) continue;
        previous = bucket;
        decisions[index].keep = true;
        decisions[index].reasons.push_back(rule.reason);
        ++kept;
      }
    }
  }
  return decisions;
}

} // namespace anemone::repo
