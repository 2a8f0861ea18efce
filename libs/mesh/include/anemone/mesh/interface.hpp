#pragma once
// The live WireGuard interface: kernel WireGuard where the kernel has it, otherwise wireguard-go.
// Configuration goes through `wg syncconf` with a 0600 file (the private key never reaches a command
// line), which changes only what differs: adding or removing one peer leaves the others' sessions
// alone.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"
#include "anemone/mesh/identity.hpp"
#include "anemone/mesh/store.hpp"

namespace anemone::mesh {

// The `wg setconf` text for this site and its peers.
std::string render_wg_config(const config::Config& config, const Identity& identity, const std::vector<Peer>& peers);

bool interface_exists(const std::string& name);

// Brings the interface to the state: created if missing, address, up, peers, routes.
struct UpReport {
  std::vector<std::string> changes;
  std::string implementation; // "kernel" or "wireguard-go"
  int wireguard_go_pid = 0;   // with foreground: our child, which the caller waits for
};
// foreground: wireguard-go (where needed) runs as our child instead of daemonizing, so a supervisor
// (supervisord, a test) owns one process that ends the tunnel when it ends.
core::Result<UpReport> interface_up(const config::Config& config, const Identity& identity, const std::vector<Peer>& peers,
                                    bool foreground = false);
core::Result<bool> interface_down(const config::Config& config);
// Applies the peers to a running interface; does nothing (returns false) when it is not up.
core::Result<bool> apply_peers(const config::Config& config, const Identity& identity, const std::vector<Peer>& peers);

struct PeerLink {
  int64_t latest_handshake_s = 0; // 0: never
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  std::string endpoint;
};
// By WireGuard public key; empty when the interface is down.
core::Result<std::map<std::string, PeerLink>> read_links(const config::Config& config);

} // namespace anemone::mesh
