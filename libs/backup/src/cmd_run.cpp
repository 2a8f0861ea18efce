#include <thread>

#include <fmt/ranges.h>

#include "anemone/backup/commands.hpp"
#include "anemone/backup/targets.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/core/log.hpp"
#include "anemone/core/system.hpp"
#include "anemone/core/time.hpp"
#include "anemone/repo/archiver.hpp"
#include "anemone/repo/lock.hpp"
#include "anemone/state/files_cache.hpp"
#include "anemone/state/runs.hpp"
#include "output.hpp"
#include "peer_quota.hpp"

namespace anemone::backup {

using core::Errc;
using nlohmann::json;

namespace {

json summary_json(const std::string& target, const repo::ArchiveSummary& s) {
  json warnings = json::array();
  for (const auto& w : s.warnings) warnings.push_back(printable_path(w));
  return {{"target", target},          {"status", "ok"},
          {"snapshot_id", s.snapshot_id}, {"files_new", s.files_new},
          {"files_changed", s.files_changed}, {"files_unchanged", s.files_unchanged},
          {"dirs", s.dirs},               {"bytes_read", s.bytes_read},
          {"bytes_total", s.bytes_total}, {"bytes_added", s.bytes_added},
          {"blobs_added", s.blobs_added}, {"duration_s", s.duration_s},
          {"warnings", warnings}};
}

core::Result<repo::ArchiveSummary> run_target(const config::Config& config, const config::Target& target,
                                              const crypto::SecretBytes& passphrase, state::Db& db) {
  // A peer that already says we are over quota gets no data sent at all.
  if (auto quota = read_peer_quota(target); quota && quota->over)
    return core::fail(Errc::quota_exceeded, "{}", quota->message(target.name));
  auto opened = open_repository(target, passphrase);
  if (!opened && opened.error().code() == Errc::repo_missing && target.from_mesh) {
    // A new mesh peer: its repository is made on the first run, with this site's passphrase.
    auto backend = TRY(open_backend(target));
    repo::InitOptions init;
    init.host = config.server_name;
    TRY_CTX(repo::Repository::init(*backend, passphrase, init), target.name);
    core::log_info("{}: repository created on the peer at {}", target.name, backend->location());
    opened = open_repository(target, passphrase);
  }
  auto repository = TRY(std::move(opened));
  auto lock = TRY_CTX(repo::RepoLock::acquire(*repository, repo::LockKind::shared), target.name);
  size_t leftovers = TRY(repository->backend().remove_leftovers(repo::Backend::Leftovers::dead_writers));
  if (leftovers) core::log_info("{}: removed {} temporary files left by an interrupted run", target.name, leftovers);
  TRY_CTX(repository->load_index(), target.name);
  auto cache = TRY(state::FilesCache::load(db, target.name, repository->id()));
  core::ProgressCounters progress;
  repo::ArchiveSummary summary;
  {
    core::ProgressPrinter printer(fmt::format("backup {}", target.name), progress);
    // The totals (for the ETA) are worth a second walk only when someone watches.
    std::atomic<bool> stop_scan{false};
    std::thread scanner;
    if (printer.enabled())
      scanner = std::thread([&] { repo::scan_totals(config.sources, progress, stop_scan); });
    struct JoinScanner {
      std::atomic<bool>& stop;
      std::thread& thread;
      ~JoinScanner() {
        stop = true;
        if (thread.joinable()) thread.join();
      }
    } join_scanner{stop_scan, scanner};
    repo::ArchiveOptions options;
    options.sources = config.sources;
    options.host = config.server_name;
    options.progress = &progress;
    summary = TRY_CTX(repo::archive(*repository, cache, options), target.name);
  }
  // Only now, with the snapshot stored, may the cache name its blobs.
  TRY(cache.save(db));
  std::vector<std::string> names;
  for (const auto& s : config.sources) names.push_back(s.name);
  TRY(state::record_snapshot(db, {target.name, summary.snapshot_id, core::now_ns(), config.server_name,
                                  fmt::format("{}", fmt::join(names, ",")),
                                  static_cast<int64_t>(summary.files_new + summary.files_changed + summary.files_unchanged),
                                  static_cast<int64_t>(summary.bytes_total)}));
  return summary;
}

} // namespace

core::Result<void> cmd_run(const config::Config& config, const CommonOptions& options) {
  if (config.sources.empty()) return core::fail(Errc::config, "{} declares no backup.sources", config.file.string());
  auto targets = TRY(select_targets(config, options.target));
  auto site_lock = lock_site(config, options.wait);
  if (!site_lock) return tl::unexpected(site_lock.error()); // not TRY: the lock must stay held here
  auto passphrase = TRY(resolve_passphrase(config));
  auto db = TRY(state::Db::open(config.state_path));

  json results = json::array();
  size_t failed = 0;
  std::optional<core::Error> last_error;
  for (const auto* target : targets) {
    int64_t run_id = TRY(state::begin_run(db, "backup-sender", "run", target->name));
    auto summary = run_target(config, *target, passphrase, db);
    // (Not after a connection failure: the quota cannot be read then either, and would cost another timeout.)
    if (!summary && target->type == config::TargetType::sftp && summary.error().code() != Errc::quota_exceeded &&
        summary.error().code() != Errc::io) {
      // A refused write during the run: say so in the peer's terms when its quota is the cause.
      if (auto quota = read_peer_quota(*target); quota && quota->over)
        summary = core::fail(Errc::quota_exceeded, "{}", quota->message(target->name));
    }
    if (summary) {
      json result = summary_json(target->name, *summary);
      TRY(state::finish_run(db, run_id, "ok", summary->snapshot_id, result.dump(), ""));
      core::log_info("{}: snapshot {} saved: {} new, {} changed, {} unchanged files, {} read, {} added, {:.1f}s{}",
                     target->name, summary->snapshot_id.substr(0, 8), summary->files_new, summary->files_changed,
                     summary->files_unchanged, core::format_bytes(summary->bytes_read),
                     core::format_bytes(summary->bytes_added), summary->duration_s,
                     summary->warnings.empty() ? "" : fmt::format(", {} warnings", summary->warnings.size()));
      if (!options.json)
        print_line("{}: snapshot {} saved ({} new, {} changed, {} unchanged files; {} read, {} added)", target->name,
                   summary->snapshot_id.substr(0, 8), summary->files_new, summary->files_changed,
                   summary->files_unchanged, core::format_bytes(summary->bytes_read),
                   core::format_bytes(summary->bytes_added));
      results.push_back(std::move(result));
    } else {
      ++failed;
      const auto& error = summary.error();
      (void)state::finish_run(db, run_id, error.code() == Errc::interrupted ? "interrupted" : "failed", "", "",
                              error.message());
      core::log_error("{}: backup failed: {}", target->name, error.message());
      results.push_back({{"target", target->name}, {"status", "failed"}, {"error", error.message()},
                         {"error_code", core::errc_name(error.code())}});
      last_error = error;
      if (error.code() == Errc::interrupted) break;
    }
  }
  if (options.json) print_json(results.size() == 1 ? results[0] : results);
  if (failed == 0) return {};
  if (last_error->code() == Errc::quota_exceeded && failed == 1) return tl::unexpected(*last_error);
  if (failed < targets.size() && last_error->code() != Errc::interrupted)
    return core::fail(Errc::partial, "{} of {} targets failed", failed, targets.size());
  if (targets.size() == 1) return tl::unexpected(*last_error);
  return core::fail(last_error->code(), "every target failed; last: {}", last_error->message());
}

} // namespace anemone::backup
