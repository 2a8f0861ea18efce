#include "anemone/mesh/codes.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "anemone/core/bytes.hpp"
#include "anemone/core/net.hpp"
#include "anemone/crypto/aead.hpp"
#include "anemone/peers/accounts.hpp"

namespace anemone::mesh {

using core::Errc;
using nlohmann::json;

namespace {

constexpr int k_version = 1;
constexpr std::string_view k_invite_context = "anemone-invite-v1\n";
constexpr std::string_view k_reply_context = "anemone-reply-v1\n";

json card_json(const SiteCard& card) {
  return {{"name", card.name},
          {"wg", card.wg_public},
          {"endpoint", card.endpoint ? json(*card.endpoint) : json(nullptr)},
          {"addr", card.vpn_address},
          {"subnet", card.subnet},
          {"ssh_host_key", card.ssh_host_key},
          {"ssh_user_key", card.ssh_user_key},
          {"signing_key", card.signing_key},
          {"sftp_port", card.sftp_port},
          {"sftp_user", card.sftp_user}};
}

json invitation_json(const Invitation& invitation) {
  json doc = card_json(invitation.from);
  doc["v"] = k_version;
  doc["for"] = invitation.for_name;
  doc["id"] = invitation.id;
  doc["secret"] = base64url_encode(invitation.secret);
  doc["expires"] = invitation.expires_s;
  return doc;
}

json reply_json_without_proof(const Reply& reply) {
  json doc = card_json(reply.from);
  doc["v"] = k_version;
  doc["invitation"] = reply.invitation_id;
  return doc;
}

core::Bytes proof_of(const Reply& reply, core::ByteView secret) {
  std::string body = reply_json_without_proof(reply).dump();
  auto key = crypto::SecretBytes::copy_of(secret);
  auto hash = crypto::keyed_hash(key, core::as_bytes(body));
  return core::Bytes(hash.begin(), hash.end());
}

std::string sign_and_wrap(std::string_view prefix, std::string_view context, const json& payload, const SigningKey& key) {
  std::string body = payload.dump();
  std::string signed_text = std::string(context) + body;
  auto signature = sign(key, core::as_bytes(signed_text));
  return std::string(prefix) + base64url_encode(core::as_bytes(body)) + "." + base64url_encode(signature);
}

core::Result<void> bad(std::string_view kind, std::string_view why) {
  return core::fail(Errc::usage, "this {} code is not valid: {}", kind, why);
}

// Splits, decodes and verifies the signature with the signing key the payload names.
core::Result<json> unwrap(std::string_view code, std::string_view prefix, std::string_view context,
                          std::string_view kind, std::string_view other_prefix) {
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.back()))) code.remove_suffix(1);
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.front()))) code.remove_prefix(1);
  if (code.size() > k_max_code_length)
    return core::fail(Errc::usage, "this is not an anemone {} code: {} characters, far longer than one", kind, code.size());
  if (code.substr(0, other_prefix.size()) == other_prefix)
    return core::fail(Errc::usage, "{}", other_prefix == k_reply_prefix
                          ? "this is a reply code, not an invitation: give it to `wg-peer-manager accept` on the site that invited"
                          : "this is an invitation code, not a reply: give it to `wg-peer-manager join` on the invited site");
  if (code.substr(0, prefix.size()) != prefix)
    return core::fail(Errc::usage, "this is not an anemone {} code (it should start with {})", kind, prefix);
  code.remove_prefix(prefix.size());
  size_t dot = code.find('.');
  if (dot == std::string_view::npos) return tl::unexpected(bad(kind, "it is cut short (no signature)").error());
  auto body = base64url_decode(code.substr(0, dot));
  auto signature = base64url_decode(code.substr(dot + 1));
  if (!body || !signature)
    return tl::unexpected(bad(kind, "it holds characters a code never has (was it changed or cut?)").error());
  json doc = json::parse(body->begin(), body->end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return tl::unexpected(bad(kind, "its content does not parse (was it changed or cut?)").error());
  if (!doc.contains("signing_key") || !doc["signing_key"].is_string())
    return tl::unexpected(bad(kind, "it names no signing key").error());
  std::string signed_text = std::string(context) + std::string(body->begin(), body->end());
  if (!verify_signature(doc["signing_key"].get<std::string>(), core::as_bytes(signed_text), *signature))
    return core::fail(Errc::usage, "this {} code's signature does not verify: it was changed or mistyped", kind);
  if (!doc.contains("v") || !doc["v"].is_number_integer() || doc["v"].get<int>() != k_version)
    return tl::unexpected(bad(kind, "it is of another version of anemone").error());
  return doc;
}

// Field readers: each names the field it rejects.
struct Fields {
  const json& doc;
  std::string_view kind;
  std::vector<std::string> seen;

  core::Result<const json*> get(const std::string& key) {
    seen.push_back(key);
    auto it = doc.find(key);
    if (it == doc.end()) return core::fail(Errc::usage, "this {} code is not valid: field '{}' is missing", kind, key);
    return &*it;
  }
  core::Error wrong(const std::string& key, std::string_view why) {
    return core::Error(Errc::usage, fmt::format("this {} code is not valid: field '{}' {}", kind, key, why));
  }
  core::Result<std::string> string(const std::string& key, size_t max = 512) {
    const json* value = TRY(get(key));
    if (!value->is_string() || value->get_ref<const std::string&>().size() > max)
      return tl::unexpected(wrong(key, "is not a short string"));
    return value->get<std::string>();
  }
  core::Result<int64_t> integer(const std::string& key, int64_t min, int64_t max) {
    const json* value = TRY(get(key));
    if (!value->is_number_integer() || value->get<int64_t>() < min || value->get<int64_t>() > max)
      return tl::unexpected(wrong(key, fmt::format("is not a whole number from {} to {}", min, max)));
    return value->get<int64_t>();
  }
  core::Result<core::Bytes> bytes32(const std::string& key) {
    std::string text = TRY(string(key, 64));
    auto bytes = base64url_decode(text);
    if (!bytes || bytes->size() != 32) return tl::unexpected(wrong(key, "is not 32 bytes"));
    return std::move(*bytes);
  }
  core::Result<void> no_others() {
    for (auto it = doc.begin(); it != doc.end(); ++it)
      if (std::find(seen.begin(), seen.end(), it.key()) == seen.end())
        return tl::unexpected(wrong(it.key(), "is unknown (a newer anemone?)"));
    return {};
  }
};

