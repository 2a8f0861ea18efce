#include "anemone/platform/caddy_sync.hpp"

#include <algorithm>
#include <ctime>
#include <deque>
#include <memory>
#include <vector>

#include <netdb.h>
#include <sys/socket.h>
#include <cerrno>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "anemone/core/bytes.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/core/net.hpp"
#include "anemone/core/log.hpp"
#include "anemone/core/output.hpp"
#include "anemone/core/system.hpp"
#include "anemone/core/time.hpp"
#include "anemone/platform/caddy_admin.hpp"
#include "anemone/platform/caddy_config.hpp"
#include "anemone/state/platform.hpp"

namespace anemone::platform {

using core::Errc;
using json = nlohmann::json;

std::string config_hash(std::string_view config_json) {
  core::Bytes digest(16);
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(config_json.data()),
                     config_json.size(), nullptr, 0);
  return core::to_hex(digest);
}

namespace {

struct Rendered {
  json config;
  std::string text;
  std::string hash;
  size_t services = 0;
  size_t upstreams = 0;
};

core::Result<Rendered> render(state::Db& db, const config::Config& config) {
  auto registry = TRY(state::load_registry(db));
  auto health = TRY(state::load_health(db));
  Rendered r;
  r.config = render_caddy_config(registry, health, config.platform);
  r.text = r.config.dump();
  r.hash = config_hash(r.text);
  r.services = registry.services.size();
  r.upstreams = registry.backends.size();
  return r;
}

// What Caddy runs now, parsed; null when it runs nothing (a fresh Caddy) or sent something else.
core::Result<json> live_config(CaddyAdmin& admin) {
  std::string body = TRY(admin.current_config());
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) return json();
  return parsed;
}

// The listen addresses of our server in a config ("apps.http.servers.anemone.listen").
std::vector<std::string> listen_addresses(const json& config) {
  std::vector<std::string> out;
  const json* listen = &config;
  for (const char* key : {"apps", "http", "servers", "anemone", "listen"}) {
    if (!listen->is_object() || !listen->contains(key)) return out;
    listen = &(*listen)[key];
  }
  if (listen->is_array())
    for (const auto& item : *listen)
      if (item.is_string()) out.push_back(item.get<std::string>());
  return out;
}

// Caddy 2.6 starts a new config's servers before one fails to listen, then restores the old ones:
// about 2 s of 503s (measured). A listen address the new config adds is therefore tried here
// first; one that another process holds refuses the config before Caddy sees it. (caddy-sync runs
// beside Caddy, in the same network namespace.)
core::Result<void> check_new_listeners(const json& live, const json& config) {
  auto old_addresses = listen_addresses(live);
  for (const auto& address : listen_addresses(config)) {
    if (std::find(old_addresses.begin(), old_addresses.end(), address) != old_addresses.end()) continue;
    std::string text = address.starts_with(":") ? "0.0.0.0" + address : address;
    auto endpoint = core::parse_endpoint(text);
    if (!endpoint) continue; // Caddy judges what we cannot parse
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    addrinfo* found = nullptr;
    if (::getaddrinfo(endpoint->host.c_str(), std::to_string(endpoint->port).c_str(), &hints, &found) != 0) continue;
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> info(found, &::freeaddrinfo);
    core::UniqueFd fd(::socket(info->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) continue;
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), info->ai_addr, info->ai_addrlen) != 0 && errno == EADDRINUSE)
      return core::fail(Errc::failed, "listen address {} is in use by another process", address);
  }
  return {};
}

enum class SyncOutcome { unchanged, loaded };

// Loads `config_text` unless Caddy runs exactly it; records the load (or the rejection).
core::Result<SyncOutcome> load_if_different(state::Db& db, CaddyAdmin& admin, const json& config,
                                            const std::string& config_text, std::string_view reason) {
  json live = TRY(live_config(admin));
  if (live == config) return SyncOutcome::unchanged;
  std::string hash = config_hash(config_text);
  auto loaded = check_new_listeners(live, config);
  if (loaded) loaded = admin.load(config_text);
  state::CaddyConfigRecord record;
  record.time_ns = core::now_ns();
  record.hash = hash;
  record.config_json = config_text;
  record.reason = std::string(reason);
  if (!loaded) {
    record.outcome = "rejected";
    record.error = loaded.error().message();
    TRY(state::record_caddy_config(db, record));
    return core::fail(Errc::corrupt, "Caddy rejected config {} ({}); the previous config stays live: {}",
                      hash.substr(0, 12), reason, loaded.error().message());
  }
  record.outcome = "applied";
  TRY(state::record_caddy_config(db, record));
  return SyncOutcome::loaded;
}

