// init, snapshots, ls, diff, stats, unlock, key: the commands that read or administer a repository.
#include <map>

#include "anemone/backup/commands.hpp"
#include "anemone/backup/targets.hpp"
#include "anemone/core/log.hpp"
#include "anemone/core/system.hpp"
#include "anemone/core/time.hpp"
#include "anemone/repo/lock.hpp"
#include "anemone/repo/walker.hpp"
#include "output.hpp"

namespace anemone::backup {

using core::Errc;
using nlohmann::json;

namespace {
json snapshot_json(const repo::Snapshot& s) {
  json sources = json::array();
  for (const auto& source : s.sources) sources.push_back({{"name", source.name}, {"path", printable_path(source.path)}});
  return {{"id", s.id},     {"short_id", s.id.substr(0, 8)}, {"time", core::format_utc_precise(s.time_ns)},
          {"host", s.host}, {"sources", sources},            {"files", s.files},
          {"dirs", s.dirs}, {"bytes", s.bytes},              {"tree", repo::id_hex(s.tree)}};
}

std::string mode_string(const repo::Node& node) {
  static constexpr char k_types[] = {'-', 'd', 'l', 'p', 'c', 'b'};
  std::string out(1, k_types[static_cast<int>(node.type)]);
  const char* letters = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) out.push_back(node.mode & (1u << (8 - i)) ? letters[i] : '-');
  return out;
}
} // namespace

core::Result<void> cmd_init(const config::Config& config, const InitOptions& options) {
  auto targets = TRY(select_targets(config, options.target));
  auto passphrase = TRY(resolve_passphrase(config));
  json results = json::array();
  size_t failed = 0;
  for (const auto* target : targets) {
    auto backend = TRY(open_backend(*target));
    repo::InitOptions init;
    init.kdf = options.kdf;
    init.host = config.server_name;
    auto done = repo::Repository::init(*backend, passphrase, init);
    if (!done) {
      ++failed;
      core::log_error("{}: {}", target->name, done.error().message());
      results.push_back({{"target", target->name}, {"status", "failed"}, {"error", done.error().message()}});
      if (targets.size() == 1) return tl::unexpected(done.error().context(target->name));
      continue;
    }
    results.push_back({{"target", target->name}, {"status", "created"}, {"location", backend->location()}});
    if (!options.json) print_line("{}: repository created at {}", target->name, backend->location());
  }
  if (options.json) print_json(results.size() == 1 ? results[0] : results);
  if (failed) return core::fail(failed == targets.size() ? Errc::failed : Errc::partial, "{} of {} targets failed", failed, targets.size());
  return {};
}

core::Result<void> cmd_snapshots(const config::Config& config, const CommonOptions& options) {
  auto targets = TRY(select_targets(config, options.target));
  auto passphrase = TRY(resolve_passphrase(config));
  json all = json::object();
  for (const auto* target : targets) {
    auto repository = TRY(open_repository(*target, passphrase));
    auto snapshots = TRY_CTX(repository->list_snapshots(), target->name);
    json list = json::array();
    if (!options.json) {
      print_line("{}: {} snapshots", target->name, snapshots.size());
      if (!snapshots.empty()) print_line("{:<10} {:<20} {:<14} {:>9} {:>11}  {}", "ID", "Time", "Host", "Files", "Size", "Sources");
    }
    for (const auto& s : snapshots) {
      list.push_back(snapshot_json(s));
      if (!options.json) {
        std::vector<std::string> names;
        for (const auto& source : s.sources) names.push_back(source.name);
        print_line("{:<10} {:<20} {:<14} {:>9} {:>11}  {}", s.id.substr(0, 8), core::format_utc(s.time_ns), s.host,
                   s.files, core::format_bytes(s.bytes), fmt::format("{}", fmt::join(names, ",")));
      }
    }
    all[target->name] = std::move(list);
  }
  if (options.json) print_json(targets.size() == 1 ? all[targets.front()->name] : all);
  return {};
}

