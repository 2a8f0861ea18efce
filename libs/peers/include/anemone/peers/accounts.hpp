#pragma once
// The SFTP accounts a site keeps for its peers: one per peer, with its public key and quota, in the
// SQLite state. sftp-receiver-quota drives them by hand; wg-peer-manager will call the same functions
// when an invitation is accepted.
#include <cstdint>
#include <string>
#include <vector>

#include "anemone/core/error.hpp"
#include "anemone/state/db.hpp"

namespace anemone::peers {

struct Account {
  std::string name;    // also the Unix user and the jail's directory name
  std::string ssh_key; // "ssh-ed25519 AAAA…" (no comment)
  uint64_t quota_bytes = 0;
  uint64_t used_bytes = 0;
  bool over_quota = false;
  int64_t created_ns = 0;
  int64_t scanned_ns = 0;
};

// [a-z0-9][a-z0-9-]{0,31}: the peer's site name, safe as a Unix user and a path component.
core::Result<void> validate_account_name(const std::string& name);
// Accepts "ssh-ed25519 <base64> [comment]" whose blob really is an ed25519 key; returns it without
// the comment. Anything else (other types, options, newlines) is refused.
core::Result<std::string> normalize_ed25519_key(const std::string& line);

core::Result<void> add_account(state::Db& db, const std::string& name, const std::string& ssh_key, uint64_t quota);
core::Result<void> remove_account(state::Db& db, const std::string& name);
core::Result<void> set_quota(state::Db& db, const std::string& name, uint64_t quota);
core::Result<std::vector<Account>> list_accounts(state::Db& db);
core::Result<Account> find_account(state::Db& db, const std::string& name);
core::Result<void> record_usage(state::Db& db, const std::string& name, uint64_t used, bool over_quota);

} // namespace anemone::peers
