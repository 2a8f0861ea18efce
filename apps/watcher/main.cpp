#include "anemone/cli/tool.hpp"

// Arrives with a later release: every command says so instead of pretending to work.
int main(int argc, char** argv) {
  return anemone::cli::run_tool(argc, argv, "watcher", "Watches the sources and starts backup-sender run after a quiet period (live), on an interval (periodic) or on a schedule (scheduled).",
                                [](CLI::App& app, anemone::cli::ToolContext&) {
                                  anemone::cli::add_not_yet_available(app, "run", "watch the sources and start backups");
                                  anemone::cli::add_not_yet_available(app, "status", "mode, watched directories, pending changes, next and last run");
                                });
}