core::Result<void> cmd_ls(const config::Config& config, const LsOptions& options) {
  auto [target, repository] = TRY(open_single_target(config, options.target, IndexLoad::yes));
  auto snapshot = TRY(repository->find_snapshot(options.snapshot));
  std::string prefix = options.path;
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  json entries = json::array();
  bool found = prefix.empty();
  TRY(repo::walk_tree(*repository, snapshot.tree, "", [&](const std::string& path, const repo::Node& node) -> core::Result<void> {
    if (!prefix.empty() && path != prefix && path.compare(0, prefix.size() + 1, prefix + "/") != 0) return {};
    found = true;
    if (options.json) {
      entries.push_back({{"path", "/" + printable_path(path)}, {"type", repo::node_type_name(node.type)},
                         {"mode", node.mode}, {"uid", node.uid}, {"gid", node.gid}, {"size", node.size},
                         {"mtime", core::format_utc_precise(node.mtime_ns)}});
    } else {
      std::string line = fmt::format("{} {:>5} {:>5} {:>12} {} /{}", mode_string(node), node.uid, node.gid, node.size,
                                     core::format_utc(node.mtime_ns), path);
      if (node.type == repo::NodeType::symlink) line += " -> " + node.link_target;
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    }
    return {};
  }));
  if (!found) return core::fail(Errc::not_found, "snapshot {} has no path /{}", snapshot.id.substr(0, 8), prefix);
  if (options.json) print_json(entries);
  return {};
}

core::Result<void> cmd_diff(const config::Config& config, const DiffOptions& options) {
  auto opened = TRY(open_single_target(config, options.target, IndexLoad::yes));
  auto& repository = opened.repository;  // not a structured binding: clang 14 cannot capture those in a lambda
  auto from = TRY(repository->find_snapshot(options.from));
  auto to = TRY(repository->find_snapshot(options.to));
  auto collect = [&](const repo::Snapshot& s) -> core::Result<std::map<std::string, repo::Node>> {
    std::map<std::string, repo::Node> nodes;
    TRY(repo::walk_tree(*repository, s.tree, "", [&](const std::string& path, const repo::Node& node) -> core::Result<void> {
      nodes.emplace(path, node);
      return {};
    }));
    return nodes;
  };
  auto before = TRY(collect(from));
  auto after = TRY(collect(to));
  json changes = json::array();
  size_t added = 0, removed = 0, modified = 0;
  auto report = [&](char kind, const std::string& path) {
    if (options.json) changes.push_back({{"change", std::string(1, kind)}, {"path", "/" + printable_path(path)}});
    else {
      std::string line = fmt::format("{}    /{}", kind, path);
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    }
  };
  for (const auto& [path, node] : before) {
    auto it = after.find(path);
    if (it == after.end()) {
      report('-', path);
      ++removed;
    } else if (node.type != it->second.type || node.content != it->second.content ||
               node.link_target != it->second.link_target ||
               (node.type != repo::NodeType::dir && (node.mode != it->second.mode || node.mtime_ns != it->second.mtime_ns))) {
      report('M', path);
      ++modified;
    }
  }
  for (const auto& [path, node] : after)
    if (!before.count(path)) {
      report('+', path);
      ++added;
    }
  if (options.json)
    print_json({{"from", from.id}, {"to", to.id}, {"added", added}, {"removed", removed}, {"modified", modified}, {"changes", changes}});
  else
    print_line("{} added, {} removed, {} modified", added, removed, modified);
  return {};
}

core::Result<void> cmd_stats(const config::Config& config, const CommonOptions& options) {
  auto targets = TRY(select_targets(config, options.target));
  auto passphrase = TRY(resolve_passphrase(config));
  json all = json::object();
  for (const auto* target : targets) {
    auto repository = TRY(open_repository(*target, passphrase));
    TRY(repository->load_index());
    auto snapshots = TRY(repository->list_snapshots());
    auto packs = TRY(repository->backend().list(repo::FileType::pack));
    uint64_t stored = 0, plain = 0;
    for (const auto& pack : packs) stored += pack.size;
    for (const auto& pack : repository->index().packs())
      for (const auto& blob : pack.blobs) plain += blob.plain_length;
    uint64_t latest_bytes = snapshots.empty() ? 0 : snapshots.back().bytes;
    uint64_t all_bytes = 0;
    for (const auto& s : snapshots) all_bytes += s.bytes;
    json stats = {{"target", target->name},
                  {"repository_id", repository->id()},
                  {"snapshots", snapshots.size()},
                  {"packs", packs.size()},
                  {"blobs", repository->index().blob_count()},
                  {"stored_bytes", stored},
                  {"unique_plain_bytes", plain},
                  {"latest_snapshot_bytes", latest_bytes},
                  {"all_snapshots_bytes", all_bytes},
                  {"dedup_ratio", stored ? static_cast<double>(all_bytes) / static_cast<double>(stored) : 0.0}};
    if (!options.json)
      print_line("{}: {} snapshots, {} packs, {} blobs; {} stored for {} of unique data; all snapshots together {} "
                 "({:.2f}x deduplication and compression)",
                 target->name, snapshots.size(), packs.size(), repository->index().blob_count(),
                 core::format_bytes(stored), core::format_bytes(plain), core::format_bytes(all_bytes),
                 stats["dedup_ratio"].get<double>());
    all[target->name] = std::move(stats);
  }
  if (options.json) print_json(targets.size() == 1 ? all[targets.front()->name] : all);
  return {};
}