core::Result<SiteCard> read_card(Fields& fields) {
  SiteCard card;
  card.name = TRY(fields.string("name", 64));
  if (!peers::validate_account_name(card.name)) return tl::unexpected(fields.wrong("name", "is not a site name ([a-z0-9-], 1 to 32)"));
  card.wg_public = TRY(fields.string("wg", 64));
  if (!validate_wireguard_key(card.wg_public)) return tl::unexpected(fields.wrong("wg", "is not a WireGuard public key"));
  const json* endpoint = TRY(fields.get("endpoint"));
  if (!endpoint->is_null()) {
    std::string text = TRY(fields.string("endpoint", 300));
    auto parsed = core::parse_endpoint(text);
    if (!parsed || parsed->str() != text) return tl::unexpected(fields.wrong("endpoint", "is not HOST:PORT"));
    card.endpoint = text;
  }
  card.subnet = TRY(fields.string("subnet", 32));
  auto subnet = core::parse_ipv4_net(card.subnet);
  if (!subnet || subnet->str() != card.subnet || subnet->prefix < 8 || subnet->prefix > 30)
    return tl::unexpected(fields.wrong("subnet", "is not an IPv4 subnet from /8 to /30"));
  card.vpn_address = TRY(fields.string("addr", 32));
  auto address = core::parse_ipv4(card.vpn_address);
  if (!address || !subnet->is_host(*address))
    return tl::unexpected(fields.wrong("addr", "is not a host address inside the subnet"));
  for (const char* key : {"ssh_host_key", "ssh_user_key"}) {
    std::string text = TRY(fields.string(key, 200));
    auto normalized = peers::normalize_ed25519_key(text);
    if (!normalized || *normalized != text) return tl::unexpected(fields.wrong(key, "is not an ssh-ed25519 public key"));
    (std::string_view(key) == "ssh_host_key" ? card.ssh_host_key : card.ssh_user_key) = text;
  }
  card.signing_key = TRY(fields.string("signing_key", 64));
  if (!validate_signing_key(card.signing_key)) return tl::unexpected(fields.wrong("signing_key", "is not an Ed25519 key"));
  card.sftp_port = static_cast<int>(TRY(fields.integer("sftp_port", 1, 65535)));
  card.sftp_user = TRY(fields.string("sftp_user", 64));
  if (!peers::validate_account_name(card.sftp_user))
    return tl::unexpected(fields.wrong("sftp_user", "is not an account name ([a-z0-9-], 1 to 32)"));
  return card;
}

bool is_hex_id(const std::string& text) {
  if (text.size() != 32) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

} // namespace

std::string encode_invitation(const Invitation& invitation, const SigningKey& key) {
  return sign_and_wrap(k_invite_prefix, k_invite_context, invitation_json(invitation), key);
}

std::string encode_reply(const Reply& reply, const SigningKey& key, core::ByteView invitation_secret) {
  Reply proven = reply;
  proven.proof = proof_of(reply, invitation_secret);
  json doc = reply_json_without_proof(proven);
  doc["proof"] = base64url_encode(proven.proof);
  return sign_and_wrap(k_reply_prefix, k_reply_context, doc, key);
}

core::Result<Invitation> decode_invitation(std::string_view code) {
  json doc = TRY(unwrap(code, k_invite_prefix, k_invite_context, "invitation", k_reply_prefix));
  Fields fields{doc, "invitation", {"v"}};
  Invitation invitation;
  invitation.from = TRY(read_card(fields));
  invitation.for_name = TRY(fields.string("for", 64));
  if (!peers::validate_account_name(invitation.for_name))
    return tl::unexpected(fields.wrong("for", "is not a site name ([a-z0-9-], 1 to 32)"));
  invitation.id = TRY(fields.string("id", 64));
  if (!is_hex_id(invitation.id)) return tl::unexpected(fields.wrong("id", "is not 32 hex characters"));
  invitation.secret = TRY(fields.bytes32("secret"));
  invitation.expires_s = TRY(fields.integer("expires", 0, int64_t{1} << 40));
  TRY(fields.no_others());
  return invitation;
}

core::Result<Reply> decode_reply(std::string_view code) {
  json doc = TRY(unwrap(code, k_reply_prefix, k_reply_context, "reply", k_invite_prefix));
  Fields fields{doc, "reply", {"v"}};
  Reply reply;
  reply.from = TRY(read_card(fields));
  reply.invitation_id = TRY(fields.string("invitation", 64));
  if (!is_hex_id(reply.invitation_id)) return tl::unexpected(fields.wrong("invitation", "is not 32 hex characters"));
  reply.proof = TRY(fields.bytes32("proof"));
  TRY(fields.no_others());
  return reply;
}

bool check_proof(const Reply& reply, core::ByteView invitation_secret) {
  auto expected = proof_of(reply, invitation_secret);
  return expected.size() == reply.proof.size() &&
         sodium_memcmp(expected.data(), reply.proof.data(), expected.size()) == 0;
}

} // namespace anemone::mesh
