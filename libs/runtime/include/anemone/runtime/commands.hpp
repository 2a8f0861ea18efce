#pragma once
// The watcher's subcommands, called by apps/watcher/main.cpp.
#include <filesystem>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"

namespace anemone::runtime {

core::Result<void> cmd_status(const config::Config& config, bool json);
// Shell assignments of the core's paths, for scripts/run-core.sh: eval "$(watcher env)".
core::Result<void> cmd_env(const config::Config& config);

} // namespace anemone::runtime
