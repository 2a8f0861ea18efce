#pragma once
// Setting up and removing a peer, on either side of an invitation. The state changes (the peer, its
// SFTP account, and with accept the invitation marked used) happen in one transaction; then the
// system is brought to match: the receiver's accounts and jails, and the live WireGuard interface
// (one peer added or removed, the others' tunnels untouched). Nothing restarts.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"
#include "anemone/mesh/codes.hpp"
#include "anemone/mesh/identity.hpp"
#include "anemone/mesh/store.hpp"
#include "anemone/state/db.hpp"

namespace anemone::mesh {

// The account name on our receiver for a peer: sftp.account_prefix + its name.
core::Result<std::string> account_name_for(const config::Config& config, const std::string& peer);

// Refuses (Errc::usage, naming what collides) a peer whose name, WireGuard key or address is taken,
// or whose mesh subnet differs from ours.
core::Result<void> check_new_peer(state::Db& db, const Identity& identity, const SiteCard& card);

struct SetupReport {
  std::vector<std::string> changes;
  bool tunnel_applied = false; // false when the interface is down (`up` applies it later)
};
// `in_transaction` runs inside the same transaction (accept marks the invitation used there).
core::Result<SetupReport> setup_peer(const config::Config& config, state::Db& db, const Identity& identity,
                                     const SiteCard& card, uint64_t quota, const std::vector<std::string>& allowed_ips,
                                     const std::function<core::Result<void>()>& in_transaction = {});

core::Result<SetupReport> remove_peer(const config::Config& config, state::Db& db, const Identity& identity,
                                      const std::string& name, bool purge);

} // namespace anemone::mesh
