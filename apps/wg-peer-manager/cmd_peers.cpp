#include "anemone/mesh/commands.hpp"
#include "commands.hpp"

namespace anemone::wg_peer_manager {

namespace {
template <typename F> void action(CLI::App* command, cli::ToolContext& context, F work) {
  cli::set_action(command, [&context, work]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return work(config);
  });
}
} // namespace

void set_invitation_commands(CLI::App& app, cli::ToolContext& context) {
  auto invite_options = std::make_shared<mesh::InviteOptions>();
  auto* invite = app.add_subcommand("invite", "print a signed invitation code for a new peer");
  invite->add_option("name", invite_options->name, "the invited site's name")->required();
  invite->add_option("--expires", invite_options->expires, "how long the code stays valid (default 24h)");
  invite->add_option("--quota", invite_options->quota, "its quota on this site's receiver (default sftp.default_quota)");
  invite->add_option("--allowed-ips", invite_options->allowed_ips, "more CIDRs routed to it (a hub routing its LAN)")
      ->delimiter(',');
  invite->add_flag("--json", invite_options->json, "print JSON");
  action(invite, context, [invite_options](const config::Config& c) { return mesh::cmd_invite(c, *invite_options); });

  struct CodeOptions {
    std::string code;
    bool json = false;
  };
  auto join_options = std::make_shared<CodeOptions>();
  auto* join = app.add_subcommand("join", "verify an invitation, set up the inviting site, print a reply code");
  join->add_option("code", join_options->code, "the invitation code")->required();
  join->add_flag("--json", join_options->json, "print JSON");
  action(join, context, [join_options](const config::Config& c) { return mesh::cmd_join(c, join_options->code, join_options->json); });

  auto accept_options = std::make_shared<CodeOptions>();
  auto* accept = app.add_subcommand("accept", "verify a reply and set up the site that sent it");
  accept->add_option("reply", accept_options->code, "the reply code")->required();
  accept->add_flag("--json", accept_options->json, "print JSON");
  action(accept, context,
         [accept_options](const config::Config& c) { return mesh::cmd_accept(c, accept_options->code, accept_options->json); });

  auto list_json = std::make_shared<bool>(false);
  auto* invitations = app.add_subcommand("invitations", "list invitations and their state");
  invitations->add_flag("--json", *list_json, "print JSON");
  action(invitations, context, [list_json](const config::Config& c) { return mesh::cmd_invitations(c, *list_json); });

  auto revoke_id = std::make_shared<std::string>();
  auto* revoke = app.add_subcommand("revoke", "revoke an open invitation");
  revoke->add_option("id", *revoke_id, "the invitation id")->required();
  action(revoke, context, [revoke_id](const config::Config& c) { return mesh::cmd_revoke(c, *revoke_id); });
}

void set_peer_commands(CLI::App& app, cli::ToolContext& context) {
  auto list_json = std::make_shared<bool>(false);
  auto* list = app.add_subcommand("list", "peers: address, endpoint, last handshake, bytes, quota used");
  list->add_flag("--json", *list_json, "print JSON");
  action(list, context, [list_json](const config::Config& c) { return mesh::cmd_list(c, *list_json); });

  struct RemoveOptions {
    std::string name;
    bool purge = false;
    bool json = false;
  };
  auto remove_options = std::make_shared<RemoveOptions>();
  auto* remove = app.add_subcommand("remove", "remove a peer: its tunnel, its account here and its target at once");
  remove->add_option("name", remove_options->name, "the peer")->required();
  remove->add_flag("--purge", remove_options->purge, "also delete the backups it stored here");
  remove->add_flag("--json", remove_options->json, "print JSON");
  action(remove, context, [remove_options](const config::Config& c) {
    return mesh::cmd_remove(c, remove_options->name, remove_options->purge, remove_options->json);
  });
}

void set_interface_commands(CLI::App& app, cli::ToolContext& context) {
  struct UpOptions {
    bool json = false;
    bool foreground = false;
  };
  auto up_options = std::make_shared<UpOptions>();
  auto* up = app.add_subcommand("up", "bring the WireGuard interface to the state (kernel WireGuard, else wireguard-go)");
  up->add_flag("--json", up_options->json, "print JSON");
  up->add_flag("--foreground", up_options->foreground,
               "keep running until stopped, wireguard-go as our child (the supervisord program)");
  action(up, context, [up_options](const config::Config& c) { return mesh::cmd_up(c, up_options->json, up_options->foreground); });

  auto* down = app.add_subcommand("down", "remove the WireGuard interface");
  action(down, context, [](const config::Config& c) { return mesh::cmd_down(c); });

  auto status_json = std::make_shared<bool>(false);
  auto* status = app.add_subcommand("status", "exit 0 when the interface is up (the healthcheck)");
  status->add_flag("--json", *status_json, "print JSON");
  action(status, context, [status_json](const config::Config& c) { return mesh::cmd_status(c, *status_json); });
}

} // namespace anemone::wg_peer_manager
