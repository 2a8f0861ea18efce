#include "anemone/platform/registry_commands.hpp"

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "anemone/core/output.hpp"
#include "anemone/core/time.hpp"
#include "anemone/state/platform.hpp"

namespace anemone::platform {

using core::Errc;
using json = nlohmann::json;

namespace {

core::Result<state::Db> open_state(const config::Config& config) { return state::Db::open(config.state_path); }

core::Result<int64_t> duration_option(std::string_view option, const std::string& text) {
  auto ms = core::parse_duration_ms(text);
  if (!ms) return core::fail(Errc::usage, "{}: expected a duration like 5s or 500ms, got \"{}\"", option, text);
  return *ms;
}

core::Result<void> check_range(std::string_view option, int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max) return core::fail(Errc::usage, "{}: {} is outside {}..{}", option, value, min, max);
  return {};
}

// A backend's own name: what `drain` and `remove` take. The default "api/10.0.0.1:8080" passes.
core::Result<void> check_backend_name(const std::string& name) {
  if (name.empty() || name.size() > 128)
    return core::fail(Errc::usage, "backend name \"{}\": expected 1 to 128 characters", name);
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("._:/[]-").find(c) != std::string_view::npos;
    if (!ok)
      return core::fail(Errc::usage, "backend name \"{}\": only letters, digits and . _ : / [ ] - are allowed", name);
  }
  return {};
}

json service_json(const config::ServiceSpec& s) {
  return {{"name", s.name},
          {"domains", s.domains},
          {"policy", config::policy_name(s.policy)},
          {"health",
           {{"path", s.health.path},
            {"interval", core::format_duration_ms(s.health.interval_ms)},
            {"timeout", core::format_duration_ms(s.health.timeout_ms)},
            {"rise", s.health.rise},
            {"fall", s.health.fall},
            {"expect_status", s.health.expect_status}}}};
}

json backend_json(const state::BackendRecord& b) {
  return {{"name", b.spec.name},      {"service", b.spec.service}, {"site", b.spec.site},
          {"addr", b.spec.addr},      {"port", b.spec.port},       {"priority", b.spec.priority},
          {"weight", b.spec.weight},  {"tags", b.spec.tags},       {"tls", b.spec.tls},
          {"drained", b.drained}};
}

} // namespace

core::Result<void> cmd_apply(const config::Config& config, const ApplyOptions& options) {
  auto spec = TRY(config::load_platform_file(options.file));
  auto db = TRY(open_state(config));
  auto changes = TRY(state::apply_platform(db, spec, options.prune ? state::Prune::yes : state::Prune::no,
                                           options.dry_run ? state::DryRun::yes : state::DryRun::no));
  if (options.json) {
    json list = json::array();
    for (const auto& c : changes)
      list.push_back({{"action", c.action}, {"kind", c.kind}, {"name", c.name}, {"detail", c.detail}});
    core::print_json(json{{"file", options.file}, {"dry_run", options.dry_run}, {"changes", list}});
    return {};
  }
  for (const auto& c : changes) {
    char sign = c.action == "add" ? '+' : c.action == "remove" ? '-' : '~';
    if (c.detail.empty()) core::print_line("{} {} {}", sign, c.kind, c.name);
    else core::print_line("{} {} {} ({})", sign, c.kind, c.name, c.detail);
  }
  if (changes.empty()) core::print_line("{}: the registry already matches", options.file);
  else
    core::print_line("{} change(s){}", changes.size(), options.dry_run ? " would be made (dry run, nothing written)" : "");
  return {};
}

core::Result<void> cmd_site_add(const config::Config& config, const std::string& name) {
  auto db = TRY(open_state(config));
  TRY(state::add_site(db, {name}));
  core::print_line("site {} added", name);
  return {};
}

core::Result<void> cmd_site_remove(const config::Config& config, const std::string& name) {
  auto db = TRY(open_state(config));
  TRY(state::remove_site(db, name));
  core::print_line("site {} removed", name);
  return {};
}

core::Result<void> cmd_site_list(const config::Config& config, bool json_output) {
  auto db = TRY(open_state(config));
  auto registry = TRY(state::load_registry(db));
  if (json_output) {
    json list = json::array();
    for (const auto& site : registry.sites) {
      size_t backends = 0;
      for (const auto& b : registry.backends) backends += b.spec.site == site.name;
      list.push_back({{"name", site.name}, {"backends", backends}});
    }
    core::print_json(list);
    return {};
  }
  for (const auto& site : registry.sites) core::print_line("{}", site.name);
  return {};
}

