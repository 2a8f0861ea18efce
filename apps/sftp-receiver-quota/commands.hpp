#pragma once
// Each function adds one subcommand to sftp-receiver-quota and wires its options to anemone::peers.
#include "anemone/cli/tool.hpp"

namespace anemone::sftp_receiver_quota {
void set_account_command(CLI::App& app, cli::ToolContext& context);
void set_sshd_config_command(CLI::App& app, cli::ToolContext& context);
void set_sync_command(CLI::App& app, cli::ToolContext& context);
void set_scan_commands(CLI::App& app, cli::ToolContext& context); // scan, watch, status
} // namespace anemone::sftp_receiver_quota
