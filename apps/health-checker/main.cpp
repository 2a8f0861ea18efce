#include "anemone/cli/tool.hpp"

// Arrives with a later release: every command says so instead of pretending to work.
int main(int argc, char** argv) {
  return anemone::cli::run_tool(argc, argv, "health-checker", "Probes every registered backend over HTTP with rise/fall hysteresis and records its health.",
                                [](CLI::App& app, anemone::cli::ToolContext&) {
                                  anemone::cli::add_not_yet_available(app, "run", "probe continuously");
                                  anemone::cli::add_not_yet_available(app, "self", "the container's own healthcheck");
                                  anemone::cli::add_not_yet_available(app, "status", "health of every backend");
                                });
}
