#pragma once
// Each function adds one subcommand to backup-sender and wires its options to anemone::backup.
#include "anemone/cli/tool.hpp"

namespace anemone::backup_sender {
void set_init_command(CLI::App& app, cli::ToolContext& context);
void set_run_command(CLI::App& app, cli::ToolContext& context);
void set_snapshots_command(CLI::App& app, cli::ToolContext& context);
void set_ls_command(CLI::App& app, cli::ToolContext& context);
void set_diff_command(CLI::App& app, cli::ToolContext& context);
void set_stats_command(CLI::App& app, cli::ToolContext& context);
void set_restore_command(CLI::App& app, cli::ToolContext& context);
void set_check_command(CLI::App& app, cli::ToolContext& context);
void set_forget_command(CLI::App& app, cli::ToolContext& context);
void set_prune_command(CLI::App& app, cli::ToolContext& context);
void set_unlock_command(CLI::App& app, cli::ToolContext& context);
void set_key_command(CLI::App& app, cli::ToolContext& context);
void set_config_backup_command(CLI::App& app, cli::ToolContext& context);
void set_config_discover_command(CLI::App& app, cli::ToolContext& context);
void set_config_restore_command(CLI::App& app, cli::ToolContext& context);
} // namespace anemone::backup_sender
