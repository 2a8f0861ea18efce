#include "anemone/mesh/store.hpp"

#include <filesystem>

#include <fmt/ranges.h>

#include "anemone/mesh/identity.hpp"

namespace anemone::mesh {

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

constexpr std::string_view k_peer_columns =
    "name, wg_public, endpoint, vpn_address, allowed_ips, ssh_host_key, ssh_user_key, signing_key, sftp_port, "
    "sftp_user, created_ns";

Peer read_peer(const state::Stmt& stmt) {
  Peer peer;
  peer.card.name = stmt.column_text(0);
  peer.card.wg_public = stmt.column_text(1);
  if (!stmt.column_is_null(2)) peer.card.endpoint = stmt.column_text(2);
  peer.card.vpn_address = stmt.column_text(3);
  peer.allowed_ips = split_list(stmt.column_text(4));
  peer.card.ssh_host_key = stmt.column_text(5);
  peer.card.ssh_user_key = stmt.column_text(6);
  peer.card.signing_key = stmt.column_text(7);
  peer.card.sftp_port = static_cast<int>(stmt.column_int(8));
  peer.card.sftp_user = stmt.column_text(9);
  peer.created_ns = stmt.column_int(10);
  return peer;
}

constexpr std::string_view k_invitation_columns =
    "id, peer_name, secret, quota_bytes, allowed_ips, created_ns, expires_ns, state";

StoredInvitation read_invitation(const state::Stmt& stmt) {
  return {stmt.column_text(0),
          stmt.column_text(1),
          stmt.column_blob(2),
          static_cast<uint64_t>(stmt.column_int(3)),
          split_list(stmt.column_text(4)),
          stmt.column_int(5),
          stmt.column_int(6),
          stmt.column_text(7)};
}

} // namespace

core::Result<std::vector<Peer>> list_peers(state::Db& db) {
  auto stmt = TRY(db.prepare(fmt::format("SELECT {} FROM mesh_peers ORDER BY name", k_peer_columns)));
  std::vector<Peer> peers;
  while (TRY(stmt.step())) peers.push_back(read_peer(stmt));
  return peers;
}

core::Result<std::optional<Peer>> find_peer(state::Db& db, const std::string& name) {
  auto stmt = TRY(db.prepare(fmt::format("SELECT {} FROM mesh_peers WHERE name = ?", k_peer_columns)));
  stmt.bind(1, name);
  if (!TRY(stmt.step())) return std::optional<Peer>();
  return std::optional<Peer>(read_peer(stmt));
}

core::Result<void> insert_peer(state::Db& db, const Peer& peer) {
  auto stmt = TRY(db.prepare(fmt::format("INSERT INTO mesh_peers({}) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", k_peer_columns)));
  const auto& card = peer.card;
  stmt.bind(1, card.name).bind(2, card.wg_public);
  if (card.endpoint) stmt.bind(3, *card.endpoint);
  else stmt.bind_null(3);
  stmt.bind(4, card.vpn_address).bind(5, fmt::format("{}", fmt::join(peer.allowed_ips, ",")));
  stmt.bind(6, card.ssh_host_key).bind(7, card.ssh_user_key).bind(8, card.signing_key);
  stmt.bind(9, int64_t{card.sftp_port}).bind(10, card.sftp_user).bind(11, peer.created_ns);
  return stmt.run();
}

core::Result<bool> delete_peer(state::Db& db, const std::string& name) {
  auto stmt = TRY(db.prepare("DELETE FROM mesh_peers WHERE name = ?"));
  stmt.bind(1, name);
  TRY(stmt.run());
  auto changes = TRY(db.prepare("SELECT changes()"));
  TRY(changes.step());
  return changes.column_int(0) > 0;
}

core::Result<void> insert_invitation(state::Db& db, const StoredInvitation& invitation) {
  auto stmt = TRY(db.prepare(fmt::format("INSERT INTO mesh_invitations({}) VALUES(?, ?, ?, ?, ?, ?, ?, ?)", k_invitation_columns)));
  stmt.bind(1, invitation.id).bind(2, invitation.peer_name).bind(3, core::ByteView(invitation.secret));
  stmt.bind(4, static_cast<int64_t>(invitation.quota_bytes)).bind(5, fmt::format("{}", fmt::join(invitation.allowed_ips, ",")));
  stmt.bind(6, invitation.created_ns).bind(7, invitation.expires_ns).bind(8, invitation.state);
  return stmt.run();
}

core::Result<std::optional<StoredInvitation>> find_invitation(state::Db& db, const std::string& id) {
  auto stmt = TRY(db.prepare(fmt::format("SELECT {} FROM mesh_invitations WHERE id = ?", k_invitation_columns)));
  stmt.bind(1, id);
  if (!TRY(stmt.step())) return std::optional<StoredInvitation>();
  return std::optional<StoredInvitation>(read_invitation(stmt));
}

core::Result<std::vector<StoredInvitation>> list_invitations(state::Db& db) {
  auto stmt = TRY(db.prepare(fmt::format("SELECT {} FROM mesh_invitations ORDER BY created_ns", k_invitation_columns)));
  std::vector<StoredInvitation> out;
  while (TRY(stmt.step())) out.push_back(read_invitation(stmt));
  return out;
}

core::Result<void> set_invitation_state(state::Db& db, const std::string& id, const std::string& state) {
  auto stmt = TRY(db.prepare("UPDATE mesh_invitations SET state = ? WHERE id = ?"));
  stmt.bind(1, state).bind(2, id);
  return stmt.run();
}

core::Result<std::vector<config::Target>> peer_targets(const config::Config& config) {
  std::vector<config::Target> targets;
  if (!std::filesystem::exists(config.state_path)) return targets;
  auto db = TRY(state::Db::open(config.state_path));
  for (const auto& peer : TRY(list_peers(db))) {
    config::Target target;
    target.name = peer.card.name;
    target.type = config::TargetType::sftp;
    target.host = peer.card.vpn_address;
    target.port = peer.card.sftp_port;
    target.user = peer.card.sftp_user;
    target.path = "/repo";
    target.identity_file = identity_files(config).ssh_user_key;
    target.host_key = peer.card.ssh_host_key;
    target.connections = 2;
    target.from_mesh = true;
    // A peer target keeps what a careful operator would: a week of dailies, a month of weeklies, a year of monthlies.
    target.retention.keep_daily = 7;
    target.retention.keep_weekly = 4;
    target.retention.keep_monthly = 12;
    targets.push_back(std::move(target));
  }
  return targets;
}

} // namespace anemone::mesh
