#include "anemone/dr/site_files.hpp"

#include <algorithm>

#include "anemone/core/fs.hpp"
#include "anemone/core/system.hpp"
#include "anemone/core/time.hpp"
#include "anemone/dr/state_copy.hpp"
#include "locked_file.hpp"

namespace anemone::dr {

using core::Errc;
using core::fail;
namespace fs = std::filesystem;

namespace {

constexpr size_t k_max_key_file = 64 * 1024;

bool inside(const fs::path& file, const fs::path& dir) {
  return file.parent_path().lexically_normal() == dir.lexically_normal();
}

void hash_entry(crypto::Hasher& hasher, const BundleEntry& entry) {
  std::string head = fmt::format("{} {} {:o} {}\n", entry_kind_name(entry.kind), entry.name, entry.mode,
                                 entry.content.size());
  hasher.update(core::as_bytes(head));
  hasher.update(entry.content.view());
}

} // namespace

core::Result<CollectedSite> collect_site(const config::Config& config, state::Db& db) {
  CollectedSite site;
  site.bundle.site = config.server_name;
  site.bundle.created_ns = core::now_ns();
  site.bundle.hostname = core::host_name();
  crypto::Hasher hasher;

  auto config_file = TRY(read_locked_file(config.file, 4 << 20));
  site.bundle.entries.push_back({EntryKind::config, "config.yaml", config_file.mode, std::move(config_file.bytes)});

  // Every key file of the secrets directory, in name order (the digest must not depend on readdir).
  std::vector<fs::path> secrets;
  std::error_code error;
  for (const auto& item : fs::directory_iterator(config.secrets_dir, error))
    if (item.is_regular_file(error) && !item.is_symlink(error)) secrets.push_back(item.path());
  if (error && error != std::errc::no_such_file_or_directory)
    return fail(Errc::io, "list {}: {}", config.secrets_dir.string(), error.message());
  std::sort(secrets.begin(), secrets.end());
  for (const auto& path : secrets) {
    if (!valid_entry_name(path.filename().string())) continue;
    auto key = TRY(read_locked_file(path, k_max_key_file));
    site.bundle.entries.push_back({EntryKind::secret, path.filename().string(), key.mode, std::move(key.bytes)});
  }
  if (config.passphrase_file && !inside(*config.passphrase_file, config.secrets_dir)) {
    auto passphrase = TRY(read_locked_file(*config.passphrase_file, k_max_key_file));
    site.bundle.entries.push_back({EntryKind::passphrase, config.passphrase_file->filename().string(), passphrase.mode,
                                   std::move(passphrase.bytes)});
  }
  for (const auto& entry : site.bundle.entries) hash_entry(hasher, entry);

  auto state = TRY_CTX(copy_state(db, config.config_backups_dir() / ".tmp"), "copy the state");
  hasher.update(core::as_bytes(std::string_view("state\n")));
  hasher.update(state.digest);
  site.bundle.entries.push_back({EntryKind::state, config.state_path.filename().string(), 0600, std::move(state.bytes)});
  site.content = hasher.finish();
  return site;
}

core::Result<RestorePlan> plan_restore(const Bundle& bundle, const fs::path& config_path) {
  const BundleEntry* config_entry = bundle.find(EntryKind::config);
  if (!config_entry) return fail(Errc::corrupt, "the config backup holds no config.yaml");
  RestorePlan plan;
  plan.config_path = config_path;
  plan.config = TRY_CTX(config::parse_config(core::as_chars(config_entry->content.view()), config_path),
                        "the config.yaml inside the config backup");
  if (plan.config.server_name != bundle.site)
    return fail(Errc::corrupt, "the config backup says site {} but its config.yaml names {}", bundle.site,
                plan.config.server_name);
  for (const auto& entry : bundle.entries) {
    switch (entry.kind) {
    case EntryKind::secret:
      plan.files.push_back({plan.config.secrets_dir / entry.name, &entry, entry.mode & 0600});
      break;
    case EntryKind::passphrase:
      if (!plan.config.passphrase_file)
        return fail(Errc::corrupt, "the config backup holds a passphrase file its config.yaml does not name");
      plan.files.push_back({*plan.config.passphrase_file, &entry, 0600});
      break;
    case EntryKind::state: plan.files.push_back({plan.config.state_path, &entry, 0600}); break;
    case EntryKind::config: break;
    }
  }
  // Public halves (.pub) stay readable, as ssh-keygen made them.
  for (auto& file : plan.files)
    if (file.entry->kind == EntryKind::secret && file.path.extension() == ".pub") file.mode = file.entry->mode & 0644;
  plan.files.push_back({config_path, config_entry, config_entry->mode & 0644});
  return plan;
}

std::vector<fs::path> existing_files(const RestorePlan& plan) {
  std::vector<fs::path> found;
  std::error_code error;
  for (const auto& file : plan.files)
    if (fs::exists(fs::symlink_status(file.path, error))) found.push_back(file.path);
  // Keys the backup does not hold still mean a configured site lives here.
  for (const auto& item : fs::directory_iterator(plan.config.secrets_dir, error))
    if (std::find(found.begin(), found.end(), item.path()) == found.end()) found.push_back(item.path());
  return found;
}

core::Result<RestoreResult> apply_restore(const RestorePlan& plan, bool force) {
  RestoreResult result;
  auto existing = existing_files(plan);
  if (!existing.empty() && !force) {
    std::vector<std::string> names;
    for (const auto& path : existing) names.push_back(path.string());
    return fail(Errc::already_exists,
                "a configuration exists here ({}); restoring would replace it. Use --force to replace it (a copy "
                "of what it replaces is kept)",
                fmt::join(names, ", "));
  }
  if (!existing.empty()) {
    std::string stamp = core::format_utc(core::now_ns());
    std::erase(stamp, ':');
    std::erase(stamp, '-');
    result.replaced_dir = plan.config_path.parent_path() / ("replaced-" + stamp);
    TRY(core::make_directories(result.replaced_dir, 0700));
    std::vector<fs::path> copies = existing;
    for (const char* suffix : {"-wal", "-shm"})
      if (fs::exists(plan.config.state_path.string() + suffix)) copies.push_back(plan.config.state_path.string() + suffix);
    for (const auto& path : copies) {
      std::error_code error;
      // Keys keep their directory's name so two files called the same never collide.
      fs::path destination = result.replaced_dir / path.parent_path().filename() / path.filename();
      TRY(core::make_directories(destination.parent_path(), 0700));
      fs::copy(path, destination, fs::copy_options::overwrite_existing | fs::copy_options::copy_symlinks, error);
      if (error) return fail(Errc::io, "keep a copy of {} in {}: {}", path.string(), result.replaced_dir.string(), error.message());
    }
  }
  for (const auto& file : plan.files) {
    TRY(core::make_directories(file.path.parent_path(), file.entry->kind == EntryKind::config ? 0755 : 0700));
    if (file.entry->kind == EntryKind::state && fs::exists(file.path)) {
      // A state file that exists may be open elsewhere: its content is replaced through SQLite, which
      // keeps its WAL and locks right (a rename under it would leave a WAL replayed into the new file).
      fs::path incoming = file.path.string() + ".restored";
      TRY(core::write_file_atomic(incoming, file.entry->content.view(), 0600));
      auto replaced = [&]() -> core::Result<void> {
        auto db = TRY(state::Db::open(file.path));
        return db.replace_with(incoming);
      }();
      std::error_code ignored;
      fs::remove(incoming, ignored);
      TRY_CTX(std::move(replaced), "restore " + file.path.string());
      result.written.push_back(file.path);
      continue;
    }
    if (file.entry->kind == EntryKind::state) {
      // A WAL without its database would be replayed into the new file.
      std::error_code ignored;
      for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(file.path.string() + suffix, ignored);
    }
    TRY_CTX(core::write_file_atomic(file.path, file.entry->content.view(), file.mode), "restore " + file.path.string());
    result.written.push_back(file.path);
  }
  return result;
}

} // namespace anemone::dr
