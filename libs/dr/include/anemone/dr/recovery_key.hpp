#pragma once
// The recovery key: an Ed25519 SSH key that the passphrase alone gives back. A rebuilt site, which
// lost its SSH key with everything else, logs into its account on a peer with it: read-only, to
// fetch its config backups. Argon2id (the repository key files' moderate cost) over the passphrase,
// salted with the site's name, gives the seed. Why this adds no weakness: docs/FORMAT.md.
#include <string>

#include "anemone/core/error.hpp"
#include "anemone/crypto/secret.hpp"

namespace anemone::dr {

inline constexpr std::string_view k_recovery_key_comment = "anemone-recovery";

struct RecoveryKey {
  std::string public_line;          // "ssh-ed25519 AAAA… anemone-recovery"
  crypto::SecretBytes private_text; // the OpenSSH private key file's text (unencrypted) and a NUL, for libssh2
  // Keys the digest that tells whether the site changed since its last config backup, so the
  // stored digest allows no cheaper passphrase guess than the recovery public key does.
  crypto::SecretBytes digest_key;
};

core::Result<RecoveryKey> derive_recovery_key(const crypto::SecretBytes& passphrase, std::string_view site);

// The OpenSSH "openssh-key-v1" text of an Ed25519 key from its 32-byte seed, followed by a NUL byte.
crypto::SecretBytes openssh_private_key(const crypto::SecretBytes& seed, std::string_view comment);

} // namespace anemone::dr
