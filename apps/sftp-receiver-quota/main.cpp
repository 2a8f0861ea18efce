#include "commands.hpp"

int main(int argc, char** argv) {
  using namespace anemone::sftp_receiver_quota;
  return anemone::cli::run_tool(
      argc, argv, "sftp-receiver-quota",
      "Receives peers' backups: one chrooted SFTP-only account per peer with a disk quota.",
      [](CLI::App& app, anemone::cli::ToolContext& context) {
        set_account_command(app, context);
        set_sshd_config_command(app, context);
        set_sync_command(app, context);
        set_scan_commands(app, context);
      });
}
