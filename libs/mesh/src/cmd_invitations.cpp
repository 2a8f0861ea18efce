// invite, join, accept, invitations, revoke: the three-step exchange that makes two sites peers.
#include <sodium.h>

#include <nlohmann/json.hpp>

#include "anemone/core/bytes.hpp"
#include "anemone/core/output.hpp"
#include "anemone/core/time.hpp"
#include "anemone/mesh/commands.hpp"
#include "anemone/mesh/peer_setup.hpp"
#include "anemone/peers/accounts.hpp"

namespace anemone::mesh {

using core::Errc;
using nlohmann::json;

namespace {

SiteCard own_card(const Identity& identity, const std::string& account_for_other) {
  return {identity.name,         identity.wg_public,    identity.endpoint,           identity.address.str(),
          identity.subnet.str(), identity.ssh_host_key, identity.ssh_user_key,       identity.signing.public_b64,
          identity.sftp_port,    account_for_other};
}

int64_t now_s() { return core::now_ns() / 1'000'000'000; }

core::Result<uint64_t> quota_of(const config::Config& config, const std::optional<std::string>& text) {
  if (!text) return config.sftp.default_quota;
  auto size = core::parse_size(*text);
  if (!size || *size == 0) return core::fail(Errc::usage, "--quota: expected a size like 50G or 512M, got '{}'", *text);
  return *size;
}

void print_setup(const SetupReport& report) {
  for (const auto& change : report.changes) core::print_line("  {}", change);
  if (!report.tunnel_applied) core::print_line("  (the WireGuard interface is down: `wg-peer-manager up` applies the tunnel)");
}

} // namespace

core::Result<int64_t> parse_duration_seconds(std::string_view text) {
  auto bad = [&] { return core::fail(Errc::usage, "'{}' is not a duration (like 90s, 30m, 24h or 7d)", text); };
  if (text.size() < 2) return bad();
  int64_t unit = 0;
  switch (text.back()) {
  case 's': unit = 1; break;
  case 'm': unit = 60; break;
  case 'h': unit = 3600; break;
  case 'd': unit = 86400; break;
  default: return bad();
  }
  int64_t value = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9' || value > 1'000'000) return bad();
    value = value * 10 + (c - '0');
  }
  if (value == 0) return bad();
  return value * unit;
}

core::Result<void> cmd_invite(const config::Config& config, const InviteOptions& options) {
  TRY_CTX(peers::validate_account_name(options.name), "the invited site's name");
  int64_t lifetime = TRY_CTX(parse_duration_seconds(options.expires), "--expires");
  uint64_t quota = TRY(quota_of(config, options.quota));
  std::vector<std::string> allowed;
  for (const auto& text : options.allowed_ips) allowed.push_back(TRY_CTX(core::parse_cidr(text), "--allowed-ips").str());
  auto db = TRY(state::Db::open(config.state_path));
  auto identity = TRY(load_identity(config, db));
  if (options.name == identity.name) return core::fail(Errc::usage, "'{}' is this site's own name", options.name);
  if (TRY(find_peer(db, options.name))) return core::fail(Errc::usage, "a peer named '{}' already exists", options.name);

  Invitation invitation;
  invitation.from = own_card(identity, TRY(account_name_for(config, options.name)));
  invitation.for_name = options.name;
  uint8_t id[16];
  randombytes_buf(id, sizeof id);
  invitation.id = core::to_hex(core::ByteView(id, sizeof id));
  invitation.secret.resize(32);
  randombytes_buf(invitation.secret.data(), invitation.secret.size());
  invitation.expires_s = now_s() + lifetime;
  TRY(insert_invitation(db, {invitation.id, options.name, invitation.secret, quota, allowed, core::now_ns(),
                             invitation.expires_s * 1'000'000'000, "open"}));
  std::string code = encode_invitation(invitation, identity.signing);
  if (options.json) {
    core::print_json(json{{"code", code}, {"id", invitation.id}, {"for", options.name},
                          {"expires", core::format_utc(invitation.expires_s * 1'000'000'000)}});
  } else {
    core::print_line("{}", code);
    std::fprintf(stderr, "Invitation %s for %s, valid until %s. On %s run:\n  wg-peer-manager join '<the code above>'\n",
                 invitation.id.c_str(), options.name.c_str(), core::format_utc(invitation.expires_s * 1'000'000'000).c_str(),
                 options.name.c_str());
  }
  return {};
}

core::Result<void> cmd_join(const config::Config& config, const std::string& code, bool json_out) {
  auto invitation = TRY(decode_invitation(code));
  auto db = TRY(state::Db::open(config.state_path));
  auto identity = TRY(load_identity(config, db));
  if (invitation.for_name != identity.name)
    return core::fail(Errc::usage, "this invitation is for '{}', but this site is '{}'", invitation.for_name, identity.name);
  if (invitation.expires_s < now_s())
    return core::fail(Errc::usage, "this invitation expired at {}; ask {} for a new one",
                      core::format_utc(invitation.expires_s * 1'000'000'000), invitation.from.name);
  std::string account = TRY(account_name_for(config, invitation.from.name));
  auto report = TRY(setup_peer(config, db, identity, invitation.from, config.sftp.default_quota, {}));
  Reply reply{own_card(identity, account), invitation.id, {}};
  std::string reply_code = encode_reply(reply, identity.signing, invitation.secret);
  if (json_out) {
    core::print_json(json{{"reply", reply_code}, {"peer", invitation.from.name}, {"changes", report.changes},
                          {"tunnel_applied", report.tunnel_applied}});
    return {};
  }
  core::print_line("{}", reply_code);
  std::fprintf(stderr, "Joined %s. On %s run:\n  wg-peer-manager accept '<the reply above>'\n",
               invitation.from.name.c_str(), invitation.from.name.c_str());
  return {};
}

core::Result<void> cmd_accept(const config::Config& config, const std::string& code, bool json_out) {
  auto reply = TRY(decode_reply(code));
  auto db = TRY(state::Db::open(config.state_path));
  auto identity = TRY(load_identity(config, db));
  auto stored = TRY(find_invitation(db, reply.invitation_id));
  if (!stored)
    return core::fail(Errc::usage, "this reply answers invitation {}, which this site did not issue", reply.invitation_id);
  if (!check_proof(reply, stored->secret))
    return core::fail(Errc::usage, "this reply does not prove it saw invitation {}'s code; it was not made from it",
                      reply.invitation_id);
  if (stored->state == "used")
    return core::fail(Errc::usage, "invitation {} was already used; a reply is accepted once", stored->id);
  if (stored->state == "revoked") return core::fail(Errc::usage, "invitation {} was revoked", stored->id);
  if (stored->expires_ns < core::now_ns())
    return core::fail(Errc::usage, "invitation {} expired at {}", stored->id, core::format_utc(stored->expires_ns));
  if (reply.from.name != stored->peer_name)
    return core::fail(Errc::usage, "this reply comes from '{}', but invitation {} was for '{}'", reply.from.name,
                      stored->id, stored->peer_name);
  std::string id = stored->id;
  auto report = TRY(setup_peer(config, db, identity, reply.from, stored->quota_bytes, stored->allowed_ips,
                               [&]() { return set_invitation_state(db, id, "used"); }));
  if (json_out) {
    core::print_json(json{{"peer", reply.from.name}, {"changes", report.changes}, {"tunnel_applied", report.tunnel_applied}});
    return {};
  }
  core::print_line("{} is now a peer:", reply.from.name);
  print_setup(report);
  return {};
}

core::Result<void> cmd_invitations(const config::Config& config, bool json_out) {
  auto db = TRY(state::Db::open(config.state_path));
  auto invitations = TRY(list_invitations(db));
  json list = json::array();
  for (const auto& inv : invitations) {
    std::string state = inv.state == "open" && inv.expires_ns < core::now_ns() ? "expired" : inv.state;
    list.push_back({{"id", inv.id}, {"for", inv.peer_name}, {"state", state}, {"quota_bytes", inv.quota_bytes},
                    {"allowed_ips", inv.allowed_ips}, {"created", core::format_utc(inv.created_ns)},
                    {"expires", core::format_utc(inv.expires_ns)}});
    if (!json_out)
      core::print_line("{}  {:<20} {:<8} expires {}", inv.id, inv.peer_name, state, core::format_utc(inv.expires_ns));
  }
  if (json_out) core::print_json(list);
  else if (invitations.empty()) core::print_line("no invitations");
  return {};
}

core::Result<void> cmd_revoke(const config::Config& config, const std::string& id) {
  auto db = TRY(state::Db::open(config.state_path));
  auto stored = TRY(find_invitation(db, id));
  if (!stored) return core::fail(Errc::not_found, "no invitation {}", id);
  if (stored->state == "used") return core::fail(Errc::usage, "invitation {} was already used; remove the peer instead", id);
  TRY(set_invitation_state(db, id, "revoked"));
  core::print_line("invitation {} for {} revoked", id, stored->peer_name);
  return {};
}

} // namespace anemone::mesh
