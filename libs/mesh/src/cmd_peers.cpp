// list, remove, up, down, status: the peers and the live interface.
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "anemone/core/log.hpp"
#include "anemone/core/system.hpp"

#include "anemone/core/output.hpp"
#include "anemone/core/time.hpp"
#include "anemone/mesh/commands.hpp"
#include "anemone/mesh/interface.hpp"
#include "anemone/mesh/peer_setup.hpp"
#include "anemone/peers/accounts.hpp"

namespace anemone::mesh {

using core::Errc;
using nlohmann::json;

core::Result<void> cmd_list(const config::Config& config, bool json_out) {
  auto db = TRY(state::Db::open(config.state_path));
  auto peers = TRY(list_peers(db));
  auto links = TRY(read_links(config));
  json list = json::array();
  for (const auto& peer : peers) {
    PeerLink link;
    if (auto it = links.find(peer.card.wg_public); it != links.end()) link = it->second;
    auto account = peers::find_account(db, TRY(account_name_for(config, peer.card.name)));
    json entry = {{"name", peer.card.name},
                  {"vpn_address", peer.card.vpn_address},
                  {"endpoint", peer.card.endpoint ? json(*peer.card.endpoint) : json(nullptr)},
                  {"allowed_ips", peer.allowed_ips},
                  {"latest_handshake", link.latest_handshake_s ? json(core::format_utc(link.latest_handshake_s * 1'000'000'000))
                                                               : json(nullptr)},
                  {"rx_bytes", link.rx_bytes},
                  {"tx_bytes", link.tx_bytes},
                  {"quota_bytes", account ? account->quota_bytes : 0},
                  {"quota_used_bytes", account ? account->used_bytes : 0}};
    list.push_back(entry);
    if (!json_out)
      core::print_line("{:<16} {:<15} {:<28} handshake {:<20} rx {} tx {} quota {} of {}", peer.card.name,
                       peer.card.vpn_address, peer.card.endpoint.value_or("-"),
                       link.latest_handshake_s ? core::format_utc(link.latest_handshake_s * 1'000'000'000) : "never",
                       core::format_bytes(link.rx_bytes), core::format_bytes(link.tx_bytes),
                       core::format_bytes(account ? account->used_bytes : 0),
                       core::format_bytes(account ? account->quota_bytes : 0));
  }
  if (json_out) core::print_json(list);
  else if (peers.empty()) core::print_line("no peers yet: `wg-peer-manager invite NAME` starts one");
  return {};
}

core::Result<void> cmd_remove(const config::Config& config, const std::string& name, bool purge, bool json_out) {
  auto db = TRY(state::Db::open(config.state_path));
  auto identity = TRY(load_identity(config, db));
  auto report = TRY(remove_peer(config, db, identity, name, purge));
  if (json_out) {
    core::print_json(json{{"removed", name}, {"purged", purge}, {"changes", report.changes}});
    return {};
  }
  for (const auto& change : report.changes) core::print_line("{}", change);
  return {};
}

core::Result<void> cmd_up(const config::Config& config, bool json_out, bool foreground) {
  auto db = TRY(state::Db::open(config.state_path));
  auto identity = TRY(load_identity(config, db));
  auto peers = TRY(list_peers(db));
  auto report = TRY(interface_up(config, identity, peers, foreground));
  if (foreground) {
    core::log_info("{} up ({}), {} peers; staying in the foreground", config.wireguard.interface, report.implementation,
                   peers.size());
    // Until SIGTERM/SIGINT, or until wireguard-go (our child) ends.
    while (!core::interrupted()) {
      if (report.wireguard_go_pid > 0 && ::waitpid(report.wireguard_go_pid, nullptr, WNOHANG) == report.wireguard_go_pid)
        return core::fail(Errc::failed, "wireguard-go for {} exited", config.wireguard.interface);
      ::usleep(200 * 1000);
    }
    if (report.wireguard_go_pid > 0) {
      ::kill(report.wireguard_go_pid, SIGTERM); // it removes the interface and its socket
      ::waitpid(report.wireguard_go_pid, nullptr, 0);
    }
    return {};
  }
  if (json_out) {
    core::print_json(json{{"interface", config.wireguard.interface}, {"implementation", report.implementation},
                          {"address", identity.address.str()}, {"peers", peers.size()}, {"changes", report.changes}});
    return {};
  }
  for (const auto& change : report.changes) core::print_line("{}", change);
  core::print_line("{} up ({}), {} peers", config.wireguard.interface, report.implementation, peers.size());
  return {};
}

core::Result<void> cmd_down(const config::Config& config) {
  bool was_up = TRY(interface_down(config));
  core::print_line("{} {}", config.wireguard.interface, was_up ? "removed" : "was not up");
  return {};
}

core::Result<void> cmd_status(const config::Config& config, bool json_out) {
  auto db = TRY(state::Db::open(config.state_path));
  auto peers = TRY(list_peers(db));
  bool up = interface_exists(config.wireguard.interface);
  auto links = TRY(read_links(config));
  int64_t now = core::now_ns() / 1'000'000'000;
  size_t recent = 0;
  for (const auto& peer : peers)
    if (auto it = links.find(peer.card.wg_public); it != links.end() && it->second.latest_handshake_s &&
                                                   now - it->second.latest_handshake_s < 180)
      ++recent;
  if (json_out)
    core::print_json(json{{"interface", config.wireguard.interface}, {"up", up}, {"peers", peers.size()},
                          {"peers_with_recent_handshake", recent}});
  else
    core::print_line("{}: {}; {} of {} peers with a handshake in the last 3 minutes", config.wireguard.interface,
                     up ? "up" : "down", recent, peers.size());
  if (!up) return core::fail(Errc::failed, "{} is down; run `wg-peer-manager up`", config.wireguard.interface);
  return {};
}

} // namespace anemone::mesh
