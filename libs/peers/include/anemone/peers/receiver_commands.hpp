#pragma once
// sftp-receiver-quota's commands as library calls: each prints its report (text, or JSON with
// json=true) and returns an error for main to map to an exit code.
#include <optional>
#include <string>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"

namespace anemone::peers {

struct AccountAddOptions {
  std::string name;
  std::string ssh_key;
  std::optional<std::string> quota; // "50G"; default sftp.default_quota
};
core::Result<void> cmd_account_add(const config::Config& config, const AccountAddOptions& options);
core::Result<void> cmd_account_remove(const config::Config& config, const std::string& name, bool keep_data);
core::Result<void> cmd_account_set_quota(const config::Config& config, const std::string& name, const std::string& quota);
core::Result<void> cmd_account_list(const config::Config& config, bool json);
core::Result<void> cmd_sshd_config(const config::Config& config, const std::string& output);
core::Result<void> cmd_sync(const config::Config& config, bool json);
core::Result<void> cmd_scan(const config::Config& config, bool json);
core::Result<void> cmd_status(const config::Config& config, bool json);
// Scans every `interval_seconds` until interrupted; one log line per state change.
core::Result<void> cmd_watch(const config::Config& config, int interval_seconds);

} // namespace anemone::peers
