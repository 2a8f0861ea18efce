#pragma once
// The backup-sender commands as library calls: each takes parsed options, prints its report to
// stdout (human text, or JSON with json=true), and returns an error for main to map to an exit code.
#include <optional>
#include <string>
#include <vector>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"
#include "anemone/crypto/aead.hpp"

namespace anemone::backup {

struct CommonOptions {
  std::optional<std::string> target;
  bool json = false;
  bool wait = false; // for the site lock, instead of exiting with Errc::locked
};

struct InitOptions : CommonOptions {
  crypto::KdfProfile kdf = crypto::KdfProfile::moderate;
};
core::Result<void> cmd_init(const config::Config& config, const InitOptions& options);

core::Result<void> cmd_run(const config::Config& config, const CommonOptions& options);
core::Result<void> cmd_snapshots(const config::Config& config, const CommonOptions& options);

struct LsOptions : CommonOptions {
  std::string snapshot;
  std::string path;
};
core::Result<void> cmd_ls(const config::Config& config, const LsOptions& options);

struct DiffOptions : CommonOptions {
  std::string from;
  std::string to;
};
core::Result<void> cmd_diff(const config::Config& config, const DiffOptions& options);

struct RestoreOptions : CommonOptions {
  std::string snapshot;
  std::string to;
  std::vector<std::string> includes;
};
core::Result<void> cmd_restore(const config::Config& config, const RestoreOptions& options);

struct CheckOptions : CommonOptions {
  bool read_data = false;
  std::optional<double> read_data_subset;
};
core::Result<void> cmd_check(const config::Config& config, const CheckOptions& options);

struct ForgetOptions : CommonOptions {
  bool prune = false;
  bool dry_run = false;
};
core::Result<void> cmd_forget(const config::Config& config, const ForgetOptions& options);
core::Result<void> cmd_prune(const config::Config& config, const ForgetOptions& options);

core::Result<void> cmd_stats(const config::Config& config, const CommonOptions& options);

struct UnlockOptions : CommonOptions {
  bool force = false;
};
core::Result<void> cmd_unlock(const config::Config& config, const UnlockOptions& options);

struct KeyOptions : CommonOptions {
  std::string new_passphrase_file;
  std::string key_id;
  crypto::KdfProfile kdf = crypto::KdfProfile::moderate;
};
core::Result<void> cmd_key_add(const config::Config& config, const KeyOptions& options);
core::Result<void> cmd_key_list(const config::Config& config, const KeyOptions& options);
core::Result<void> cmd_key_remove(const config::Config& config, const KeyOptions& options);

} // namespace anemone::backup
