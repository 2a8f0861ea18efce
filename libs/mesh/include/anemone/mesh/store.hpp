#pragma once
// The mesh in the SQLite state: peers and invitations (schema step 3).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"
#include "anemone/mesh/codes.hpp"
#include "anemone/state/db.hpp"

namespace anemone::mesh {

struct Peer {
  SiteCard card;                        // as the peer described itself
  std::vector<std::string> allowed_ips; // beyond card.vpn_address/32 (a hub routing the peer's LAN)
  int64_t created_ns = 0;
};

core::Result<std::vector<Peer>> list_peers(state::Db& db);
core::Result<std::optional<Peer>> find_peer(state::Db& db, const std::string& name);
core::Result<void> insert_peer(state::Db& db, const Peer& peer);
core::Result<bool> delete_peer(state::Db& db, const std::string& name);

struct StoredInvitation {
  std::string id;
  std::string peer_name;
  core::Bytes secret;
  uint64_t quota_bytes = 0;
  std::vector<std::string> allowed_ips;
  int64_t created_ns = 0;
  int64_t expires_ns = 0;
  std::string state; // open | used | revoked
};
core::Result<void> insert_invitation(state::Db& db, const StoredInvitation& invitation);
core::Result<std::optional<StoredInvitation>> find_invitation(state::Db& db, const std::string& id);
core::Result<std::vector<StoredInvitation>> list_invitations(state::Db& db);
core::Result<void> set_invitation_state(state::Db& db, const std::string& id, const std::string& state);

// Peers as backup targets: sftp to the peer's receiver over the tunnel, host key pinned.
core::Result<std::vector<config::Target>> peer_targets(const config::Config& config);

} // namespace anemone::mesh
