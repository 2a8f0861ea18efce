#pragma once
// A config backup file as it is stored on disk and on peers (docs/FORMAT.md, "Config backups"):
//   "anemone-config-backup 1\n" ‖ header JSON line ‖ sealed body ‖ BLAKE2b-256 of all before it
// The body is XChaCha20-Poly1305 under a key derived by Argon2id from the passphrase with a random
// salt; the two text lines are its associated data. The header holds only KDF parameters, the salt,
// a key check and the body's size: nothing about the site.
#include <cstdint>

#include "anemone/core/bytes.hpp"
#include "anemone/core/error.hpp"
#include "anemone/crypto/aead.hpp"
#include "anemone/crypto/secret.hpp"

namespace anemone::dr {

inline constexpr std::string_view k_sealed_magic = "anemone-config-backup 1\n";

core::Result<core::Bytes> seal_config_backup(const crypto::SecretBytes& passphrase, core::ByteView plaintext,
                                             crypto::KdfProfile profile = crypto::KdfProfile::moderate);

// Each failure its own error, checked in this order, so a person knows what went wrong:
// not a config backup / truncated / damaged (checksum) → Errc::corrupt; wrong passphrase →
// Errc::wrong_passphrase; altered with a valid checksum → Errc::corrupt.
core::Result<crypto::SecretBytes> open_config_backup(const crypto::SecretBytes& passphrase, core::ByteView file);

// Only the structural checks (magic, header, size, checksum): what a listing can say without the
// passphrase.
core::Result<void> check_config_backup_structure(core::ByteView file);

} // namespace anemone::dr
