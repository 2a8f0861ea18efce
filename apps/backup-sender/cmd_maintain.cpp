#include "anemone/backup/commands.hpp"
#include "anemone/backup/targets.hpp"
#include "commands.hpp"

namespace anemone::backup_sender {

void set_check_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<backup::CheckOptions>();
  auto* command = app.add_subcommand("check", "verify the repository's structure, and optionally its data");
  command->add_option("--target", options->target, "target name (default: all targets)");
  auto* all = command->add_flag("--read-data", options->read_data, "decrypt and re-hash every blob");
  command->add_option("--read-data-subset", options->read_data_subset, "read this percentage of the packs, chosen at random")
      ->check(CLI::Range(0.0, 100.0))
      ->excludes(all);
  command->add_flag("--json", options->json, "print JSON");
  cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_check(config, *options);
  });
}

void set_forget_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<backup::ForgetOptions>();
  auto* command = app.add_subcommand("forget", "remove snapshots that the target's retention policy does not keep");
  command->add_option("--target", options->target, "target name (default: all targets)");
  command->add_flag("--prune", options->prune, "then remove the data no snapshot uses");
  command->add_flag("--dry-run", options->dry_run, "only show what would be removed");
  command->add_flag("--json", options->json, "print JSON");
  command->add_flag("--wait", options->wait, "first wait for a backup run going on this site, and hold it off meanwhile");
  cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_forget(config, *options);
  });
}

void set_prune_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<backup::ForgetOptions>();
  auto* command = app.add_subcommand("prune", "remove data no snapshot uses and repack partly used packs");
  command->add_option("--target", options->target, "target name (default: all targets)");
  command->add_flag("--dry-run", options->dry_run, "only show what would be removed");
  command->add_flag("--json", options->json, "print JSON");
  command->add_flag("--wait", options->wait, "first wait for a backup run going on this site, and hold it off meanwhile");
  cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_prune(config, *options);
  });
}

void set_unlock_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<backup::UnlockOptions>();
  auto* command = app.add_subcommand("unlock", "remove stale repository locks (all locks with --force)");
  command->add_option("--target", options->target, "target name (default: all targets)");
  command->add_flag("--force", options->force, "also remove locks of processes that may still run");
  command->add_flag("--json", options->json, "print JSON");
  cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_unlock(config, *options);
  });
}

} // namespace anemone::backup_sender