// `rejected_hash`: a config Caddy refused before is not offered again until the registry changes
// what is rendered (history would fill with the same rejection otherwise).
core::Result<SyncOutcome> sync_once(state::Db& db, const config::Config& config, CaddyAdmin& admin,
                                    std::string_view reason, std::string& rejected_hash) {
  Rendered r = TRY(render(db, config));
  if (r.hash == rejected_hash) return SyncOutcome::unchanged;
  auto outcome = load_if_different(db, admin, r.config, r.text, reason);
  if (!outcome) {
    if (outcome.error().code() == Errc::corrupt) rejected_hash = r.hash;
    return tl::unexpected(std::move(outcome).error());
  }
  rejected_hash.clear();
  if (*outcome == SyncOutcome::loaded)
    core::log_info("loaded Caddy config {}: {} service(s), {} backend(s) registered", r.hash.substr(0, 12), r.services,
                   r.upstreams);
  return outcome;
}

json record_json(const state::CaddyConfigRecord& r) {
  json j = {{"id", r.id},         {"time", core::format_utc(r.time_ns)}, {"hash", r.hash},
            {"outcome", r.outcome}, {"reason", r.reason}};
  j["error"] = r.error.empty() ? json() : json(r.error);
  return j;
}

void sleep_ms(int64_t ms) {
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1000000)};
  ::nanosleep(&ts, nullptr); // a signal cuts it short; the loop then sees interrupted()
}

int64_t mono_ms() { return static_cast<int64_t>(core::monotonic_seconds() * 1000.0); }

// The gap a new reload must keep from the previous one, from how many happened lately.
int64_t reload_gap_ms(const std::deque<int64_t>& recent_reloads, int64_t now) {
  auto within = [&](int64_t window) {
    return std::count_if(recent_reloads.begin(), recent_reloads.end(), [&](int64_t t) { return now - t < window; });
  };
  if (within(60000) >= 6) return 15000;
  if (within(30000) >= 3) return 5000;
  return 1000;
}

} // namespace

core::Result<void> cmd_render(const config::Config& config) {
  auto db = TRY(state::Db::open(config.state_path));
  Rendered r = TRY(render(db, config));
  core::print_json(r.config);
  return {};
}

core::Result<void> cmd_sync(const config::Config& config, bool json_output) {
  auto db = TRY(state::Db::open(config.state_path));
  auto admin = TRY(CaddyAdmin::open(config.platform.caddy_admin));
  Rendered r = TRY(render(db, config));
  auto outcome = TRY(load_if_different(db, admin, r.config, r.text, "sync"));
  bool loaded = outcome == SyncOutcome::loaded;
  if (json_output) {
    core::print_json(json{{"loaded", loaded}, {"hash", r.hash}, {"caddy_admin", config.platform.caddy_admin}});
  } else if (loaded) {
    core::print_line("loaded config {} into Caddy at {}", r.hash.substr(0, 12), config.platform.caddy_admin);
  } else {
    core::print_line("Caddy at {} already runs config {}", config.platform.caddy_admin, r.hash.substr(0, 12));
  }
  return {};
}

core::Result<void> cmd_history(const config::Config& config, int limit, bool json_output) {
  auto db = TRY(state::Db::open(config.state_path));
  auto records = TRY(state::caddy_config_history(db, limit, false));
  if (json_output) {
    json list = json::array();
    for (const auto& r : records) list.push_back(record_json(r));
    core::print_json(list);
    return {};
  }
  for (const auto& r : records) {
    if (r.error.empty())
      core::print_line("{:>5}  {}  {:<8}  {:<8}  {}", r.id, core::format_utc(r.time_ns), r.outcome, r.reason,
                       r.hash.substr(0, 12));
    else
      core::print_line("{:>5}  {}  {:<8}  {:<8}  {}  {}", r.id, core::format_utc(r.time_ns), r.outcome, r.reason,
                       r.hash.substr(0, 12), r.error);
  }
  return {};
}

core::Result<void> cmd_rollback(const config::Config& config, std::optional<int64_t> id, bool json_output) {
  auto db = TRY(state::Db::open(config.state_path));
  std::optional<state::CaddyConfigRecord> target;
  if (id) {
    target = TRY(state::find_caddy_config(db, *id));
    if (!target) return core::fail(Errc::not_found, "no config {} in history (see caddy-sync history)", *id);
    if (target->outcome != "applied")
      return core::fail(Errc::usage, "config {} was {} by Caddy; roll back to one that was applied", *id,
                        target->outcome);
  } else {
    // The newest applied config is what runs; the one to go back to is the applied one before it
    // with a different content.
    auto records = TRY(state::caddy_config_history(db, 1000, false));
    std::string newest;
    for (const auto& r : records) {
      if (r.outcome != "applied") continue;
      if (newest.empty()) newest = r.hash;
      else if (r.hash != newest) {
        target = TRY(state::find_caddy_config(db, r.id));
        break;
      }
    }
    if (!target) return core::fail(Errc::not_found, "no earlier applied config to roll back to");
  }
  auto admin = TRY(CaddyAdmin::open(config.platform.caddy_admin));
  json parsed = json::parse(target->config_json, nullptr, false);
  if (parsed.is_discarded()) return core::fail(Errc::corrupt, "config {} in history is not JSON", target->id);
  auto outcome = TRY(load_if_different(db, admin, parsed, target->config_json, "rollback"));
  if (json_output) {
    core::print_json(json{{"rolled_back_to", target->id}, {"hash", target->hash},
                          {"loaded", outcome == SyncOutcome::loaded}});
  } else {
    core::print_line("Caddy runs config {} ({}, first applied {}){}", target->id, target->hash.substr(0, 12),
                     core::format_utc(target->time_ns), outcome == SyncOutcome::loaded ? "" : " already");
    core::print_line("note: a running `caddy-sync watch` loads the registry's config again at its next change");
  }
  return {};
}

