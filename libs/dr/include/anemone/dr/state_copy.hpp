#pragma once
// The state as a config backup carries it: SQLite's online backup of the live file, without what a
// rebuilt machine cannot use (the files cache names inodes that will not exist; the watcher's live
// status names a process), plus a digest of what the operator made (accounts, peers, invitations,
// the platform's registry) so that an unchanged site is not uploaded again every day.
#include <filesystem>
#include <string>
#include <vector>

#include "anemone/core/error.hpp"
#include "anemone/crypto/aead.hpp"
#include "anemone/crypto/secret.hpp"
#include "anemone/state/db.hpp"

namespace anemone::dr {

enum class TableUse {
  digest, // carried, and its rows (the listed columns) decide whether something changed
  carried, // carried, but history or measurements: a change alone does not make a new backup
  emptied, // carried empty
};

struct TableRule {
  std::string_view table;
  TableUse use;
  std::string_view columns; // TableUse::digest: the columns that count, comma-separated
};
const std::vector<TableRule>& state_table_rules();

// Tables in the file that no rule names (a new migration must say what a config backup does with
// its table; a unit test holds it to that).
core::Result<std::vector<std::string>> unclassified_tables(state::Db& db);

struct StateCopy {
  crypto::SecretBytes bytes; // the SQLite file
  crypto::Hash digest{};     // of the digest tables' rows
};
// The copy is made in `scratch_dir` (0700) and removed before returning.
core::Result<StateCopy> copy_state(state::Db& db, const std::filesystem::path& scratch_dir);

} // namespace anemone::dr
