#pragma once
// The site's files as a config backup sees them: gathered from the live site into a Bundle, and
// put back from a Bundle onto a rebuilt machine with the right modes, keeping a copy of whatever
// they replace.
#include <filesystem>
#include <string>
#include <vector>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"
#include "anemone/crypto/aead.hpp"
#include "anemone/dr/bundle.hpp"
#include "anemone/state/db.hpp"

namespace anemone::dr {

struct CollectedSite {
  Bundle bundle;
  // Unkeyed hash over every file and the state's digest: it never leaves memory (it would let a
  // guess of the passphrase be checked); the stored digest is this keyed with a passphrase-derived key.
  crypto::Hash content{};
};
core::Result<CollectedSite> collect_site(const config::Config& config, state::Db& db);

struct RestoreTarget {
  std::filesystem::path path;
  const BundleEntry* entry = nullptr;
  uint32_t mode = 0600;
};
struct RestorePlan {
  config::Config config; // parsed from the bundle's config.yaml, as if it were at config_path
  std::filesystem::path config_path;
  std::vector<RestoreTarget> files; // secrets, passphrase and state first, config.yaml last
};
// Errc::corrupt when the bundle lacks config.yaml or it does not parse; the site must match.
core::Result<RestorePlan> plan_restore(const Bundle& bundle, const std::filesystem::path& config_path);

// What is there already: config.yaml, key files, the state file.
std::vector<std::filesystem::path> existing_files(const RestorePlan& plan);

struct RestoreResult {
  std::vector<std::filesystem::path> written;
  std::filesystem::path replaced_dir; // empty when nothing was replaced
};
// Refuses (Errc::already_exists, naming what exists) unless `force`; then copies what it replaces
// to <config dir>/replaced-<time>/ first. Each file is written atomically.
core::Result<RestoreResult> apply_restore(const RestorePlan& plan, bool force);

} // namespace anemone::dr
