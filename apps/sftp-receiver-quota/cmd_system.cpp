#include "anemone/peers/receiver_commands.hpp"
#include "commands.hpp"

namespace anemone::sftp_receiver_quota {

void set_sshd_config_command(CLI::App& app, cli::ToolContext& context) {
  auto output = std::make_shared<std::string>();
  auto* command = app.add_subcommand("sshd-config", "render the receiver's complete sshd_config");
  command->add_option("--output", *output, "write it to this file (atomically) instead of stdout");
  cli::set_action(command, [&context, output]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return peers::cmd_sshd_config(config, *output);
  });
}

void set_sync_command(CLI::App& app, cli::ToolContext& context) {
  auto json = std::make_shared<bool>(false);
  auto* command = app.add_subcommand("sync", "make Unix accounts, jails and authorized keys match the accounts");
  command->add_flag("--json", *json, "print the changes as JSON");
  cli::set_action(command, [&context, json]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return peers::cmd_sync(config, *json);
  });
}

void set_scan_commands(CLI::App& app, cli::ToolContext& context) {
  auto scan_json = std::make_shared<bool>(false);
  auto* scan = app.add_subcommand("scan", "measure each peer's usage, publish /quota.json, enforce quotas");
  scan->add_flag("--json", *scan_json, "print JSON");
  cli::set_action(scan, [&context, scan_json]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return peers::cmd_scan(config, *scan_json);
  });

  auto interval = std::make_shared<int>(5);
  auto* watch = app.add_subcommand("watch", "scan continuously (the supervisord program)");
  watch->add_option("--interval", *interval, "seconds between scans")->check(CLI::Range(1, 3600));
  cli::set_action(watch, [&context, interval]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return peers::cmd_watch(config, *interval);
  });

  auto status_json = std::make_shared<bool>(false);
  auto* status = app.add_subcommand("status", "peers, usage, quota, state, last scan");
  status->add_flag("--json", *status_json, "print JSON");
  cli::set_action(status, [&context, status_json]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return peers::cmd_status(config, *status_json);
  });
}

} // namespace anemone::sftp_receiver_quota
