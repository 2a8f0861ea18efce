#pragma once
// This site's identity in the mesh: its keys under paths.secrets (0600), its VPN address and its
// endpoint. `init` creates what is missing and never replaces a key.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"
#include "anemone/core/net.hpp"
#include "anemone/crypto/secret.hpp"
#include "anemone/mesh/keys.hpp"
#include "anemone/state/db.hpp"

namespace anemone::mesh {

struct IdentityFiles {
  std::filesystem::path wireguard_key; // base64 private key, as `wg genkey` writes it
  std::filesystem::path ssh_user_key;  // OpenSSH ed25519 private key (usable with ssh -i); .pub beside it
  std::filesystem::path ssh_host_key;  // the receiver's host key (sftp-receiver-quota uses the same file)
  std::filesystem::path signing_key;   // base64 Ed25519 seed that signs invitation and reply codes
};
IdentityFiles identity_files(const config::Config& config);

struct Identity {
  std::string name;
  crypto::SecretBytes wg_private;
  std::string wg_public;
  std::string ssh_user_key;       // "ssh-ed25519 AAAA…" (no comment)
  std::filesystem::path ssh_user_key_file;
  std::string ssh_host_key;       // "ssh-ed25519 AAAA…"
  SigningKey signing;
  core::Ipv4Net subnet;
  core::Ipv4 address;
  std::optional<std::string> endpoint; // HOST:PORT
  int sftp_port = 0;
};

// The address a public key gets inside the subnet: a keyed hash of the key, never the network or
// broadcast address. Every site computes the same for every key, whoever invites whom.
core::Ipv4 derive_address(const core::Ipv4Net& subnet, std::string_view wg_public_b64);

struct InitReport {
  std::vector<std::string> created; // what this call made; empty when everything was there
};
// Creates the missing keys; records --endpoint when given (it overrides wireguard.endpoint).
core::Result<InitReport> init_identity(const config::Config& config, state::Db& db,
                                       const std::optional<std::string>& endpoint);
// Errc::not_found, naming `wg-peer-manager init`, when a key is missing.
core::Result<Identity> load_identity(const config::Config& config, state::Db& db);

} // namespace anemone::mesh
