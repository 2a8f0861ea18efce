#include "peer_quota.hpp"

#include <nlohmann/json.hpp>

#include "anemone/core/bytes.hpp"
#include "anemone/core/log.hpp"
#include "anemone/ssh/sftp_session.hpp"

namespace anemone::backup {

std::string PeerQuota::message(const std::string& target) const {
  return fmt::format("{}: quota exceeded ({} used of {})", target, core::format_bytes(used_bytes),
                     core::format_bytes(quota_bytes));
}

std::optional<PeerQuota> read_peer_quota(const config::Target& target) {
  if (target.type != config::TargetType::sftp) return std::nullopt;
  ssh::SshTarget peer{target.host, target.port, target.user, target.identity_file, target.host_key, 15000};
  auto session = ssh::SftpSession::connect(peer);
  if (!session) {
    core::log_debug("{}: no quota read: {}", target.name, session.error().message());
    return std::nullopt;
  }
  auto body = (*session)->read_file("/quota.json", 0, 0);
  if (!body) {
    core::log_debug("{}: no quota read: {}", target.name, body.error().message());
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(body->begin(), body->end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  PeerQuota quota;
  quota.used_bytes = doc.value("used_bytes", uint64_t{0});
  quota.quota_bytes = doc.value("quota_bytes", uint64_t{0});
  quota.over = doc.value("state", "") == "over_quota";
  core::log_debug("{}: the peer says {} used of {} ({})", target.name, quota.used_bytes, quota.quota_bytes,
                  quota.over ? "over quota" : "within quota");
  return quota;
}

} // namespace anemone::backup
