// Invitation and reply codes: round trips, and each way a code can be wrong refused with its own
// message before any field is used.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include "anemone/mesh/codes.hpp"

using namespace anemone;

namespace {

std::string ssh_key(uint8_t seed) {
  // A well-formed ssh-ed25519 line: string "ssh-ed25519" then a 32-byte key, each length-prefixed.
  core::Bytes blob = {0, 0, 0, 11};
  for (char c : std::string("ssh-ed25519")) blob.push_back(static_cast<uint8_t>(c));
  blob.insert(blob.end(), {0, 0, 0, 32});
  for (int i = 0; i < 32; ++i) blob.push_back(static_cast<uint8_t>(seed + i));
  return "ssh-ed25519 " + mesh::base64_encode(blob);
}

mesh::SiteCard card(const std::string& name, const mesh::SigningKey& key, uint8_t seed) {
  return {name,
          mesh::wireguard_public(mesh::generate_wireguard_private()),
          std::string("192.0.2.") + std::to_string(seed) + ":51820",
          "198.18.0." + std::to_string(seed),
          "198.18.0.0/15",
          ssh_key(seed),
          ssh_key(static_cast<uint8_t>(seed + 100)),
          key.public_b64,
          22222,
          "peer-" + name};
}

mesh::Invitation invitation_from(const mesh::SigningKey& key) {
  mesh::Invitation invitation;
  invitation.from = card("site-a", key, 1);
  invitation.for_name = "site-b";
  invitation.id = std::string(32, 'a');
  invitation.secret = core::Bytes(32, 7);
  invitation.expires_s = 2'000'000'000;
  return invitation;
}

// Re-signs a tampered payload, as someone holding their own signing key would.
std::string resign(const std::string& prefix, const std::string& context, nlohmann::json doc, const mesh::SigningKey& key) {
  doc["signing_key"] = key.public_b64;
  std::string body = doc.dump();
  auto signature = mesh::sign(key, core::as_bytes(context + body));
  return prefix + mesh::base64url_encode(core::as_bytes(body)) + "." + mesh::base64url_encode(signature);
}

nlohmann::json payload_of(const std::string& code, size_t prefix_length) {
  auto dot = code.find('.');
  auto body = mesh::base64url_decode(code.substr(prefix_length, dot - prefix_length));
  REQUIRE(body);
  return nlohmann::json::parse(body->begin(), body->end());
}

std::string error_of(const core::Result<mesh::Invitation>& result) {
  REQUIRE_FALSE(result);
  return result.error().message();
}

} // namespace

TEST_CASE("codes: an invitation and its reply round-trip; the proof binds the reply to the secret", "[mesh][codes]") {
  auto a_key = mesh::generate_signing_key();
  auto b_key = mesh::generate_signing_key();
  auto invitation = invitation_from(a_key);
  std::string code = mesh::encode_invitation(invitation, a_key);
  CHECK(code.rfind("anemone-invite:", 0) == 0);
  CHECK(code.size() < mesh::k_max_code_length);
  auto decoded = mesh::decode_invitation("  " + code + "\n"); // pasted with whitespace
  REQUIRE(decoded);
  CHECK(decoded->from.name == "site-a");
  CHECK(decoded->from.endpoint == invitation.from.endpoint);
  CHECK(decoded->secret == invitation.secret);
  CHECK(decoded->for_name == "site-b");

  mesh::Reply reply{card("site-b", b_key, 2), invitation.id, {}};
  std::string reply_code = mesh::encode_reply(reply, b_key, invitation.secret);
  auto back = mesh::decode_reply(reply_code);
  REQUIRE(back);
  CHECK(back->from.name == "site-b");
  CHECK(mesh::check_proof(*back, invitation.secret));
  CHECK_FALSE(mesh::check_proof(*back, core::Bytes(32, 8))); // another invitation's secret

  // A reply made without the secret (someone who only saw the reply of another) fails the proof.
  std::string forged = mesh::encode_reply(reply, b_key, core::Bytes(32, 9));
  CHECK_FALSE(mesh::check_proof(*mesh::decode_reply(forged), invitation.secret));
}

