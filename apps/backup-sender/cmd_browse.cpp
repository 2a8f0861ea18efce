#include "anemone/backup/commands.hpp"
#include "anemone/backup/targets.hpp"
#include "commands.hpp"

namespace anemone::backup_sender {

void set_snapshots_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<backup::CommonOptions>();
  auto* command = app.add_subcommand("snapshots", "list snapshots (id, time, host, sources, size, files)");
  command->add_option("--target", options->target, "target name (default: all targets)");
  command->add_flag("--json", options->json, "print JSON");
  cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_snapshots(config, *options);
  });
}

void set_ls_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<backup::LsOptions>();
  auto* command = app.add_subcommand("ls", "list the files of a snapshot");
  command->add_option("snapshot", options->snapshot, "snapshot id (or a prefix) or 'latest'")->required();
  command->add_option("path", options->path, "only this path and below, e.g. /data/docs");
  command->add_option("--target", options->target, "target name (needed when several are configured)");
  command->add_flag("--json", options->json, "print JSON");
  cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_ls(config, *options);
  });
}

void set_diff_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<backup::DiffOptions>();
  auto* command = app.add_subcommand("diff", "show what changed between two snapshots (+ added, - removed, M modified)");
  command->add_option("from", options->from, "older snapshot")->required();
  command->add_option("to", options->to, "newer snapshot")->required();
  command->add_option("--target", options->target, "target name (needed when several are configured)");
  command->add_flag("--json", options->json, "print JSON");
  cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_diff(config, *options);
  });
}

void set_stats_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<backup::CommonOptions>();
  auto* command = app.add_subcommand("stats", "sizes, counts and the deduplication ratio of the repository");
  command->add_option("--target", options->target, "target name (default: all targets)");
  command->add_flag("--json", options->json, "print JSON");
  cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_stats(config, *options);
  });
}

} // namespace anemone::backup_sender
