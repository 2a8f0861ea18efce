#include "anemone/health/self_check.hpp"

#include <cstdio>

#include <fmt/ranges.h>

#include "anemone/core/output.hpp"
#include "anemone/core/time.hpp"
#include "anemone/health/probes.hpp"

namespace anemone::health {

Report self_check(const config::Config& config) {
  Report report;
  report.checks.push_back(evaluate_interface(probe_interface(config.wireguard.interface)));
  report.checks.push_back(
      evaluate_sshd(probe_ssh(probe_host_for(config.sftp.listen), config.sftp.port, k_ssh_probe_timeout)));
  report.checks.push_back(evaluate_supervisor(probe_supervisor(config.run_dir / "supervisor.sock")));

  const int64_t now = core::now_ns();
  // A receiver-only site has no sources and makes no snapshots.
  if (!config.sources.empty()) {
    BackupFacts backups = probe_backups(config.state_path);
    for (const auto& target : config.targets)
      report.checks.push_back(evaluate_backup(target.name, backups, now, config.health.max_backup_age_ms));
  }

  // Every site keeps its configuration here and on each peer, receiver-only sites too.
  ConfigBackupFacts config_backups = probe_config_backups(config.state_path);
  report.checks.push_back(evaluate_config_backup("local", config_backups, now, config.health.max_config_backup_age_ms));
  for (const auto& target : config.targets)
    if (target.from_mesh)
      report.checks.push_back(
          evaluate_config_backup(target.name, config_backups, now, config.health.max_config_backup_age_ms));

  std::vector<std::filesystem::path> paths;
  for (const auto& source : config.sources) paths.push_back(source.path);
  paths.push_back(config.sftp.backups_dir);
  for (const auto& space : probe_space(paths)) report.checks.push_back(evaluate_space(space, config.health.min_free_bytes));
  return report;
}

core::Result<void> cmd_self(const config::Config& config, bool json) {
  Report report = self_check(config);
  if (json) core::print_line("{}", render_json(report));
  else {
    std::string text = render_text(report);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
  if (report.healthy()) return {};
  std::vector<std::string> failed;
  for (const auto& check : report.checks)
    if (!check.ok) failed.push_back(check.name);
  return core::fail(core::Errc::failed, "unhealthy: {} of {} checks failed ({})", failed.size(), report.checks.size(),
                    fmt::join(failed, ", "));
}

} // namespace anemone::health
