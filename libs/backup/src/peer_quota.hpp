#pragma once
// What a peer publishes about our usage of its disk: /quota.json at the root of our jail there,
// written by its sftp-receiver-quota.
#include <cstdint>
#include <optional>
#include <string>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"

namespace anemone::backup {

struct PeerQuota {
  uint64_t used_bytes = 0;
  uint64_t quota_bytes = 0;
  bool over = false;
  std::string message(const std::string& target) const; // "site-b: quota exceeded (10.2 GiB used of 10 GiB)"
};

// nullopt when the peer publishes nothing (not an anemone receiver, or unreachable: the run will
// say why on its own).
std::optional<PeerQuota> read_peer_quota(const config::Target& target);

} // namespace anemone::backup
