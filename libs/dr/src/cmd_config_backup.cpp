#include <algorithm>
#include <thread>

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "anemone/backup/targets.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/core/log.hpp"
#include "anemone/core/output.hpp"
#include "anemone/core/time.hpp"
#include "anemone/dr/commands.hpp"
#include "anemone/dr/naming.hpp"
#include "anemone/dr/peer_access.hpp"
#include "anemone/dr/recovery_key.hpp"
#include "anemone/dr/sealed_file.hpp"
#include "anemone/dr/site_files.hpp"
#include "anemone/mesh/store.hpp"
#include "config_backup_record.hpp"

namespace anemone::dr {

using core::Errc;
using core::fail;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int k_recovery_login_attempts = 8; // the peer's receiver installs the key on its next scan (5 s at most)

struct Destination {
  std::string name; // "local" or the peer's name
  std::string outcome; // ok | unchanged | failed
  std::optional<std::string> file{};
  std::optional<std::string> error{};
  std::optional<bool> recovery_login{};
  std::vector<std::string> removed{};
};

core::Result<std::vector<std::string>> rotate_local(const fs::path& dir, const std::string& site, const std::string& newest,
                                                   int keep) {
  std::vector<std::pair<std::string, uint64_t>> names;
  std::error_code error;
  for (const auto& item : fs::directory_iterator(dir, error))
    if (item.is_regular_file(error)) names.emplace_back(item.path().filename().string(), 0);
  auto backups = backups_of_site(names, site);
  std::vector<std::string> removed;
  for (size_t i = 0; i + keep < backups.size(); ++i) {
    if (backups[i].file == newest) continue; // a clock set back must not cost the one just written
    fs::remove(dir / backups[i].file, error);
    if (error) return fail(Errc::io, "remove {}: {}", (dir / backups[i].file).string(), error.message());
    removed.push_back(backups[i].file);
  }
  return removed;
}

std::string random_suffix() {
  uint8_t bytes[6];
  randombytes_buf(bytes, sizeof bytes);
  return core::to_hex(bytes);
}

// Replaces a small file in the jail: SFTP v3 cannot rename over a name, so the old one goes first.
core::Result<void> replace_remote_file(ssh::SftpSession& session, const std::string& path, std::string_view content) {
  auto current = session.read_file(path, 0, 0);
  if (current && core::as_chars(*current) == content) return {};
  std::string temp = path + ".tmp-" + random_suffix();
  TRY(session.write_new_file(temp, core::as_bytes(content)));
  if (current) TRY(session.remove_file(path));
  return session.rename(temp, path);
}

core::Result<std::unique_ptr<ssh::SftpSession>> connect(const config::Target& peer) {
  ssh::SshTarget target{peer.host, peer.port, peer.user, peer.identity_file, peer.host_key};
  return ssh::SftpSession::connect(target);
}

// True when the peer still holds `file` and the recovery key: a jail that was wiped gets both again.
core::Result<bool> still_there(ssh::SftpSession& session, const std::string& file) {
  auto listed = session.list_directory(std::string(k_remote_config_dir));
  if (!listed && listed.error().code() == Errc::not_found) return false;
  if (!listed) return tl::unexpected(listed.error());
  bool backup = false, key = false;
  for (const auto& entry : *listed) {
    backup = backup || entry.name == file;
    key = key || entry.name == k_recovery_key_file;
  }
  return backup && key;
}

core::Result<void> upload(ssh::SftpSession* session, const std::string& site, const std::string& file,
                          core::ByteView bytes, const RecoveryKey& recovery, int keep, Destination& out) {
  const std::string dir(k_remote_config_dir);
  if (auto listed = session->list_directory(dir); !listed && listed.error().code() == Errc::not_found)
    TRY(session->make_directory(dir));
  std::string temp = fmt::format("{}/.{}.tmp-{}", dir, file, random_suffix());
  TRY(session->write_new_file(temp, bytes));
  if (auto renamed = session->rename(temp, dir + "/" + file); !renamed) {
    (void)session->remove_file(temp);
    // An earlier attempt that failed after its rename left this very file: it is there already.
    auto there = renamed.error().code() == Errc::already_exists ? session->read_file(dir + "/" + file, 0, 0)
                                                                  : core::Result<core::Bytes>(tl::unexpected(renamed.error()));
    if (!there || !std::equal(there->begin(), there->end(), bytes.begin(), bytes.end()))
      return tl::unexpected(renamed.error());
  }
  TRY_CTX(replace_remote_file(*session, dir + "/" + std::string(k_recovery_key_file), recovery.public_line + "\n"),
          "publish the recovery key");
  auto backups = TRY(list_remote_backups(*session, site));
  for (size_t i = 0; i + keep < backups.size(); ++i) {
    if (backups[i].file == file) continue;
    TRY(session->remove_file(dir + "/" + backups[i].file));
    out.removed.push_back(backups[i].file);
  }
  return {};
}

bool recovery_login_works(const config::Target& peer, const RecoveryKey& recovery) {
  auto endpoint = core::Endpoint{peer.host, peer.port};
  for (int attempt = 0; attempt < k_recovery_login_attempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::seconds(1));
    auto session = recovery_session(endpoint, peer.host_key, peer.user, recovery);
    if (session && (*session)->list_directory(std::string(k_remote_config_dir))) return true;
    if (!session && session.error().code() != Errc::auth) return false; // unreachable: no use waiting
  }
  return false;
}

