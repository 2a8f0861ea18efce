#pragma once
// Each function adds caddy-sync subcommands and wires their options to anemone::platform.
#include "anemone/cli/tool.hpp"

namespace anemone::caddy_sync {
void set_apply_command(CLI::App& app, cli::ToolContext& context);
void set_site_commands(CLI::App& app, cli::ToolContext& context);
void set_service_commands(CLI::App& app, cli::ToolContext& context);
void set_backend_commands(CLI::App& app, cli::ToolContext& context);
void set_caddy_commands(CLI::App& app, cli::ToolContext& context); // render, sync, watch, status, history, rollback
} // namespace anemone::caddy_sync
