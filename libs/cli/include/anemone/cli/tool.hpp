#pragma once
// What every one of the six tools shares: libsodium and logging set up, --config/--version, the
// exit-code table in --help, and the one place where an error becomes a message and an exit code.
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"

namespace anemone::cli {

inline constexpr const char* k_version = "0.1.0";

struct ToolContext {
  std::string config_option; // --config as given
  // Loads the config named by --config / ANEMONE_CONFIG / the default.
  core::Result<config::Config> load_config() const;
};

// Builds the app, lets `setup` add subcommands, parses and runs. Returns the exit code.
using ToolSetup = std::function<void(CLI::App& app, ToolContext& context)>;
int run_tool(int argc, char** argv, const std::string& name, const std::string& description, const ToolSetup& setup);

// Wraps a subcommand's work: its Result becomes the tool's exit code (printed as "tool: error: …").
void set_action(CLI::App* command, std::function<core::Result<void>()> action);


} // namespace anemone::cli
