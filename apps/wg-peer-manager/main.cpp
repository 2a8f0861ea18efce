#include "commands.hpp"

int main(int argc, char** argv) {
  using namespace anemone::wg_peer_manager;
  return anemone::cli::run_tool(argc, argv, "wg-peer-manager", "Keys, invitations and the WireGuard mesh between sites.",
                                [](CLI::App& app, anemone::cli::ToolContext& context) {
                                  set_identity_commands(app, context);
                                  set_invitation_commands(app, context);
                                  set_peer_commands(app, context);
                                  set_interface_commands(app, context);
                                });
}
