#include "anemone/cli/tool.hpp"

// Arrives with a later release: every command says so instead of pretending to work.
int main(int argc, char** argv) {
  return anemone::cli::run_tool(argc, argv, "sftp-receiver-quota", "Receives peers' backups: one chrooted SFTP-only account per peer with an enforced disk quota.",
                                [](CLI::App& app, anemone::cli::ToolContext&) {
                                  anemone::cli::add_not_yet_available(app, "account", "add, remove, list accounts and set their quotas");
                                  anemone::cli::add_not_yet_available(app, "sshd-config", "render the receiver's sshd_config");
                                  anemone::cli::add_not_yet_available(app, "sync", "make Unix accounts, jails and keys match the state");
                                  anemone::cli::add_not_yet_available(app, "scan", "measure each peer's usage and enforce quotas");
                                  anemone::cli::add_not_yet_available(app, "watch", "scan continuously");
                                  anemone::cli::add_not_yet_available(app, "status", "peers, usage, quota, state, last seen");
                                });
}
