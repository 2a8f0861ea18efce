#include <nlohmann/json.hpp>

#include "anemone/backup/targets.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/core/log.hpp"
#include "anemone/core/output.hpp"
#include "anemone/core/time.hpp"
#include "anemone/dr/commands.hpp"
#include "anemone/dr/peer_access.hpp"
#include "anemone/dr/sealed_file.hpp"
#include "anemone/dr/site_files.hpp"
#include "anemone/mesh/store.hpp"

namespace anemone::dr {

using core::Errc;
using core::fail;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Who {
  std::string site;
  std::string user;
};

core::Result<Who> who(const std::optional<config::Config>& config, const RecoveryOptions& options) {
  Who out;
  if (options.site) out.site = *options.site;
  else if (config) out.site = config->server_name;
  else return fail(Errc::usage, "--site: name the site to recover (its server.name), there is no config here");
  out.user = options.user ? *options.user : out.site;
  return out;
}


// A peer reached with the recovery key, its host key confirmed first.
struct PeerConnection {
  core::Endpoint endpoint;
  std::string host_key;
  std::unique_ptr<ssh::SftpSession> session;
};

// The recovery key depends on the peer's host key, so it is derived once that key is confirmed.
core::Result<PeerConnection> connect_peer(const RecoveryOptions& options, const Who& who,
                                          const crypto::SecretBytes& passphrase) {
  PeerConnection peer;
  peer.endpoint = TRY(parse_peer_address(*options.peer));
  peer.host_key = TRY(confirm_host_key(peer.endpoint, options.host_key));
  auto key = TRY(derive_recovery_key(passphrase, who.site, peer.host_key));
  peer.session = TRY(recovery_session(peer.endpoint, peer.host_key, who.user, key));
  return peer;
}

json backup_json(const NamedBackup& backup) {
  return {{"id", backup.id}, {"file", backup.file}, {"time", core::format_utc(backup.time_ns)}, {"size", backup.size}};
}

core::Result<std::vector<NamedBackup>> local_backups(const fs::path& dir, const std::string& site) {
  std::vector<std::pair<std::string, uint64_t>> names;
  std::error_code error;
  for (const auto& item : fs::directory_iterator(dir, error))
    if (item.is_regular_file(error)) names.emplace_back(item.path().filename().string(), item.file_size(error));
  if (error && error != std::errc::no_such_file_or_directory)
    return fail(Errc::io, "list {}: {}", dir.string(), error.message());
  return backups_of_site(names, site);
}

} // namespace

core::Result<void> cmd_config_discover(const std::optional<config::Config>& config, const RecoveryOptions& options) {
  if (!options.peer) return fail(Errc::usage, "--peer HOST[:PORT] is required");
  auto site = TRY(who(config, options));
  auto passphrase = TRY(config ? backup::resolve_passphrase(*config)
                               : backup::resolve_passphrase_without_config(options.passphrase_file));
  auto peer = TRY(connect_peer(options, site, passphrase));
  auto backups = TRY_CTX(list_remote_backups(*peer.session, site.site), peer.endpoint.str());
  if (options.json) {
    json list = json::array();
    for (const auto& backup : backups) list.push_back(backup_json(backup));
    core::print_json(json{{"peer", peer.endpoint.str()}, {"host_key", peer.host_key}, {"site", site.site},
                          {"user", site.user}, {"backups", list}});
  } else if (!backups.empty()) {
    core::print_line("{} holds {} config backup(s) of {}:", peer.endpoint.str(), backups.size(), site.site);
    core::print_line("{:<18} {:<22} {:>10}", "ID", "TIME", "SIZE");
    for (const auto& backup : backups)
      core::print_line("{:<18} {:<22} {:>10}", backup.id, core::format_utc(backup.time_ns), core::format_bytes(backup.size));
  }
  if (backups.empty())
    return fail(Errc::not_found, "{} holds no config backups of site {} (account {})", peer.endpoint.str(), site.site,
                site.user);
  return {};
}

