#include <memory>

#include "anemone/backup/targets.hpp"
#include "anemone/cli/tool.hpp"
#include "anemone/health/self_check.hpp"
#include "anemone/platform/health_daemon.hpp"
#include "anemone/platform/health_status.hpp"
#include "anemone/state/db.hpp"

namespace {

using anemone::cli::ToolContext;
namespace core = anemone::core;
namespace platform = anemone::platform;

void set_run_command(CLI::App& app, ToolContext& context) {
  auto* command = app.add_subcommand(
      "run", "probe every registered backend with rise/fall hysteresis (foreground; the supervisord program)");
  anemone::cli::set_action(command, [&context]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    auto db = TRY(anemone::state::Db::open(config.state_path));
    return platform::run_health_checker(db, {});
  });
}

void set_self_command(CLI::App& app, ToolContext& context) {
  auto json = std::make_shared<bool>(false);
  auto* command = app.add_subcommand(
      "self", "the container's own healthcheck: WireGuard, sshd, supervisord's programs, last snapshots, free space");
  command->add_flag("--json", *json, "print JSON");
  anemone::cli::set_action(command, [&context, json]() -> core::Result<void> {
    // Mesh peers are targets too: a peer nobody backs up to is as unhealthy as a local one.
    auto config = TRY(anemone::backup::with_peer_targets(context.load_config()));
    return anemone::health::cmd_self(config, *json);
  });
}

void set_status_command(CLI::App& app, ToolContext& context) {
  auto options = std::make_shared<platform::HealthStatusOptions>();
  auto* command = app.add_subcommand(
      "status", "every service and backend: site, state, since when, latency, last error; the last transitions");
  command->add_flag("--json", options->json, "print JSON");
  command->add_option("--events", options->events, "how many of the newest transitions to list (0: none)")
      ->default_val(options->events)
      ->check(CLI::Range(0, 10'000));
  anemone::cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return platform::cmd_health_status(config.state_path, *options);
  });
}

} // namespace

int main(int argc, char** argv) {
  return anemone::cli::run_tool(argc, argv, "health-checker",
                                "Probes every registered backend over HTTP with rise/fall hysteresis and records its health.",
                                [](CLI::App& app, ToolContext& context) {
                                  set_run_command(app, context);
                                  set_self_command(app, context);
                                  set_status_command(app, context);
                                });
}
