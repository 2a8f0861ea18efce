#include "commands.hpp"

int main(int argc, char** argv) {
  using namespace anemone::backup_sender;
  return anemone::cli::run_tool(
      argc, argv, "backup-sender", "Encrypted, deduplicating backups of this site's sources to every target.",
      [](CLI::App& app, anemone::cli::ToolContext& context) {
        for (auto set : {set_init_command, set_run_command, set_snapshots_command, set_ls_command, set_diff_command,
                         set_restore_command, set_check_command, set_forget_command, set_prune_command,
                         set_stats_command, set_unlock_command, set_key_command, set_config_backup_command,
                         set_config_discover_command, set_config_restore_command})
          set(app, context);
      });
}
