#include "anemone/cli/tool.hpp"

// Arrives with a later release: every command says so instead of pretending to work.
int main(int argc, char** argv) {
  return anemone::cli::run_tool(argc, argv, "wg-peer-manager", "Keys, invitations and the WireGuard mesh between sites.",
                                [](CLI::App& app, anemone::cli::ToolContext&) {
                                  anemone::cli::add_not_yet_available(app, "init", "create this site's keys");
                                  anemone::cli::add_not_yet_available(app, "show", "print public keys, VPN address and endpoint");
                                  anemone::cli::add_not_yet_available(app, "invite", "print a signed invitation code for a new peer");
                                  anemone::cli::add_not_yet_available(app, "join", "accept an invitation and print a reply code");
                                  anemone::cli::add_not_yet_available(app, "accept", "accept a peer's reply");
                                  anemone::cli::add_not_yet_available(app, "list", "list peers");
                                  anemone::cli::add_not_yet_available(app, "remove", "remove a peer");
                                  anemone::cli::add_not_yet_available(app, "invitations", "list pending invitations");
                                  anemone::cli::add_not_yet_available(app, "revoke", "revoke an invitation");
                                  anemone::cli::add_not_yet_available(app, "up", "bring the WireGuard interface up");
                                  anemone::cli::add_not_yet_available(app, "down", "take the WireGuard interface down");
                                  anemone::cli::add_not_yet_available(app, "status", "health of the interface");
                                });
}
