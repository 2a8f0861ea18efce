#include <cstdlib>

#include "anemone/cli/tool.hpp"
#include "anemone/runtime/commands.hpp"
#include "anemone/runtime/cron_daemon.hpp"
#include "anemone/runtime/watcher.hpp"

namespace {

using anemone::cli::ToolContext;
namespace core = anemone::core;
namespace runtime = anemone::runtime;

void set_run_command(CLI::App& app, ToolContext& context) {
  auto* command = app.add_subcommand("run", "watch the sources and start backups (foreground; the supervisord program)");
  anemone::cli::set_action(command, [&context]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return runtime::run_watcher(config, {});
  });
}

void set_status_command(CLI::App& app, ToolContext& context) {
  auto json = std::make_shared<bool>(false);
  auto* command = app.add_subcommand("status", "mode, watched directories, pending changes, next and last run");
  command->add_flag("--json", *json, "print JSON");
  anemone::cli::set_action(command, [&context, json]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return runtime::cmd_status(config, *json);
  });
}

void set_cron_command(CLI::App& app, ToolContext& context) {
  auto crontab = std::make_shared<std::string>();
  if (const char* env = std::getenv("ANEMONE_CRONTAB")) *crontab = env;
  auto* command = app.add_subcommand("cron", "run the suite's crontab (foreground; the supervisord program)");
  command->add_option("--crontab", *crontab, "the crontab file (default: $ANEMONE_CRONTAB)");
  anemone::cli::set_action(command, [&context, crontab]() -> core::Result<void> {
    if (crontab->empty())
      return core::fail(core::Errc::usage, "no crontab: give --crontab FILE or set ANEMONE_CRONTAB");
    auto config = TRY(context.load_config());
    return runtime::run_cron(config, *crontab);
  });
}

void set_env_command(CLI::App& app, ToolContext& context) {
  auto* command = app.add_subcommand("env", "print the core's paths as shell assignments (for scripts/run-core.sh)");
  anemone::cli::set_action(command, [&context]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return runtime::cmd_env(config);
  });
}

} // namespace

int main(int argc, char** argv) {
  return anemone::cli::run_tool(argc, argv, "watcher",
                                "Starts backup-sender run after a quiet period (live), on an interval (periodic) or "
                                "on a schedule (scheduled), and runs the suite's crontab.",
                                [](CLI::App& app, ToolContext& context) {
                                  set_run_command(app, context);
                                  set_status_command(app, context);
                                  set_cron_command(app, context);
                                  set_env_command(app, context);
                                });
}
