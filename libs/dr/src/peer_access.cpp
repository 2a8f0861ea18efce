#include "anemone/dr/peer_access.hpp"

#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace anemone::dr {

using core::Errc;
using core::fail;

core::Result<core::Endpoint> parse_peer_address(std::string_view text) {
  if (auto full = core::parse_endpoint(text)) return *full;
  std::string with_port = (text.find(':') != std::string_view::npos && !text.starts_with("["))
                              ? fmt::format("[{}]:{}", text, k_default_sftp_port)
                              : fmt::format("{}:{}", text, k_default_sftp_port);
  auto endpoint = core::parse_endpoint(with_port);
  if (!endpoint) return fail(Errc::usage, "--peer: expected HOST or HOST:PORT like 192.0.2.10:22222, got '{}'", text);
  return *endpoint;
}

core::Result<std::string> confirm_host_key(const core::Endpoint& peer, const std::optional<std::string>& expected) {
  std::string offered = TRY(ssh::fetch_host_key(peer.host, peer.port));
  std::string offered_fingerprint = ssh::fingerprint(TRY(ssh::public_key_blob(offered)));
  if (expected) {
    std::string wanted = *expected;
    if (!wanted.starts_with("SHA256:")) {
      auto blob = ssh::public_key_blob(wanted);
      if (!blob) return fail(Errc::usage, "--host-key: expected 'ssh-ed25519 AAAA…' or 'SHA256:…', got '{}'", wanted);
      wanted = ssh::fingerprint(*blob);
    }
    if (wanted != offered_fingerprint)
      return fail(Errc::auth,
                  "host key mismatch: {} offers {}, but --host-key is {}; refusing to connect (check the key on the "
                  "peer with `wg-peer-manager show`)",
                  peer.str(), offered_fingerprint, wanted);
    return offered;
  }
  std::fprintf(stderr, "The peer %s offers this host key:\n  %s\n  %s\n", peer.str().c_str(), offered.c_str(),
               offered_fingerprint.c_str());
  if (::isatty(STDIN_FILENO) != 1)
    return fail(Errc::usage,
                "the peer's host key is not confirmed: compare it with the peer's (`wg-peer-manager show` there), "
                "then pass it with --host-key '{}'",
                offered);
  std::fprintf(stderr, "Is this the peer's key (compare with `wg-peer-manager show` on the peer)? [yes/no] ");
  std::fflush(stderr);
  std::string answer;
  std::getline(std::cin, answer);
  if (answer != "yes" && answer != "y") return fail(Errc::auth, "the host key of {} was not confirmed", peer.str());
  return offered;
}

core::Result<std::unique_ptr<ssh::SftpSession>> recovery_session(const core::Endpoint& peer, const std::string& host_key,
                                                                 const std::string& user, const RecoveryKey& key) {
  ssh::SshTarget target;
  target.host = peer.host;
  target.port = peer.port;
  target.user = user;
  target.host_key = host_key;
  target.identity_key = key.private_text.view().first(key.private_text.size() - 1); // without the NUL
  auto session = ssh::SftpSession::connect(target);
  if (!session && session.error().code() == Errc::auth && session.error().message().find("host key") == std::string::npos)
    return fail(Errc::auth,
                "{} refused the recovery key for account '{}': the passphrase or the site's name is wrong, the "
                "account is another (--user), or the peer never received this site's recovery key (it travels "
                "with the site's config backups)",
                peer.str(), user);
  return session;
}

core::Result<std::vector<NamedBackup>> list_remote_backups(ssh::SftpSession& session, std::string_view site,
                                                           std::string_view dir) {
  auto entries = session.list_directory(std::string(dir));
  if (!entries) {
    if (entries.error().code() == Errc::not_found) return std::vector<NamedBackup>{};
    return tl::unexpected(entries.error());
  }
  std::vector<std::pair<std::string, uint64_t>> names;
  for (const auto& entry : *entries)
    if (entry.regular) names.emplace_back(entry.name, entry.size);
  return backups_of_site(names, site);
}

} // namespace anemone::dr
