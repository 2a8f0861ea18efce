#pragma once
// The recovery key: an Ed25519 SSH key that the passphrase gives back. A rebuilt site, which lost
// its SSH key with everything else, logs into its account on a peer with it: read-only, to fetch its
// config backups. Argon2id (the repository key files' moderate cost) over the passphrase gives the
// seed, salted with the site's name and the peer's host key (which the rebuilt site confirms before
// it logs in): one key per site and peer. Why this adds no weakness: docs/FORMAT.md.
#include <string>

#include "anemone/core/error.hpp"
#include "anemone/crypto/secret.hpp"

namespace anemone::dr {

inline constexpr std::string_view k_recovery_key_comment = "anemone-recovery";

struct RecoveryKey {
  std::string public_line;          // "ssh-ed25519 AAAA… anemone-recovery"
  crypto::SecretBytes private_text; // the OpenSSH private key file's text (unencrypted) and a NUL, for libssh2
};

// `peer_host_key`: the peer's "ssh-ed25519 AAAA…" line (its comment does not count).
core::Result<RecoveryKey> derive_recovery_key(const crypto::SecretBytes& passphrase, std::string_view site,
                                              const std::string& peer_host_key);

// Keys the digest that tells whether the site changed since its last config backup: Argon2id with
// a random salt kept in the state, so the stored digest is no cheaper a check of a guessed
// passphrase than a repository key file.
core::Result<crypto::SecretBytes> derive_digest_key(const crypto::SecretBytes& passphrase, core::ByteView salt);

// The OpenSSH "openssh-key-v1" text of an Ed25519 key from its 32-byte seed, followed by a NUL byte.
crypto::SecretBytes openssh_private_key(const crypto::SecretBytes& seed, std::string_view comment);

} // namespace anemone::dr
