#pragma once
// The suite's own crontab (config/crontab): crontab(5) lines of five fields (or @daily, …) and a
// command for /bin/sh, plus NAME=value lines that set the jobs' environment. No user field.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anemone/core/cron.hpp"

namespace anemone::runtime {

struct CronJob {
  int line = 0;
  core::CronSchedule schedule;
  std::string command;
};

struct Crontab {
  std::vector<std::pair<std::string, std::string>> environment;
  std::vector<CronJob> jobs;
};

// Errc::config as "crontab:7: hour: 25 is outside 0-23" (`file_name` as given).
core::Result<Crontab> parse_crontab(std::string_view text, const std::string& file_name);

} // namespace anemone::runtime
