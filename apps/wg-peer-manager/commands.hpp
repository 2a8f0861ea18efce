#pragma once
// Each function adds wg-peer-manager subcommands and wires their options to anemone::mesh.
#include "anemone/cli/tool.hpp"

namespace anemone::wg_peer_manager {
void set_identity_commands(CLI::App& app, cli::ToolContext& context);   // init, show
void set_invitation_commands(CLI::App& app, cli::ToolContext& context); // invite, join, accept, invitations, revoke
void set_peer_commands(CLI::App& app, cli::ToolContext& context);       // list, remove
void set_interface_commands(CLI::App& app, cli::ToolContext& context);  // up, down, status
} // namespace anemone::wg_peer_manager
