#include "anemone/backup/commands.hpp"
#include "anemone/backup/targets.hpp"
#include "commands.hpp"

namespace anemone::backup_sender {

void set_restore_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<backup::RestoreOptions>();
  auto* command = app.add_subcommand("restore", "restore a snapshot: source S is written under DIR/S/");
  command->add_option("snapshot", options->snapshot, "snapshot id (or a prefix) or 'latest'")->required();
  command->add_option("--target", options->target, "target to restore from")->required();
  command->add_option("--to", options->to, "directory to restore into; / puts each source back at the path it was backed up from")->required();
  command->add_option("--include", options->includes, "restore only this snapshot path (repeatable), e.g. /data/docs");
  command->add_flag("--json", options->json, "print the result as JSON");
  cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_restore(config, *options);
  });
}

} // namespace anemone::backup_sender
