#include "anemone/backup/commands.hpp"
#include "anemone/backup/targets.hpp"
#include "commands.hpp"

namespace anemone::backup_sender {

void set_init_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<backup::InitOptions>();
  auto kdf = std::make_shared<std::string>("moderate");
  auto* command = app.add_subcommand("init", "create the repository on one target, or on all; never overwrites one");
  command->add_option("--target", options->target, "target name (default: all targets)");
  command->add_option("--kdf", *kdf, "key derivation cost: moderate (default: Argon2id, 3 passes over 64 MiB) or interactive (2 passes)")
      ->check(CLI::IsMember({"moderate", "interactive"}));
  command->add_flag("--json", options->json, "print the result as JSON");
  cli::set_action(command, [&context, options, kdf]() -> core::Result<void> {
    options->kdf = *kdf == "interactive" ? crypto::KdfProfile::interactive : crypto::KdfProfile::moderate;
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_init(config, *options);
  });
}

void set_run_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<backup::CommonOptions>();
  auto* command = app.add_subcommand("run", "back up every source to every target (or one)");
  command->add_option("--target", options->target, "target name (default: all targets)");
  command->add_flag("--json", options->json, "print one JSON object per target");
  command->add_flag("--wait", options->wait, "wait for a run already going on this site instead of exiting (code 11)");
  cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_run(config, *options);
  });
}

} // namespace anemone::backup_sender
