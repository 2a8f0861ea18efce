#pragma once
// The config_backups table: per destination ('local' or a peer) the newest config backup there and
// how the last attempt went.
#include <optional>
#include <string>

#include "anemone/core/error.hpp"
#include "anemone/state/db.hpp"

namespace anemone::dr {

struct Record {
  std::optional<std::string> file;
  std::optional<std::string> digest;
  std::optional<int64_t> stored_ns;
  int64_t attempt_ns = 0;
  std::string outcome; // ok | unchanged | failed
  std::optional<std::string> error;
  std::optional<bool> recovery_login;
};

core::Result<std::optional<Record>> read_record(state::Db& db, const std::string& destination);
core::Result<void> write_record(state::Db& db, const std::string& destination, const Record& record);

// The digest key's salt: made (random) on first use, then the same for every run.
core::Result<core::Bytes> digest_salt(state::Db& db);

} // namespace anemone::dr
