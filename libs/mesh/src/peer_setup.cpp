#include "anemone/mesh/peer_setup.hpp"

#include "anemone/core/log.hpp"
#include "anemone/core/time.hpp"
#include "anemone/mesh/interface.hpp"
#include "anemone/peers/accounts.hpp"
#include "anemone/peers/receiver.hpp"

namespace anemone::mesh {

using core::Errc;

namespace {

core::Result<void> sync_system(const config::Config& config, state::Db& db, const Identity& identity, SetupReport& report) {
  auto accounts = TRY(peers::list_accounts(db));
  auto synced = TRY_CTX(peers::sync_receiver(config, accounts), "update the receiver's accounts");
  report.changes.insert(report.changes.end(), synced.changes.begin(), synced.changes.end());
  auto peers = TRY(list_peers(db));
  report.tunnel_applied = TRY(apply_peers(config, identity, peers));
  return {};
}

} // namespace

core::Result<std::string> account_name_for(const config::Config& config, const std::string& peer) {
  std::string name = config.sftp.account_prefix + peer;
  TRY_CTX(peers::validate_account_name(name), "the account for " + peer);
  return name;
}

core::Result<void> check_new_peer(state::Db& db, const Identity& identity, const SiteCard& card) {
  if (card.name == identity.name) return core::fail(Errc::usage, "'{}' is this site's own name", card.name);
  if (card.subnet != identity.subnet.str())
    return core::fail(Errc::usage, "{} uses the mesh subnet {}, this site {}; every site of a mesh needs the same "
                      "wireguard.subnet", card.name, card.subnet, identity.subnet.str());
  if (card.wg_public == identity.wg_public) return core::fail(Errc::usage, "{} has this site's own WireGuard key", card.name);
  if (card.vpn_address == identity.address.str())
    return core::fail(Errc::usage, "{}'s VPN address {} collides with this site's; set wireguard.address on one of them",
                      card.name, card.vpn_address);
  for (const auto& peer : TRY(list_peers(db))) {
    if (peer.card.name == card.name) return core::fail(Errc::usage, "a peer named '{}' already exists", card.name);
    if (peer.card.wg_public == card.wg_public)
      return core::fail(Errc::usage, "{}'s WireGuard key is already the key of peer {}", card.name, peer.card.name);
    if (peer.card.vpn_address == card.vpn_address)
      return core::fail(Errc::usage, "{}'s VPN address {} collides with peer {}; set wireguard.address on one of them",
                        card.name, card.vpn_address, peer.card.name);
  }
  return {};
}

core::Result<SetupReport> setup_peer(const config::Config& config, state::Db& db, const Identity& identity,
                                     const SiteCard& card, uint64_t quota, const std::vector<std::string>& allowed_ips,
                                     const std::function<core::Result<void>()>& in_transaction) {
  SetupReport report;
  std::string account = TRY(account_name_for(config, card.name));
  {
    auto txn = TRY(state::Txn::begin(db));
    TRY(check_new_peer(db, identity, card));
    TRY(insert_peer(db, Peer{card, allowed_ips, core::now_ns()}));
    TRY_CTX(peers::add_account(db, account, card.ssh_user_key, quota), "the SFTP account for " + card.name);
    if (in_transaction) TRY(in_transaction());
    TRY(txn.commit());
  }
  report.changes.push_back(fmt::format("peer {} at {} (SFTP account {}, quota {})", card.name, card.vpn_address, account,
                                       core::format_bytes(quota)));
  TRY(sync_system(config, db, identity, report));
  core::log_info("peer {} added: {} {}", card.name, card.vpn_address, card.endpoint.value_or("(no endpoint)"));
  return report;
}

core::Result<SetupReport> remove_peer(const config::Config& config, state::Db& db, const Identity& identity,
                                      const std::string& name, bool purge) {
  SetupReport report;
  std::string account = TRY(account_name_for(config, name));
  {
    auto txn = TRY(state::Txn::begin(db));
    if (!TRY(delete_peer(db, name))) return core::fail(Errc::not_found, "no peer named '{}'", name);
    TRY(peers::remove_account(db, account));
    TRY(txn.commit());
  }
  report.changes.push_back("peer " + name + " removed");
  TRY(sync_system(config, db, identity, report));
  if (purge) {
    TRY(peers::remove_jail(config, account));
    report.changes.push_back("its stored backups deleted");
  }
  core::log_info("peer {} removed{}", name, purge ? " with its stored backups" : "");
  return report;
}

} // namespace anemone::mesh
