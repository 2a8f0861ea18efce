// init and show: this site's identity.
#include <nlohmann/json.hpp>

#include "anemone/core/output.hpp"
#include "anemone/mesh/commands.hpp"
#include "anemone/mesh/identity.hpp"

namespace anemone::mesh {

using nlohmann::json;

namespace {

json identity_json(const Identity& identity) {
  return {{"name", identity.name},
          {"wireguard_public_key", identity.wg_public},
          {"vpn_address", identity.address.str()},
          {"subnet", identity.subnet.str()},
          {"endpoint", identity.endpoint ? json(*identity.endpoint) : json(nullptr)},
          {"ssh_user_key", identity.ssh_user_key},
          {"ssh_host_key", identity.ssh_host_key},
          {"signing_key", identity.signing.public_b64},
          {"sftp_port", identity.sftp_port}};
}

} // namespace

core::Result<void> cmd_init(const config::Config& config, const std::optional<std::string>& endpoint, bool json_out) {
  auto db = TRY(state::Db::open(config.state_path));
  auto report = TRY(init_identity(config, db, endpoint));
  auto identity = TRY(load_identity(config, db));
  if (json_out) {
    json out = identity_json(identity);
    out["created"] = report.created;
    core::print_json(out);
    return {};
  }
  for (const auto& item : report.created) core::print_line("created {}", item);
  if (report.created.empty()) core::print_line("{}: every key was already there; nothing changed", identity.name);
  core::print_line("{}: VPN address {}, WireGuard public key {}", identity.name, identity.address.str(), identity.wg_public);
  return {};
}

core::Result<void> cmd_show(const config::Config& config, bool json_out) {
  auto db = TRY(state::Db::open(config.state_path));
  auto identity = TRY(load_identity(config, db));
  if (json_out) {
    core::print_json(identity_json(identity));
    return {};
  }
  core::print_line("name:          {}", identity.name);
  core::print_line("wireguard key: {}", identity.wg_public);
  core::print_line("vpn address:   {} (subnet {})", identity.address.str(), identity.subnet.str());
  core::print_line("endpoint:      {}", identity.endpoint.value_or("(none: peers cannot reach us first; we reach them)"));
  core::print_line("ssh user key:  {}", identity.ssh_user_key);
  core::print_line("ssh host key:  {}", identity.ssh_host_key);
  core::print_line("signing key:   {}", identity.signing.public_b64);
  core::print_line("sftp port:     {}", identity.sftp_port);
  return {};
}

} // namespace anemone::mesh