json destination_json(const Destination& d) {
  json out = {{"destination", d.name}, {"outcome", d.outcome}, {"file", d.file ? json(*d.file) : json(nullptr)},
              {"error", d.error ? json(*d.error) : json(nullptr)}, {"removed", d.removed}};
  if (d.name != "local") out["recovery_login"] = d.recovery_login ? json(*d.recovery_login) : json(nullptr);
  return out;
}

} // namespace

core::Result<void> cmd_config_backup(const config::Config& config, const ConfigBackupOptions& options) {
  auto passphrase = TRY(backup::resolve_passphrase(config));
  auto db = TRY(state::Db::open(config.state_path));
  auto site = TRY(collect_site(config, db));
  auto salt = TRY(digest_salt(db));
  auto digest_key = TRY(derive_digest_key(passphrase, salt));
  const std::string digest = core::to_hex(crypto::keyed_hash(digest_key, site.content));
  const int64_t started = core::now_ns();
  const fs::path dir = config.config_backups_dir();
  TRY(core::make_directories(dir, 0700));

  std::vector<Destination> destinations;
  std::optional<core::Bytes> sealed;
  uint64_t size = 0;
  std::string file;

  Destination local{"local", "ok"};
  auto local_record = TRY(read_record(db, "local"));
  if (!options.force && local_record && local_record->digest == digest && local_record->file &&
      fs::exists(dir / *local_record->file)) {
    local.outcome = "unchanged";
    file = *local_record->file;
  } else {
    auto packed = pack_bundle(site.bundle);
    sealed = TRY(seal_config_backup(passphrase, packed.view()));
    file = config_backup_name(config.server_name, started);
    TRY(core::write_file_atomic(dir / file, *sealed, 0600));
    local.removed = TRY(rotate_local(dir, config.server_name, file, config.dr.keep_local));
  }
  local.file = file;
  TRY(write_record(db, "local", Record{file, digest, local.outcome == "ok" ? started : local_record->stored_ns, started,
                                       local.outcome, std::nullopt, std::nullopt}));
  destinations.push_back(local);

  size_t failed = 0;
  for (const auto& peer : TRY(mesh::peer_targets(config))) {
    Destination d{peer.name, "ok"};
    auto record = TRY(read_record(db, peer.name));
    bool unchanged = false;
    std::optional<RecoveryKey> recovery;
    // One connection a day even when nothing changed: the peer must still hold what we think it does.
    auto done = [&]() -> core::Result<void> {
      recovery = TRY_CTX(derive_recovery_key(passphrase, config.server_name, peer.host_key), "the recovery key");
      auto session = TRY(connect(peer));
      unchanged = !options.force && record && record->digest == digest && record->outcome != "failed" &&
                  record->file && TRY(still_there(*session, *record->file));
      if (unchanged) return {};
      if (!sealed) sealed = TRY_CTX(core::read_file(dir / file), "read the newest config backup");
      return upload(session.get(), config.server_name, file, *sealed, *recovery, config.dr.keep_remote, d);
    }();
    if (!done) {
      d.outcome = "failed";
      d.error = done.error().message();
      ++failed;
      core::log_error("config backup to {}: {}", peer.name, *d.error);
    } else if (unchanged) {
      d.outcome = "unchanged";
      d.file = record->file;
    } else {
      d.file = file;
    }
    if (d.outcome != "failed" && !(unchanged && record->recovery_login == true))
      d.recovery_login = recovery_login_works(peer, *recovery);
    else if (unchanged)
      d.recovery_login = record->recovery_login;
    Record next{record ? record->file : std::nullopt, record ? record->digest : std::nullopt,
                record ? record->stored_ns : std::nullopt, started, d.outcome, d.error, d.recovery_login};
    if (d.outcome == "ok") {
      next.file = file;
      next.digest = digest;
      next.stored_ns = started;
    }
    TRY(write_record(db, peer.name, next));
    destinations.push_back(std::move(d));
  }
  size = sealed ? sealed->size() : (fs::exists(dir / file) ? fs::file_size(dir / file) : 0);

  for (const auto& d : destinations)
    core::log_info("config backup {} → {}: {}{}", file, d.name, d.outcome, d.error ? ": " + *d.error : "");
  if (options.json) {
    json list = json::array();
    for (const auto& d : destinations) list.push_back(destination_json(d));
    core::print_json(json{{"site", config.server_name}, {"file", file}, {"size", size},
                          {"local_dir", dir.string()}, {"destinations", list}, {"failed", failed}});
  } else {
    core::print_line("config backup {} ({})", file, core::format_bytes(size));
    for (const auto& d : destinations) {
      std::string login = !d.recovery_login ? ""
                          : *d.recovery_login ? ", recovery login ok"
                                              : ", recovery login not accepted yet";
      core::print_line("  {:<20} {}{}{}", d.name, d.outcome, d.error ? ": " + *d.error : "", login);
    }
  }
  if (failed > 0)
    return fail(Errc::partial, "the config backup reached {} of {} peers", destinations.size() - 1 - failed,
                destinations.size() - 1);
  return {};
}

} // namespace anemone::dr
