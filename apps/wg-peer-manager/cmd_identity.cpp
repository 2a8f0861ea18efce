#include "anemone/mesh/commands.hpp"
#include "commands.hpp"

namespace anemone::wg_peer_manager {

void set_identity_commands(CLI::App& app, cli::ToolContext& context) {
  struct InitOptions {
    std::optional<std::string> endpoint;
    bool json = false;
  };
  auto init_options = std::make_shared<InitOptions>();
  auto* init = app.add_subcommand("init", "create this site's keys (once; never replaces a key)");
  init->add_option("--endpoint", init_options->endpoint, "HOST:PORT peers use to reach this site's WireGuard port");
  init->add_flag("--json", init_options->json, "print JSON");
  cli::set_action(init, [&context, init_options]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return mesh::cmd_init(config, init_options->endpoint, init_options->json);
  });

  auto show_json = std::make_shared<bool>(false);
  auto* show = app.add_subcommand("show", "print public keys, the VPN address and the endpoint");
  show->add_flag("--json", *show_json, "print JSON");
  cli::set_action(show, [&context, show_json]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return mesh::cmd_show(config, *show_json);
  });
}

// Filled in step by step (issue 4); until then they say so.
void set_invitation_commands(CLI::App& app, cli::ToolContext&) {
  cli::add_not_yet_available(app, "invite", "print a signed invitation code for a new peer");
  cli::add_not_yet_available(app, "join", "accept an invitation and print a reply code");
  cli::add_not_yet_available(app, "accept", "accept a peer's reply");
  cli::add_not_yet_available(app, "invitations", "list pending invitations");
  cli::add_not_yet_available(app, "revoke", "revoke an invitation");
}

void set_peer_commands(CLI::App& app, cli::ToolContext&) {
  cli::add_not_yet_available(app, "list", "list peers");
  cli::add_not_yet_available(app, "remove", "remove a peer");
}

void set_interface_commands(CLI::App& app, cli::ToolContext&) {
  cli::add_not_yet_available(app, "up", "bring the WireGuard interface up");
  cli::add_not_yet_available(app, "down", "take the WireGuard interface down");
  cli::add_not_yet_available(app, "status", "health of the interface");
}

} // namespace anemone::wg_peer_manager
