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

} // namespace anemone::sftp_receiver_quota
