#pragma once
// wg-peer-manager's commands as library calls: each prints its report (text, or JSON) and returns
// an error for main to map to an exit code.
#include <optional>
#include <string>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"

namespace anemone::mesh {

core::Result<void> cmd_init(const config::Config& config, const std::optional<std::string>& endpoint, bool json);
core::Result<void> cmd_show(const config::Config& config, bool json);

} // namespace anemone::mesh
