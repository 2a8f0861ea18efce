#pragma once
// What a config backup holds once opened: the site's config.yaml, every key file of its secrets
// directory, its passphrase file when that lives elsewhere, and a copy of its SQLite state. Packed
// as a manifest (JSON) and the files' bytes, compressed with zstd; all in locked memory.
#include <cstdint>
#include <string>
#include <vector>

#include "anemone/core/error.hpp"
#include "anemone/crypto/secret.hpp"

namespace anemone::dr {

enum class EntryKind { config, secret, passphrase, state };
std::string_view entry_kind_name(EntryKind kind);

struct BundleEntry {
  EntryKind kind = EntryKind::secret;
  std::string name; // a plain file name (no '/'): config.yaml, id_ed25519, anemone.db, …
  uint32_t mode = 0600;
  crypto::SecretBytes content;
};

struct Bundle {
  std::string site;
  int64_t created_ns = 0;
  std::string hostname;
  std::vector<BundleEntry> entries;
  const BundleEntry* find(EntryKind kind) const;
};

// A name that is safe as one path component.
bool valid_entry_name(std::string_view name);

crypto::SecretBytes pack_bundle(const Bundle& bundle);
// Errc::corrupt naming what is wrong; every entry is checked (kind, name, mode, size).
core::Result<Bundle> unpack_bundle(core::ByteView packed);

} // namespace anemone::dr
