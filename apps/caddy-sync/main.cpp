#include "anemone/cli/tool.hpp"

// Arrives with a later release: every command says so instead of pretending to work.
int main(int argc, char** argv) {
  return anemone::cli::run_tool(argc, argv, "caddy-sync", "Keeps Caddy routing to healthy backends: the registry of sites, services and backends, rendered into Caddy's config.",
                                [](CLI::App& app, anemone::cli::ToolContext&) {
                                  anemone::cli::add_not_yet_available(app, "apply", "apply a declarative platform.yaml");
                                  anemone::cli::add_not_yet_available(app, "site", "manage sites");
                                  anemone::cli::add_not_yet_available(app, "service", "manage services");
                                  anemone::cli::add_not_yet_available(app, "backend", "manage backends");
                                  anemone::cli::add_not_yet_available(app, "render", "print the Caddy config");
                                  anemone::cli::add_not_yet_available(app, "run", "render and load on every change");
                                  anemone::cli::add_not_yet_available(app, "status", "what Caddy runs now");
                                });
}
