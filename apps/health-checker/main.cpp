#include <memory>

#include "anemone/backup/targets.hpp"
#include "anemone/cli/tool.hpp"
#include "anemone/health/self_check.hpp"

namespace {

void set_self_command(CLI::App& app, anemone::cli::ToolContext& context) {
  auto json = std::make_shared<bool>(false);
  auto* command = app.add_subcommand(
      "self", "the container's own healthcheck: WireGuard, sshd, supervisord's programs, last snapshots, free space");
  command->add_flag("--json", *json, "print JSON");
  anemone::cli::set_action(command, [&context, json]() -> anemone::core::Result<void> {
    // Mesh peers are targets too: a peer nobody backs up to is as unhealthy as a local one.
    auto config = TRY(anemone::backup::with_peer_targets(context.load_config()));
    return anemone::health::cmd_self(config, *json);
  });
}

} // namespace

// `run` and `status` (the platform's backends) arrive with a later release and say so.
int main(int argc, char** argv) {
  return anemone::cli::run_tool(argc, argv, "health-checker",
                                "Probes every registered backend over HTTP with rise/fall hysteresis and records its health.",
                                [](CLI::App& app, anemone::cli::ToolContext& context) {
                                  anemone::cli::add_not_yet_available(app, "run", "probe continuously");
                                  set_self_command(app, context);
                                  anemone::cli::add_not_yet_available(app, "status", "health of every backend");
                                });
}
