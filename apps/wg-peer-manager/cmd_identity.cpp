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

} // namespace anemone::wg_peer_manager
