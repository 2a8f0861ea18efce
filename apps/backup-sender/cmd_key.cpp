#include "anemone/backup/commands.hpp"
#include "anemone/backup/targets.hpp"
#include "commands.hpp"

namespace anemone::backup_sender {

void set_key_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<backup::KeyOptions>();
  auto* key = app.add_subcommand("key", "manage the passphrases that open a repository");
  key->require_subcommand(1);
  key->add_option("--target", options->target, "target name (needed when several are configured)");
  key->add_flag("--json", options->json, "print JSON");

  auto* add = key->add_subcommand("add", "add a passphrase (read from --new-passphrase-file, "
                                         "$ANEMONE_NEW_PASSPHRASE_FILE, or asked twice)");
  add->add_option("--new-passphrase-file", options->new_passphrase_file, "file holding the new passphrase");
  cli::set_action(add, [&context, options]() -> core::Result<void> {
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_key_add(config, *options);
  });

  auto* list = key->add_subcommand("list", "list the key files; * marks the one the passphrase opened");
  cli::set_action(list, [&context, options]() -> core::Result<void> {
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_key_list(config, *options);
  });

  auto* remove = key->add_subcommand("remove", "remove a key file (not the one in use)");
  remove->add_option("id", options->key_id, "key id or a prefix of at least 4 characters")->required();
  cli::set_action(remove, [&context, options]() -> core::Result<void> {
    auto config = TRY(backup::with_peer_targets(context.load_config()));
    return backup::cmd_key_remove(config, *options);
  });
}

} // namespace anemone::backup_sender
