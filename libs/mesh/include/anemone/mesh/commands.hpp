#pragma once
// wg-peer-manager's commands as library calls: each prints its report (text, or JSON) and returns
// an error for main to map to an exit code.
#include <optional>
#include <string>
#include <vector>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"

namespace anemone::mesh {

core::Result<void> cmd_init(const config::Config& config, const std::optional<std::string>& endpoint, bool json);
core::Result<void> cmd_show(const config::Config& config, bool json);

struct InviteOptions {
  std::string name;
  std::string expires = "24h";
  std::optional<std::string> quota; // default sftp.default_quota
  std::vector<std::string> allowed_ips;
  bool json = false;
};
core::Result<void> cmd_invite(const config::Config& config, const InviteOptions& options);
core::Result<void> cmd_join(const config::Config& config, const std::string& code, bool json);
core::Result<void> cmd_accept(const config::Config& config, const std::string& code, bool json);
core::Result<void> cmd_invitations(const config::Config& config, bool json);
core::Result<void> cmd_revoke(const config::Config& config, const std::string& id);

core::Result<void> cmd_list(const config::Config& config, bool json);
core::Result<void> cmd_remove(const config::Config& config, const std::string& name, bool purge, bool json);
// foreground: stay running (the supervisord program); wireguard-go is our child and ends with us.
core::Result<void> cmd_up(const config::Config& config, bool json, bool foreground = false);
core::Result<void> cmd_down(const config::Config& config);
// Exit 0 when the interface is up; the reasons otherwise (the healthcheck).
core::Result<void> cmd_status(const config::Config& config, bool json);

// "24h", "30m", "7d", "90s" → seconds; Errc::usage otherwise.
core::Result<int64_t> parse_duration_seconds(std::string_view text);

} // namespace anemone::mesh
