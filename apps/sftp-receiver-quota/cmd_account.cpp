#include "anemone/peers/receiver_commands.hpp"
#include "commands.hpp"

namespace anemone::sftp_receiver_quota {

void set_account_command(CLI::App& app, cli::ToolContext& context) {
  auto* account = app.add_subcommand("account", "the SFTP accounts of this site's peers");
  account->require_subcommand(1);

  auto add_options = std::make_shared<peers::AccountAddOptions>();
  auto* add = account->add_subcommand("add", "add a peer's account (then run sync)");
  add->add_option("name", add_options->name, "the peer's site name (also its Unix user)")->required();
  add->add_option("--ssh-key", add_options->ssh_key, "the peer's public key: \"ssh-ed25519 AAAA…\"")->required();
  add->add_option("--quota", add_options->quota, "disk quota, e.g. 50G (default: sftp.default_quota)");
  cli::set_action(add, [&context, add_options]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return peers::cmd_account_add(config, *add_options);
  });

  auto remove_name = std::make_shared<std::string>();
  auto keep_data = std::make_shared<bool>(false);
  auto* remove = account->add_subcommand("remove", "remove a peer's account; its key stops working at once");
  remove->add_option("name", *remove_name, "the peer's name")->required();
  remove->add_flag("--keep-data", *keep_data, "keep what the peer stored");
  cli::set_action(remove, [&context, remove_name, keep_data]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return peers::cmd_account_remove(config, *remove_name, *keep_data);
  });

  auto list_json = std::make_shared<bool>(false);
  auto* list = account->add_subcommand("list", "list the accounts with usage and quota");
  list->add_flag("--json", *list_json, "print JSON");
  cli::set_action(list, [&context, list_json]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return peers::cmd_account_list(config, *list_json);
  });

  auto quota_name = std::make_shared<std::string>();
  auto quota_size = std::make_shared<std::string>();
  auto* quota = account->add_subcommand("set-quota", "change a peer's quota");
  quota->add_option("name", *quota_name, "the peer's name")->required();
  quota->add_option("size", *quota_size, "the new quota, e.g. 100G")->required();
  cli::set_action(quota, [&context, quota_name, quota_size]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return peers::cmd_account_set_quota(config, *quota_name, *quota_size);
  });
}

} // namespace anemone::sftp_receiver_quota
