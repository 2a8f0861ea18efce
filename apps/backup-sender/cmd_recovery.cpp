#include <filesystem>

#include "anemone/dr/commands.hpp"
#include "commands.hpp"

namespace anemone::backup_sender {

namespace {

// A rebuilt machine has no config yet: these commands work without one, and use it when it is there.
core::Result<std::optional<config::Config>> config_if_present(const cli::ToolContext& context) {
  auto path = config::resolve_config_path(context.config_option);
  if (!std::filesystem::exists(path)) return std::optional<config::Config>();
  return std::optional<config::Config>(TRY(context.load_config()));
}

void add_recovery_options(CLI::App* command, dr::RecoveryOptions& options) {
  command->add_option("--peer", options.peer, "the peer's public SFTP address, HOST[:PORT] (port 22222 by default)");
  command->add_option("--host-key", options.host_key,
                      "the peer's host key as confirmed on the peer: 'ssh-ed25519 AAAA…' or 'SHA256:…' "
                      "(without it, you are asked at the terminal)");
  command->add_option("--site", options.site, "this site's name (server.name; default: from the config here)");
  command->add_option("--user", options.user, "this site's account on the peer (default: the site's name)");
  command->add_option("--passphrase-file", options.passphrase_file,
                      "file holding the repository passphrase (or ANEMONE_PASSPHRASE_FILE, ANEMONE_PASSPHRASE, a prompt)");
  command->add_flag("--json", options.json, "print the result as JSON");
}

} // namespace

void set_config_backup_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<dr::ConfigBackupOptions>();
  auto* command = app.add_subcommand(
      "config-backup", "encrypt this site's config, keys and state; keep it here and upload it to every peer");
  command->add_flag("--force", options->force, "write and upload even when nothing changed since the last one");
  command->add_flag("--json", options->json, "print the result as JSON");
  cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return dr::cmd_config_backup(config, *options);
  });
}

void set_config_discover_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<dr::RecoveryOptions>();
  auto* command = app.add_subcommand("config-discover", "list the config backups a peer holds for this site");
  add_recovery_options(command, *options);
  command->get_option("--peer")->required();
  cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(config_if_present(context));
    return dr::cmd_config_discover(config, *options);
  });
}

void set_config_restore_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<dr::ConfigRestoreOptions>();
  auto* command = app.add_subcommand(
      "config-restore", "download, verify, decrypt and restore this site's config, keys and state");
  add_recovery_options(command, *options);
  auto latest = std::make_shared<bool>(false);
  auto* latest_flag = command->add_flag("--latest", *latest, "the newest config backup (the default)");
  command->add_option("--id", options->id, "the config backup to restore (its ID or file name)")->excludes(latest_flag);
  command->add_option("--file", options->file, "restore from this config backup file instead of a peer")->excludes("--peer");
  command->add_flag("--force", options->force, "replace an existing configuration (a copy of it is kept)");
  cli::set_action(command, [&context, options, latest]() -> core::Result<void> {
    auto config = TRY(config_if_present(context));
    options->config_path = config::resolve_config_path(context.config_option);
    return dr::cmd_config_restore(config, *options);
  });
}

} // namespace anemone::backup_sender