core::Result<void> cmd_config_restore(const std::optional<config::Config>& config, const ConfigRestoreOptions& options) {
  auto site = TRY(who(config, options));
  auto passphrase = TRY(config ? backup::resolve_passphrase(*config)
                               : backup::resolve_passphrase_without_config(options.passphrase_file));
  if (options.peer && options.file) return fail(Errc::usage, "--peer and --file exclude each other");

  // 1. The file: downloaded from a peer, or read here. Nothing is written before step 4.
  core::Bytes bytes;
  std::string source;
  std::string id;
  if (options.peer) {
    auto peer = TRY(connect_peer(options, site, passphrase));
    auto backups = TRY_CTX(list_remote_backups(*peer.session, site.site), peer.endpoint.str());
    if (backups.empty())
      return fail(Errc::not_found, "{} holds no config backups of site {} (account {})", peer.endpoint.str(),
                  site.site, site.user);
    auto chosen = choose_backup(backups, options.id);
    if (!chosen) return fail(Errc::not_found, "{} holds no config backup {} of site {}", peer.endpoint.str(), *options.id, site.site);
    bytes = TRY_CTX(peer.session->read_file(std::string(k_remote_config_dir) + "/" + chosen->file, 0, 0),
                    "download " + chosen->file);
    source = peer.endpoint.str();
    id = chosen->id;
  } else {
    fs::path path;
    if (options.file) {
      path = *options.file;
    } else {
      if (!config) return fail(Errc::usage, "name where the config backup is: --peer HOST[:PORT] or --file PATH");
      auto backups = TRY(local_backups(config->config_backups_dir(), site.site));
      auto chosen = choose_backup(backups, options.id);
      if (!chosen) return fail(Errc::not_found, "{} holds no config backup{} of site {}", config->config_backups_dir().string(),
                               options.id ? " " + *options.id : std::string(), site.site);
      path = config->config_backups_dir() / chosen->file;
    }
    bytes = TRY(core::read_file(path));
    source = path.string();
    auto named = parse_config_backup_name(path.filename().string());
    id = named ? named->id : path.filename().string();
  }

  // 2. Verified and decrypted; 3. unpacked and checked against the site and the config it holds.
  auto plaintext = TRY_CTX(open_config_backup(passphrase, bytes), "config backup " + id);
  auto bundle = TRY_CTX(unpack_bundle(plaintext.view()), "config backup " + id);
  if (bundle.site != site.site)
    return fail(Errc::corrupt, "config backup {} belongs to site {}, not {}", id, bundle.site, site.site);
  auto plan = TRY(plan_restore(bundle, options.config_path));

  // 4. Written, each file atomically; what it replaces is kept first. A live site's backup runs are
  // held off meanwhile (its run lock).
  std::optional<core::FileLock> lock;
  if (fs::exists(plan.config.state_path)) lock = TRY(backup::lock_site(plan.config));
  auto result = TRY(apply_restore(plan, options.force));
  std::vector<std::string> written;
  for (const auto& path : result.written) written.push_back(path.string());
  std::vector<std::string> peers;
  {
    auto db = TRY(state::Db::open(plan.config.state_path));
    for (const auto& peer : TRY(mesh::list_peers(db))) peers.push_back(peer.card.name);
  }
  core::log_info("restored the configuration of {} from {} (config backup {}, {} files)", site.site, source, id,
                 written.size());
  if (options.json) {
    core::print_json(json{{"site", site.site}, {"source", source}, {"id", id},
                          {"created", core::format_utc(bundle.created_ns)}, {"hostname", bundle.hostname},
                          {"config", options.config_path.string()}, {"written", written},
                          {"replaced_dir", result.replaced_dir.empty() ? json(nullptr) : json(result.replaced_dir.string())},
                          {"peers", peers}});
  } else {
    core::print_line("restored the configuration of {} from {} (config backup {}, made {} on {}):", site.site, source,
                     id, core::format_utc(bundle.created_ns), bundle.hostname);
    for (const auto& path : written) core::print_line("  {}", path);
    if (!result.replaced_dir.empty()) core::print_line("what it replaced is kept in {}", result.replaced_dir.string());
    core::print_line("next: sftp-receiver-quota sync; wg-peer-manager up; backup-sender restore latest --target {} --to /",
                     peers.empty() ? std::string("<peer>") : peers.front());
  }
  return {};
}

} // namespace anemone::dr
