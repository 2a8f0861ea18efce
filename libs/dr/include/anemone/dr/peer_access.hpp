#pragma once
// How a site without its keys reaches a peer: the peer's public SFTP port (the tunnel does not
// exist yet), a host key a person confirmed, and the recovery key, which the peer accepts for this
// site's account only, read-only.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "anemone/core/error.hpp"
#include "anemone/core/net.hpp"
#include "anemone/dr/naming.hpp"
#include "anemone/dr/recovery_key.hpp"
#include "anemone/ssh/sftp_session.hpp"

namespace anemone::dr {

inline constexpr int k_default_sftp_port = 22222;
inline constexpr std::string_view k_remote_config_dir = "/config";

// HOST or HOST:PORT ([v6]:PORT); the port defaults to the receiver's default.
core::Result<core::Endpoint> parse_peer_address(std::string_view text);

// Fetches the peer's host key and has it confirmed: by `expected` (a key line "ssh-ed25519 AAAA…" or
// its fingerprint "SHA256:…"), else by a person at the terminal. Without either it fails, printing
// the key and how to confirm it. Returns the confirmed key line.
core::Result<std::string> confirm_host_key(const core::Endpoint& peer, const std::optional<std::string>& expected);

// A read-only session as `user` with the recovery key; Errc::auth with what may be wrong.
core::Result<std::unique_ptr<ssh::SftpSession>> recovery_session(const core::Endpoint& peer, const std::string& host_key,
                                                                 const std::string& user, const RecoveryKey& key);

// The config backups of `site` in `dir` of a session, oldest first.
core::Result<std::vector<NamedBackup>> list_remote_backups(ssh::SftpSession& session, std::string_view site,
                                                           std::string_view dir = k_remote_config_dir);

} // namespace anemone::dr
