#pragma once
// `health-checker self`, the container's HEALTHCHECK: the WireGuard interface, sshd, supervisord's
// programs, the age of every target's last snapshot, of the last config backup here and on every
// peer, and the free space of the sources and the backups.
#include <chrono>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"
#include "anemone/health/checks.hpp"

namespace anemone::health {

inline constexpr std::chrono::milliseconds k_ssh_probe_timeout{3000};

// Probes and judges everything; the config's targets include the mesh peers' (with_peer_targets).
Report self_check(const config::Config& config);

// Prints the report (text, or JSON with json=true) to stdout; an unhealthy report is Errc::failed
// (exit 1, which Docker's HEALTHCHECK reads as unhealthy).
core::Result<void> cmd_self(const config::Config& config, bool json);

} // namespace anemone::health