core::Result<void> cmd_unlock(const config::Config& config, const UnlockOptions& options) {
  auto targets = TRY(select_targets(config, options.target));
  auto passphrase = TRY(resolve_passphrase(config));
  json all = json::array();
  for (const auto* target : targets) {
    auto repository = TRY(open_repository(*target, passphrase));
    auto locks = TRY(repo::list_locks(*repository));
    size_t live = 0;
    for (const auto& lock : locks)
      if (!lock.stale) ++live;
    size_t removed = TRY(repo::remove_locks(*repository, options.force ? repo::UnlockScope::all : repo::UnlockScope::stale));
    if (!options.json) {
      print_line("{}: removed {} lock(s)", target->name, removed);
      if (!options.force && live)
        print_line("{}: {} lock(s) of live processes kept (use --force only when sure they are gone)", target->name, live);
    }
    all.push_back({{"target", target->name}, {"removed", removed}, {"kept", options.force ? 0 : live}});
  }
  if (options.json) print_json(all.size() == 1 ? all[0] : all);
  return {};
}

core::Result<void> cmd_key_add(const config::Config& config, const KeyOptions& options) {
  auto [target, repository] = TRY(open_single_target(config, options.target, IndexLoad::no));
  auto fresh = TRY(resolve_new_passphrase(options.new_passphrase_file));
  auto name = TRY(repository->add_key(fresh, options.kdf, config.server_name));
  if (options.json) print_json({{"target", target->name}, {"key_id", name}});
  else print_line("{}: key {} added", target->name, name.substr(0, 8));
  return {};
}

core::Result<void> cmd_key_list(const config::Config& config, const KeyOptions& options) {
  auto [target, repository] = TRY(open_single_target(config, options.target, IndexLoad::no));
  auto keys = TRY(repository->backend().list(repo::FileType::key));
  json list = json::array();
  for (const auto& key : keys) {
    auto content = TRY(repository->backend().load(repo::FileType::key, key.name));
    auto info = repo::describe_key_file(content);
    bool current = key.name == repository->key_file_name();
    json entry = {{"id", key.name}, {"current", current}};
    if (info) entry.update({{"created", info->created}, {"host", info->host}, {"memlimit", info->memlimit}});
    if (!options.json)
      print_line("{}{} {} {}", current ? "*" : " ", key.name.substr(0, 8), info ? info->created : "?", info ? info->host : "?");
    list.push_back(std::move(entry));
  }
  if (options.json) print_json(list);
  return {};
}

core::Result<void> cmd_key_remove(const config::Config& config, const KeyOptions& options) {
  auto [target, repository] = TRY(open_single_target(config, options.target, IndexLoad::no));
  auto keys = TRY(repository->backend().list(repo::FileType::key));
  std::vector<std::string> matches;
  for (const auto& key : keys)
    if (options.key_id.size() >= 4 && key.name.compare(0, options.key_id.size(), options.key_id) == 0) matches.push_back(key.name);
  if (matches.empty()) return core::fail(Errc::not_found, "{}: no key {}", target->name, options.key_id);
  if (matches.size() > 1) return core::fail(Errc::usage, "{}: key id {} is ambiguous", target->name, options.key_id);
  if (matches.front() == repository->key_file_name())
    return core::fail(Errc::usage, "{}: refusing to remove the key in use; open with another passphrase to remove it",
                      target->name);
  TRY(repository->backend().remove(repo::FileType::key, matches.front()));
  if (options.json) print_json({{"target", target->name}, {"removed", matches.front()}});
  else print_line("{}: key {} removed", target->name, matches.front().substr(0, 8));
  return {};
}

} // namespace anemone::backup
