#include "commands.hpp"

int main(int argc, char** argv) {
  using namespace anemone::caddy_sync;
  return anemone::cli::run_tool(
      argc, argv, "caddy-sync",
      "Keeps Caddy routing to healthy backends: the registry of sites, services and backends, rendered into "
      "Caddy's config and loaded through its admin API.",
      [](CLI::App& app, anemone::cli::ToolContext& context) {
        set_apply_command(app, context);
        set_site_commands(app, context);
        set_service_commands(app, context);
        set_backend_commands(app, context);
        set_caddy_commands(app, context);
      });
}
