// restore, check, forget, prune: the commands that read or rewrite data.
#include "anemone/backup/commands.hpp"
#include "anemone/backup/targets.hpp"
#include "anemone/core/log.hpp"
#include "anemone/core/progress.hpp"
#include "anemone/core/time.hpp"
#include "anemone/repo/checker.hpp"
#include "anemone/repo/lock.hpp"
#include "anemone/repo/pruner.hpp"
#include "anemone/repo/restorer.hpp"
#include "anemone/repo/retention.hpp"
#include "anemone/state/db.hpp"
#include "anemone/state/runs.hpp"
#include "output.hpp"
#include "peer_quota.hpp"

namespace anemone::backup {

using core::Errc;
using nlohmann::json;

core::Result<void> cmd_restore(const config::Config& config, const RestoreOptions& options) {
  auto [target, repository] = TRY(open_single_target(config, options.target, IndexLoad::yes));
  auto snapshot = TRY(repository->find_snapshot(options.snapshot));
  core::ProgressCounters progress;
  progress.bytes_total = snapshot.bytes;
  progress.files_total = snapshot.files;
  progress.totals_known = true;
  repo::RestoreSummary summary;
  {
    core::ProgressPrinter printer("restore", progress);
    repo::RestoreOptions restore_options{options.to, options.includes, &progress};
    // `--to /`: every source back at the path it was backed up from, as restic does.
    if (std::filesystem::path(options.to).lexically_normal() == "/")
      for (const auto& source : snapshot.sources) restore_options.source_paths[source.name] = source.path;
    summary = TRY(repo::restore(*repository, snapshot, restore_options));
  }
  core::log_info("restored snapshot {} to {}: {} files, {} directories, {} links, {} in {:.1f}s{}",
                 snapshot.id.substr(0, 8), options.to, summary.files, summary.dirs, summary.links,
                 core::format_bytes(summary.bytes), summary.duration_s,
                 summary.damaged.empty() ? "" : fmt::format(", {} damaged", summary.damaged.size()));
  if (options.json) {
    json damaged = json::array();
    for (const auto& path : summary.damaged) damaged.push_back("/" + printable_path(path));
    json warnings = json::array();
    for (const auto& w : summary.warnings) warnings.push_back(printable_path(w));
    print_json({{"snapshot_id", snapshot.id}, {"target", target->name}, {"to", options.to},
                {"files", summary.files}, {"dirs", summary.dirs}, {"links", summary.links},
                {"bytes", summary.bytes}, {"damaged", damaged}, {"warnings", warnings},
                {"unmatched_includes", summary.unmatched_includes},
                {"duration_s", summary.duration_s}});
  } else {
    print_line("restored snapshot {} to {}: {} files, {} directories, {}", snapshot.id.substr(0, 8), options.to,
               summary.files, summary.dirs, core::format_bytes(summary.bytes));
    for (const auto& path : summary.damaged) print_line("DAMAGED, not restored: /{}", path);
  }
  if (!summary.unmatched_includes.empty())
    return core::fail(Errc::not_found, "snapshot {} has no {}", snapshot.id.substr(0, 8),
                      fmt::join(summary.unmatched_includes, ", "));
  if (!summary.damaged.empty())
    return core::fail(Errc::corrupt, "{} file(s) not restored because their data is damaged", summary.damaged.size());
  return {};
}

core::Result<void> cmd_check(const config::Config& config, const CheckOptions& options) {
  auto targets = TRY(select_targets(config, options.target));
  auto passphrase = TRY(resolve_passphrase(config));
  json all = json::array();
  size_t failed = 0;
  for (const auto* target : targets) {
    auto repository = TRY(open_repository(*target, passphrase));
    // check only reads: on a full disk, where no lock file fits, it goes on without one.
    auto lock = repo::RepoLock::acquire(*repository, repo::LockKind::shared);
    if (!lock && lock.error().code() != Errc::no_space) return tl::unexpected(lock.error().context(target->name));
    if (!lock) core::log_warning("{}: checking without a lock: {}", target->name, lock.error().message());
    repo::CheckOptions check_options;
    if (options.read_data) check_options.read_data = repo::CheckOptions::ReadData::all;
    if (options.read_data_subset) {
      check_options.read_data = repo::CheckOptions::ReadData::subset;
      check_options.subset_percent = *options.read_data_subset;
    }
    core::ProgressCounters progress;
    check_options.progress = &progress;
    repo::CheckReport report;
    {
      core::ProgressPrinter printer(fmt::format("check {}", target->name), progress);
      report = TRY_CTX(repo::check(*repository, check_options), target->name);
    }
    if (!report.ok()) ++failed;
    core::log_info("{}: check {}: {} snapshots, {} packs ({} read), {} blobs ({} read), {} errors, {} warnings",
                   target->name, report.ok() ? "passed" : "FAILED", report.snapshots, report.packs,
                   report.packs_read, report.blobs, report.blobs_read, report.errors.size(), report.warnings.size());
    if (options.json) {
      json files = json::array();
      for (const auto& f : report.damaged_files) files.push_back(printable_path(f));
      all.push_back({{"target", target->name}, {"ok", report.ok()}, {"snapshots", report.snapshots},
                     {"packs", report.packs}, {"packs_read", report.packs_read}, {"blobs", report.blobs},
                     {"blobs_read", report.blobs_read}, {"errors", report.errors}, {"warnings", report.warnings},
                     {"damaged_packs", report.damaged_packs}, {"damaged_files", files}});
    } else {
      for (const auto& warning : report.warnings) print_line("{}: warning: {}", target->name, warning);
      for (const auto& error : report.errors) print_line("{}: error: {}", target->name, printable_path(error));
      print_line("{}: {} ({} snapshots, {} packs, {} blobs{})", target->name,
                 report.ok() ? "no errors found" : fmt::format("{} errors found", report.errors.size()),
                 report.snapshots, report.packs, report.blobs,
                 report.packs_read ? fmt::format("; {} packs read and verified", report.packs_read) : "");
    }
  }
  if (options.json) print_json(all.size() == 1 ? all[0] : all);
  if (failed) return core::fail(Errc::corrupt, "check found damage on {} of {} targets", failed, targets.size());
  return {};
}

namespace {

json prune_json(const repo::PruneSummary& s) {
  return {{"packs_deleted", s.packs_deleted}, {"packs_repacked", s.packs_repacked}, {"packs_written", s.packs_written},
          {"packs_kept", s.packs_kept},       {"blobs_removed", s.blobs_removed},   {"bytes_freed", s.bytes_freed},
          {"bytes_before", s.bytes_before},   {"bytes_after", s.bytes_after},     {"packs_waiting", s.packs_waiting}};
}

core::Result<json> forget_target(const config::Config& config, const config::Target& target,
                                 const crypto::SecretBytes& passphrase, const ForgetOptions& options, bool forget) {
  // A peer holding us over quota refuses every write, a lock file too, but lets us delete: forget
  // and prune then work by deletion alone, under the site lock instead of a repository lock (only
  // this site writes to its account on the peer).
  std::optional<PeerQuota> quota;
  if (target.type == config::TargetType::sftp) quota = read_peer_quota(target);
  bool delete_only = quota && quota->over;
  auto repository = TRY(open_repository(target, passphrase));
  std::unique_ptr<repo::RepoLock> lock;
  std::optional<core::FileLock> site_lock;
  if (delete_only) {
    if (!options.wait) site_lock = TRY_CTX(lock_site(config), target.name); // else the caller holds it
    core::log_warning("{}; deleting only, without a repository lock", quota->message(target.name));
    if (!options.json) print_line("{}; deleting only", quota->message(target.name));
  } else {
    lock = TRY_CTX(repo::RepoLock::acquire(*repository, options.prune ? repo::LockKind::exclusive : repo::LockKind::shared),
                   target.name);
  }
  json result = {{"target", target.name}, {"dry_run", options.dry_run}, {"over_quota", delete_only}};
  if (forget) {
    auto snapshots = TRY(repository->list_snapshots());
    if (target.retention.empty())
      return core::fail(Errc::config, "target {} has no retention policy in {}; refusing to forget anything",
                        target.name, config.file.string());
    auto decisions = repo::apply_retention(snapshots, target.retention);
    json kept = json::array(), removed = json::array();
    auto db = TRY(state::Db::open(config.state_path));
    for (const auto& decision : decisions) {
      if (decision.keep) {
        kept.push_back({{"id", decision.snapshot.id}, {"time", core::format_utc(decision.snapshot.time_ns)},
                        {"reasons", decision.reasons}});
        if (!options.json)
          print_line("{}: keep   {} {} ({})", target.name, decision.snapshot.id.substr(0, 8),
                     core::format_utc(decision.snapshot.time_ns), fmt::join(decision.reasons, ", "));
        continue;
      }
      removed.push_back({{"id", decision.snapshot.id}, {"time", core::format_utc(decision.snapshot.time_ns)}});
      if (!options.json)
        print_line("{}: {} {} {}", target.name, options.dry_run ? "would remove" : "remove", decision.snapshot.id.substr(0, 8),
                   core::format_utc(decision.snapshot.time_ns));
      if (!options.dry_run) {
        TRY(repository->backend().remove(repo::FileType::snapshot, decision.snapshot.id));
        TRY(state::forget_snapshot(db, target.name, decision.snapshot.id));
      }
    }
    result["kept"] = kept;
    result["removed"] = removed;
  }
  if (options.prune) {
    auto summary = TRY_CTX(repo::prune(*repository, {options.dry_run, delete_only}), target.name);
    result["prune"] = prune_json(summary);
    if (delete_only && summary.packs_waiting && !options.json)
      print_line("{}: {} packs with unused data wait for a prune once the peer allows writes again", target.name,
                 summary.packs_waiting);
    core::log_info("{}: prune{}: {} packs deleted, {} repacked into {}, {} freed", target.name,
                   options.dry_run ? " (dry run)" : "", summary.packs_deleted, summary.packs_repacked,
                   summary.packs_written, core::format_bytes(summary.bytes_freed));
    if (!options.json)
      print_line("{}: {}{} packs deleted, {} repacked into {} new; {} freed ({} -> {})", target.name,
                 options.dry_run ? "dry run: " : "", summary.packs_deleted, summary.packs_repacked,
                 summary.packs_written, core::format_bytes(summary.bytes_freed),
                 core::format_bytes(summary.bytes_before), core::format_bytes(summary.bytes_after));
  }
  return result;
}

core::Result<void> forget_or_prune(const config::Config& config, const ForgetOptions& options, bool forget) {
  auto targets = TRY(select_targets(config, options.target));
  // --wait (cron's weekly prune): queue behind a running backup instead of failing on its lock,
  // and keep the watcher's next run waiting until this one is done.
  std::optional<core::FileLock> site_lock;
  if (options.wait) {
    auto lock = lock_site(config, true);
    if (!lock) return tl::unexpected(lock.error());
    site_lock = std::move(*lock);
  }
  auto passphrase = TRY(resolve_passphrase(config));
  json all = json::array();
  size_t failed = 0;
  std::optional<core::Error> last;
  for (const auto* target : targets) {
    auto result = forget_target(config, *target, passphrase, options, forget);
    if (!result) {
      ++failed;
      core::log_error("{}: {}", target->name, result.error().message());
      all.push_back({{"target", target->name}, {"status", "failed"}, {"error", result.error().message()}});
      last = result.error();
      continue;
    }
    all.push_back(std::move(*result));
  }
  if (options.json) print_json(all.size() == 1 ? all[0] : all);
  if (!failed) return {};
  if (targets.size() == 1) return tl::unexpected(*last);
  return core::fail(failed < targets.size() ? Errc::partial : last->code(), "{} of {} targets failed", failed, targets.size());
}

} // namespace

core::Result<void> cmd_forget(const config::Config& config, const ForgetOptions& options) {
  return forget_or_prune(config, options, true);
}

core::Result<void> cmd_prune(const config::Config& config, const ForgetOptions& options) {
  ForgetOptions prune_options = options;
  prune_options.prune = true;
  return forget_or_prune(config, prune_options, false);
}

} // namespace anemone::backup