core::Result<void> cmd_caddy_status(const config::Config& config, bool json_output) {
  auto db = TRY(state::Db::open(config.state_path));
  Rendered r = TRY(render(db, config));
  auto last = TRY(state::last_applied_caddy_config(db));
  auto history = TRY(state::caddy_config_history(db, 1, false));
  json live;
  std::string problem;
  auto admin = CaddyAdmin::open(config.platform.caddy_admin);
  if (!admin) problem = admin.error().message();
  else if (auto got = live_config(*admin)) live = *got;
  else problem = got.error().message();
  bool reachable = problem.empty();
  bool in_sync = reachable && live == r.config;
  if (json_output) {
    json out = {{"caddy_admin", config.platform.caddy_admin}, {"reachable", reachable}, {"in_sync", in_sync},
                {"rendered_hash", r.hash}};
    out["error"] = reachable ? json() : json(problem);
    out["live_hash"] = reachable && !live.is_null() ? json(config_hash(live.dump())) : json();
    out["last_applied"] = last ? record_json(*last) : json();
    out["last_attempt"] = history.empty() ? json() : record_json(history.front());
    core::print_json(out);
    return {};
  }
  core::print_line("Caddy admin: {} ({})", config.platform.caddy_admin, reachable ? "reachable" : problem);
  core::print_line("rendered config: {} ({})", r.hash.substr(0, 12),
                   !reachable ? "cannot compare" : in_sync ? "live in Caddy" : "NOT what Caddy runs: run caddy-sync sync");
  if (last) core::print_line("last applied: #{} at {} ({})", last->id, core::format_utc(last->time_ns), last->reason);
  if (!history.empty() && history.front().outcome == "rejected")
    core::print_line("last attempt REJECTED at {}: {}", core::format_utc(history.front().time_ns), history.front().error);
  return {};
}

namespace {
// Caddy 2.6 binds a new SO_REUSEPORT socket at each reload and closes the old one: without
// tcp_migrate_req the kernel resets connections still queued on the old one (scripts/platform-net.sh).
void warn_unless_connections_migrate() {
  auto knob = core::read_text_file("/proc/sys/net/ipv4/tcp_migrate_req");
  if (knob && knob->rfind("1", 0) == 0) return;
  core::log_warning("net.ipv4.tcp_migrate_req is {} in this network namespace: a client connecting at the instant "
                    "of a Caddy reload may be reset (scripts/platform-net.sh sets it; in Docker: sysctls)",
                    knob ? "off" : "not available");
}
} // namespace

core::Result<void> run_caddy_watch(const config::Config& config, const WatchOptions& options) {
  auto db = TRY(state::Db::open(config.state_path));
  auto admin = TRY(CaddyAdmin::open(config.platform.caddy_admin));
  core::log_info("watching the registry and backend health; Caddy admin at {}", config.platform.caddy_admin);
  warn_unless_connections_migrate();
  std::optional<int64_t> seen_generation;
  int64_t changed_at = -1;             // the first change not yet loaded (monotonic ms), -1: none
  int64_t next_verify = 0;             // when Caddy's live config is compared again
  std::deque<int64_t> recent_reloads;
  int64_t last_reload = -1000000;
  std::string last_failure;
  std::string rejected_hash;
  while (!core::interrupted()) {
    int64_t now = mono_ms();
    auto generation = state::platform_generation(db);
    if (!generation) {
      core::log_warning("reading the registry: {}", generation.error().message());
    } else if (generation && *generation != seen_generation) {
      if (changed_at < 0) changed_at = now;
      seen_generation = *generation;
    }
    bool due = changed_at >= 0 && now - changed_at >= options.settle_ms &&
               now - last_reload >= reload_gap_ms(recent_reloads, now);
    if (due || now >= next_verify) {
      auto outcome = sync_once(db, config, admin, due ? "watch" : "verify", rejected_hash);
      next_verify = now + options.verify_every_ms;
      if (outcome) {
        changed_at = -1;
        if (*outcome == SyncOutcome::loaded) {
          last_reload = now;
          recent_reloads.push_back(now);
          while (recent_reloads.size() > 16) recent_reloads.pop_front();
        }
        if (!last_failure.empty()) core::log_info("Caddy runs the registry's config again");
        last_failure.clear();
      } else {
        // Caddy down or refusing: retried at the next verify (the registry may also change first).
        changed_at = -1;
        if (outcome.error().message() != last_failure) core::log_error("{}", outcome.error().message());
        last_failure = outcome.error().message();
        next_verify = now + std::min<int64_t>(options.verify_every_ms, 2000);
      }
    }
    sleep_ms(options.poll_ms);
  }
  core::log_info("stopping");
  return {};
}

} // namespace anemone::platform
