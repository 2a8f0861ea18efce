#pragma once
// From the operator's config to open repositories: which targets a command acts on, the passphrase,
// the backend for each target type.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"
#include "anemone/core/system.hpp"
#include "anemone/crypto/secret.hpp"
#include "anemone/repo/repository.hpp"

namespace anemone::backup {

// The config plus one sftp target per mesh peer (wg-peer-manager), so a new peer is backed up to on
// the next run. A config target with a peer's name is an error naming both.
core::Result<config::Config> with_peer_targets(core::Result<config::Config> loaded);

// One writer at a time on a site, whoever starts it (a run, a prune, the watcher, cron, a person):
// an flock beside the state file. Errc::locked with a clear message when another holds it, unless
// `wait`: then it logs once that it waits and blocks until the holder ends (or SIGINT/SIGTERM).
core::Result<core::FileLock> lock_site(const config::Config& config, bool wait = false);

// ANEMONE_PASSPHRASE, else ANEMONE_PASSPHRASE_FILE, else backup.passphrase_file, else a prompt when
// stdin is a terminal. The passphrase never appears in an error message.
core::Result<crypto::SecretBytes> resolve_passphrase(const config::Config& config);
// For a site that has no config yet (disaster recovery): ANEMONE_PASSPHRASE, ANEMONE_PASSPHRASE_FILE,
// the --passphrase-file given, else a prompt.
core::Result<crypto::SecretBytes> resolve_passphrase_without_config(const std::string& file_option);
// Reads a line from the terminal without echo (Errc::config when stdin is not a terminal).
core::Result<crypto::SecretBytes> prompt_secret(const char* question);
// For `key add`: ANEMONE_NEW_PASSPHRASE_FILE, else --new-passphrase-file, else a prompt (twice).
core::Result<crypto::SecretBytes> resolve_new_passphrase(const std::string& file_option);

// All targets, or the one named; an unknown name is an error listing the known ones.
core::Result<std::vector<const config::Target*>> select_targets(const config::Config& config,
                                                                const std::optional<std::string>& name);
// Exactly one target: the one named, or the only one configured.
core::Result<const config::Target*> single_target(const config::Config& config, const std::optional<std::string>& name);

core::Result<std::unique_ptr<repo::Backend>> open_backend(const config::Target& target);
core::Result<std::unique_ptr<repo::Repository>> open_repository(const config::Target& target,
                                                                const crypto::SecretBytes& passphrase);

// The common start of a command that works on one repository: the target (named, or the only one),
// the passphrase, the repository opened and, with IndexLoad::yes, its index loaded.
enum class IndexLoad { no, yes };
struct OpenTarget {
  const config::Target* target = nullptr;
  std::unique_ptr<repo::Repository> repository;
};
core::Result<OpenTarget> open_single_target(const config::Config& config, const std::optional<std::string>& name,
                                            IndexLoad index);

} // namespace anemone::backup
