#include "anemone/peers/accounts.hpp"

#include <sodium.h>

#include "anemone/core/bytes.hpp"
#include "anemone/core/time.hpp"
#include "anemone/ssh/sftp_session.hpp"

namespace anemone::peers {

using core::Errc;
using core::fail;

core::Result<void> validate_account_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 32 && name.front() != '-';
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (!ok) return fail(Errc::usage, "account name '{}' is not valid: 1 to 32 of a-z, 0-9 and '-', not starting with '-'", name);
  return {};
}

core::Result<std::string> normalize_ed25519_key(const std::string& line) {
  if (line.find_first_of("\r\n") != std::string::npos) return fail(Errc::usage, "the SSH key spans several lines");
  constexpr std::string_view k_type = "ssh-ed25519";
  if (line.compare(0, k_type.size() + 1, std::string(k_type) + " ") != 0)
    return fail(Errc::usage, "the SSH key must be an ed25519 public key ('ssh-ed25519 AAAA…')");
  std::string rest = line.substr(k_type.size() + 1);
  std::string base64 = rest.substr(0, rest.find(' '));
  core::Bytes blob = TRY(ssh::public_key_blob(line));
  // string "ssh-ed25519" then string(32-byte key), each with a u32 big-endian length.
  bool shaped = blob.size() == 4 + 11 + 4 + 32 && blob[3] == 11 &&
                std::string(blob.begin() + 4, blob.begin() + 15) == "ssh-ed25519" && blob[18] == 32 &&
                blob[15] == 0 && blob[16] == 0 && blob[17] == 0;
  if (!shaped) return fail(Errc::usage, "the SSH key's content is not an ed25519 key");
  return std::string(k_type) + " " + base64;
}

core::Result<void> add_account(state::Db& db, const std::string& name, const std::string& ssh_key, uint64_t quota) {
  TRY(validate_account_name(name));
  std::string key = TRY(normalize_ed25519_key(ssh_key));
  if (quota == 0) return fail(Errc::usage, "a quota must be larger than 0");
  auto existing = TRY(db.prepare("SELECT 1 FROM sftp_accounts WHERE name = ?"));
  existing.bind(1, name);
  if (TRY(existing.step())) return fail(Errc::already_exists, "an account named {} exists already", name);
  auto insert = TRY(db.prepare("INSERT INTO sftp_accounts (name, ssh_key, quota_bytes, created_ns) VALUES (?, ?, ?, ?)"));
  return insert.bind(1, name).bind(2, key).bind(3, static_cast<int64_t>(quota)).bind(4, core::now_ns()).run();
}

core::Result<void> remove_account(state::Db& db, const std::string& name) {
  TRY(find_account(db, name));
  auto remove = TRY(db.prepare("DELETE FROM sftp_accounts WHERE name = ?"));
  return remove.bind(1, name).run();
}

core::Result<void> set_quota(state::Db& db, const std::string& name, uint64_t quota) {
  TRY(find_account(db, name));
  if (quota == 0) return fail(Errc::usage, "a quota must be larger than 0");
  auto update = TRY(db.prepare("UPDATE sftp_accounts SET quota_bytes = ? WHERE name = ?"));
  return update.bind(1, static_cast<int64_t>(quota)).bind(2, name).run();
}

namespace {
Account read_row(const state::Stmt& stmt) {
  Account account;
  account.name = stmt.column_text(0);
  account.ssh_key = stmt.column_text(1);
  account.quota_bytes = static_cast<uint64_t>(stmt.column_int(2));
  account.used_bytes = static_cast<uint64_t>(stmt.column_int(3));
  account.over_quota = stmt.column_int(4) != 0;
  account.created_ns = stmt.column_int(5);
  account.scanned_ns = stmt.column_int(6);
  return account;
}
constexpr const char* k_columns = "name, ssh_key, quota_bytes, used_bytes, over_quota, created_ns, scanned_ns";
} // namespace

core::Result<std::vector<Account>> list_accounts(state::Db& db) {
  auto stmt = TRY(db.prepare(fmt::format("SELECT {} FROM sftp_accounts ORDER BY name", k_columns)));
  std::vector<Account> accounts;
  while (TRY(stmt.step())) accounts.push_back(read_row(stmt));
  return accounts;
}

core::Result<Account> find_account(state::Db& db, const std::string& name) {
  auto stmt = TRY(db.prepare(fmt::format("SELECT {} FROM sftp_accounts WHERE name = ?", k_columns)));
  stmt.bind(1, name);
  if (!TRY(stmt.step())) return fail(Errc::not_found, "no account named {}", name);
  return read_row(stmt);
}

core::Result<void> record_usage(state::Db& db, const std::string& name, uint64_t used, bool over_quota) {
  auto update = TRY(db.prepare("UPDATE sftp_accounts SET used_bytes = ?, over_quota = ?, scanned_ns = ? WHERE name = ?"));
  return update.bind(1, static_cast<int64_t>(used)).bind(2, int64_t{over_quota}).bind(3, core::now_ns()).bind(4, name).run();
}

} // namespace anemone::peers
