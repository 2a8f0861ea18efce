#pragma once
// The invitation and reply codes: one pasteable line each, "anemone-invite:" or "anemone-reply:",
// then base64url(JSON payload) "." base64url(Ed25519 signature). Each is signed by its sender's
// signing key, which the payload carries; a reply also carries a proof — a keyed BLAKE2b of its
// payload under the invitation's secret — so only someone who saw the invitation can answer it.
// Decoding validates every field before anything uses it; each way a code can be wrong has its own
// message.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "anemone/core/error.hpp"
#include "anemone/crypto/secret.hpp"
#include "anemone/mesh/keys.hpp"

namespace anemone::mesh {

inline constexpr std::string_view k_invite_prefix = "anemone-invite:";
inline constexpr std::string_view k_reply_prefix = "anemone-reply:";
inline constexpr size_t k_max_code_length = 4096;

// What each side tells the other about itself.
struct SiteCard {
  std::string name;                    // [a-z0-9][a-z0-9-]{0,31}
  std::string wg_public;               // base64, 32 bytes
  std::optional<std::string> endpoint; // HOST:PORT; absent behind NAT
  std::string vpn_address;             // IPv4 inside `subnet`
  std::string subnet;                  // the mesh, e.g. 10.8.0.0/16; both sides must agree
  std::string ssh_host_key;            // "ssh-ed25519 AAAA…": its receiver, pinned by the other
  std::string ssh_user_key;            // "ssh-ed25519 AAAA…": how it logs into the other's receiver
  std::string signing_key;             // base64 Ed25519 public key
  int sftp_port = 0;                   // its receiver, reached over the tunnel
  std::string sftp_user;               // the account it keeps on its receiver for the other side
};

struct Invitation {
  SiteCard from;
  std::string for_name;  // the invited site's name
  std::string id;        // 32 hex characters
  core::Bytes secret;    // 32 bytes
  int64_t expires_s = 0; // Unix seconds
};

struct Reply {
  SiteCard from;
  std::string invitation_id;
  core::Bytes proof; // keyed BLAKE2b-256 of the payload without it, under the invitation's secret
};

std::string encode_invitation(const Invitation& invitation, const SigningKey& key);
std::string encode_reply(const Reply& reply, const SigningKey& key, core::ByteView invitation_secret);

// Errc::usage with a message naming what is wrong. Expiry and the proof are checked by the caller
// (they need the clock and the stored secret): see check_proof.
core::Result<Invitation> decode_invitation(std::string_view code);
core::Result<Reply> decode_reply(std::string_view code);
bool check_proof(const Reply& reply, core::ByteView invitation_secret);

} // namespace anemone::mesh
