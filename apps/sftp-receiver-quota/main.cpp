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
        anemone::cli::add_not_yet_available(app, "scan", "measure each peer's usage and enforce quotas");
        anemone::cli::add_not_yet_available(app, "watch", "scan continuously");
        anemone::cli::add_not_yet_available(app, "status", "peers, usage, quota, state, last seen");
      });
}