core::Result<void> cmd_service_add(const config::Config& config, const ServiceAddOptions& o) {
  config::ServiceSpec service;
  service.name = o.name;
  service.domains = o.domains;
  auto policy = config::parse_policy(o.policy);
  if (!policy)
    return core::fail(Errc::usage, "--policy: expected round_robin, failover, least_conn or ip_hash, got \"{}\"",
                      o.policy);
  service.policy = *policy;
  service.health.path = o.health_path;
  service.health.interval_ms = TRY(duration_option("--interval", o.interval));
  service.health.timeout_ms = TRY(duration_option("--timeout", o.timeout));
  service.health.rise = o.rise;
  service.health.fall = o.fall;
  service.health.expect_status = o.expect_status;
  auto db = TRY(open_state(config));
  TRY(state::add_service(db, service));
  core::print_line("service {} added ({})", service.name, fmt::join(service.domains, ", "));
  return {};
}

core::Result<void> cmd_service_remove(const config::Config& config, const std::string& name) {
  auto db = TRY(open_state(config));
  auto removed = TRY(state::remove_service(db, name));
  if (removed.empty()) core::print_line("service {} removed", name);
  else core::print_line("service {} removed with its backends: {}", name, fmt::join(removed, " "));
  return {};
}

core::Result<void> cmd_service_list(const config::Config& config, bool json_output) {
  auto db = TRY(open_state(config));
  auto registry = TRY(state::load_registry(db));
  if (json_output) {
    json list = json::array();
    for (const auto& s : registry.services) list.push_back(service_json(s));
    core::print_json(list);
    return {};
  }
  for (const auto& s : registry.services)
    core::print_line("{:<20} {:<12} {} (health {} every {})", s.name, config::policy_name(s.policy),
                     fmt::join(s.domains, ","), s.health.path, core::format_duration_ms(s.health.interval_ms));
  return {};
}

core::Result<void> cmd_backend_add(const config::Config& config, const BackendAddOptions& o) {
  config::BackendSpec backend;
  backend.service = o.service;
  backend.site = o.site;
  backend.addr = o.addr;
  backend.port = o.port;
  TRY(config::validate_backend_addr(backend.addr));
  TRY(config::validate_port(backend.port));
  backend.name = o.name.empty() ? config::default_backend_name(o.service, o.addr, o.port) : o.name;
  TRY(check_backend_name(backend.name));
  TRY(check_range("--priority", o.priority, 1, 1000));
  TRY(check_range("--weight", o.weight, 1, 100));
  for (const auto& tag : o.tags) TRY(config::validate_name("tag", tag));
  backend.priority = o.priority;
  backend.weight = o.weight;
  backend.tags = o.tags;
  backend.tls = o.tls;
  auto db = TRY(open_state(config));
  TRY(state::add_backend(db, backend));
  core::print_line("backend {} added to service {} (site {})", backend.name, backend.service, backend.site);
  return {};
}

core::Result<void> cmd_backend_remove(const config::Config& config, const std::string& name) {
  auto db = TRY(open_state(config));
  TRY(state::remove_backend(db, name));
  core::print_line("backend {} removed", name);
  return {};
}

core::Result<void> cmd_backend_list(const config::Config& config, const std::string& service, bool json_output) {
  auto db = TRY(open_state(config));
  auto registry = TRY(state::load_registry(db));
  if (!service.empty() && !registry.find_service(service))
    return core::fail(Errc::not_found, "no service named {}", service);
  if (json_output) {
    json list = json::array();
    for (const auto& b : registry.backends)
      if (service.empty() || b.spec.service == service) list.push_back(backend_json(b));
    core::print_json(list);
    return {};
  }
  for (const auto& b : registry.backends)
    if (service.empty() || b.spec.service == service)
      core::print_line("{:<32} site {:<12} priority {:<4} weight {:<3}{}", b.spec.name, b.spec.site, b.spec.priority,
                       b.spec.weight, b.drained ? " drained" : "");
  return {};
}

core::Result<void> cmd_backend_drain(const config::Config& config, const std::string& name, bool drained) {
  auto db = TRY(open_state(config));
  bool changed = TRY(state::set_drained(db, name, drained));
  if (!changed) core::print_line("backend {} was already {}", name, drained ? "drained" : "in rotation");
  else if (drained) core::print_line("backend {} drained: out of rotation at caddy-sync's next sync", name);
  else core::print_line("backend {} back in rotation at caddy-sync's next sync (once healthy)", name);
  return {};
}

} // namespace anemone::platform