TEST_CASE("codes: every kind of bad code has its own clear message", "[mesh][codes]") {
  auto key = mesh::generate_signing_key();
  auto invitation = invitation_from(key);
  std::string code = mesh::encode_invitation(invitation, key);
  const size_t prefix = mesh::k_invite_prefix.size();

  CHECK(error_of(mesh::decode_invitation("hello")).find("is not an anemone invitation code") != std::string::npos);
  CHECK(error_of(mesh::decode_invitation(code.substr(0, code.find('.')))).find("cut short") != std::string::npos);
  std::string flipped = code;
  flipped[prefix + 30] = flipped[prefix + 30] == 'A' ? 'B' : 'A';
  auto flipped_error = error_of(mesh::decode_invitation(flipped));
  CHECK((flipped_error.find("signature does not verify") != std::string::npos ||
         flipped_error.find("does not parse") != std::string::npos));
  std::string bad_signature = code;
  bad_signature[code.size() - 5] = bad_signature[code.size() - 5] == 'A' ? 'B' : 'A';
  CHECK(error_of(mesh::decode_invitation(bad_signature)).find("signature does not verify") != std::string::npos);
  CHECK(error_of(mesh::decode_invitation(code + code)).find("characters a code never has") != std::string::npos);
  CHECK(error_of(mesh::decode_invitation(std::string(5000, 'x'))).find("far longer") != std::string::npos);

  mesh::Reply reply{card("site-b", key, 2), invitation.id, {}};
  CHECK(error_of(mesh::decode_invitation(mesh::encode_reply(reply, key, invitation.secret))).find("this is a reply code") !=
        std::string::npos);
  auto as_reply = mesh::decode_reply(code);
  REQUIRE_FALSE(as_reply);
  CHECK(as_reply.error().message().find("this is an invitation code") != std::string::npos);

  // Validly signed, but a field is wrong: each named.
  auto doc = payload_of(code, prefix);
  auto with = [&](const std::string& field, nlohmann::json value) {
    auto changed = doc;
    if (value.is_discarded()) changed.erase(field);
    else changed[field] = value;
    return error_of(mesh::decode_invitation(resign("anemone-invite:", "anemone-invite-v1\n", changed, key)));
  };
  CHECK(with("name", "Site A; rm -rf /").find("field 'name' is not a site name") != std::string::npos);
  CHECK(with("wg", "not a key").find("field 'wg' is not a WireGuard public key") != std::string::npos);
  CHECK(with("endpoint", "example.org").find("field 'endpoint' is not HOST:PORT") != std::string::npos);
  CHECK(with("addr", "10.0.0.1").find("field 'addr' is not a host address inside the subnet") != std::string::npos);
  CHECK(with("addr", "198.18.0.0").find("field 'addr'") != std::string::npos); // the network address
  CHECK(with("subnet", "198.18.0.1/15").find("field 'subnet'") != std::string::npos);
  CHECK(with("ssh_host_key", "ssh-rsa AAAA").find("field 'ssh_host_key' is not an ssh-ed25519 public key") !=
        std::string::npos);
  CHECK(with("sftp_port", 70000).find("field 'sftp_port' is not a whole number from 1 to 65535") != std::string::npos);
  CHECK(with("id", "../../etc").find("field 'id' is not 32 hex characters") != std::string::npos);
  CHECK(with("secret", "short").find("field 'secret'") != std::string::npos);
  CHECK(with("expires", nlohmann::json::value_t::discarded).find("field 'expires' is missing") != std::string::npos);
  CHECK(with("extra", 1).find("field 'extra' is unknown") != std::string::npos);
  CHECK(with("v", 2).find("another version") != std::string::npos);
}
