#pragma once
// `watcher cron`: runs the suite's crontab in the foreground under supervisord. Our own, not
// Debian's cron: that one is one daemon per machine (a test or a second core cannot start its
// own), logs to syslog, and gives jobs an empty environment. Here each job runs with /bin/sh -c,
// ANEMONE_CONFIG, ANEMONE_LOGS and a PATH that finds the tools; its start and exit go to this
// program's log, a job still running when it is due again is not started twice, and the
// $ANEMONE_LOGS/cron-*.log files the jobs append to are rotated (10 MiB, 3 kept).
#include <filesystem>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"

namespace anemone::runtime {

core::Result<void> run_cron(const config::Config& config, const std::filesystem::path& crontab_file);

// Renames <logs>/cron-*.log over `max_bytes` to .1 (and .1 to .2, …, keeping `keep`).
void rotate_cron_logs(const std::filesystem::path& logs_dir, uintmax_t max_bytes, int keep);

} // namespace anemone::runtime
