#include "anemone/platform/health_status.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "anemone/core/output.hpp"
#include "anemone/core/time.hpp"
#include "anemone/state/platform.hpp"

namespace anemone::platform {

namespace fs = std::filesystem;
using nlohmann::json;
using state::BackendState;

namespace {

constexpr int64_t k_ns_per_ms = 1'000'000;
// Results older than this many intervals (and at least a minute) mean nobody is probing.
constexpr int64_t k_stale_intervals = 3;
constexpr int64_t k_stale_minimum_ms = 60'000;

struct Row {
  const config::ServiceSpec* service = nullptr;
  const state::BackendRecord* backend = nullptr; // null: a service without backends
  const state::BackendHealth* health = nullptr;  // null: never probed
};

std::string latency_text(const state::BackendHealth* health) {
  if (!health || !health->latency_ms) return "-";
  return fmt::format("{:.1f} ms", *health->latency_ms);
}

std::string state_text(const Row& row) {
  std::string text(state::state_name(row.health ? row.health->state : BackendState::unknown));
  if (row.backend->drained) text += ", drained";
  return text;
}

json event_json(const state::HealthEvent& event) {
  return {{"time", core::format_utc(event.time_ns)}, {"backend", event.backend}, {"service", event.service},
          {"site", event.site}, {"from", state::state_name(event.from)}, {"to", state::state_name(event.to)},
          {"reason", event.reason}};
}

json backend_json(const state::BackendRecord& record, const state::BackendHealth* health) {
  const auto& spec = record.spec;
  json out = {{"name", spec.name}, {"site", spec.site}, {"addr", spec.addr}, {"port", spec.port},
              {"tls", spec.tls},   {"drained", record.drained}};
  out["state"] = state::state_name(health ? health->state : BackendState::unknown);
  out["since"] = health && health->since_ns ? json(core::format_utc(health->since_ns)) : json(nullptr);
  out["latency_ms"] = health && health->latency_ms ? json(*health->latency_ms) : json(nullptr);
  out["last_status"] = health && health->last_status ? json(*health->last_status) : json(nullptr);
  out["last_error"] = health && !health->last_error.empty() ? json(health->last_error) : json(nullptr);
  out["passes"] = health ? health->passes : 0;
  out["failures"] = health ? health->failures : 0;
  out["checked"] = health && health->checked_ns ? json(core::format_utc(health->checked_ns)) : json(nullptr);
  return out;
}

json service_json(const config::ServiceSpec& service) {
  const auto& h = service.health;
  return {{"name", service.name},
          {"domains", service.domains},
          {"policy", config::policy_name(service.policy)},
          {"health",
           {{"path", h.path},
            {"interval_ms", h.interval_ms},
            {"timeout_ms", h.timeout_ms},
            {"rise", h.rise},
            {"fall", h.fall},
            {"expect_status", h.expect_status}}},
          {"backends", json::array()}};
}

// "2m ago", "3h ago": how old the newest probe result is.
std::string age_text(int64_t ms) {
  if (ms < 120'000) return fmt::format("{}s ago", ms / 1000);
  if (ms < 7'200'000) return fmt::format("{}m ago", ms / 60'000);
  if (ms < 172'800'000) return fmt::format("{}h ago", ms / 3'600'000);
  return fmt::format("{}d ago", ms / 86'400'000);
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      bool last = i + 1 == row.size();
      line += last ? row[i] : fmt::format("{:<{}}  ", row[i], widths[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    core::print_line("{}", line);
  }
}

} // namespace

core::Result<void> print_health_status(state::Db& db, const HealthStatusOptions& options) {
  auto registry = TRY(state::load_registry(db));
  auto health = TRY(state::load_health(db));
  std::vector<state::HealthEvent> events;
  if (options.events > 0) events = TRY(state::recent_health_events(db, options.events));
  std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return a.time_ns != b.time_ns ? a.time_ns > b.time_ns : a.id > b.id;
  });

  std::vector<Row> rows;
  for (const auto& service : registry.services) {
    size_t before = rows.size();
    for (const auto& backend : registry.backends) {
      if (backend.spec.service != service.name) continue;
      auto found = health.find(backend.spec.name);
      rows.push_back({&service, &backend, found == health.end() ? nullptr : &found->second});
    }
    if (rows.size() == before) rows.push_back({&service, nullptr, nullptr});
  }

  if (options.json) {
    json services = json::array();
    for (const auto& row : rows) {
      if (services.empty() || services.back()["name"] != row.service->name) services.push_back(service_json(*row.service));
      if (row.backend) services.back()["backends"].push_back(backend_json(*row.backend, row.health));
    }
    json out = {{"services", services}};
    if (options.events > 0) {
      json list = json::array();
      for (const auto& event : events) list.push_back(event_json(event));
      out["events"] = list;
    }
    core::print_json(out);
    return {};
  }

  if (registry.services.empty()) {
    core::print_line("no services registered (caddy-sync adds them)");
  } else {
    std::vector<std::vector<std::string>> table{
        {"SERVICE", "BACKEND", "SITE", "STATE", "SINCE", "LATENCY", "LAST ERROR"}};
    for (const auto& row : rows) {
      if (!row.backend) {
        table.push_back({row.service->name, "(no backends)", "", "", "", "", ""});
        continue;
      }
      const auto* h = row.health;
      table.push_back({row.service->name, row.backend->spec.name, row.backend->spec.site, state_text(row),
                       h && h->since_ns ? core::format_utc(h->since_ns) : "-", latency_text(h),
                       h && !h->last_error.empty() ? h->last_error : ""});
    }
    print_table(table);
  }

  // Results nobody refreshes look healthy forever: say when the newest one is old.
  int64_t newest_ns = 0;
  int64_t longest_interval_ms = 0;
  for (const auto& row : rows) {
    if (row.health) newest_ns = std::max(newest_ns, row.health->checked_ns);
    if (row.backend) longest_interval_ms = std::max(longest_interval_ms, row.service->health.interval_ms);
  }
  int64_t age_ms = (core::now_ns() - newest_ns) / k_ns_per_ms;
  if (newest_ns > 0 && age_ms > std::max(k_stale_intervals * longest_interval_ms, k_stale_minimum_ms))
    core::print_line("note: the newest probe result is from {} ({}): is `health-checker run` running?",
                     core::format_utc(newest_ns), age_text(age_ms));

  if (options.events > 0) {
    core::print_line("");
    if (events.empty()) {
      core::print_line("no transitions recorded yet");
    } else {
      core::print_line("last {} transitions (newest first):", events.size());
      for (const auto& event : events)
        core::print_line("{}  {} (site {}) {} -> {}: {}", core::format_utc(event.time_ns), event.backend, event.site,
                         state::state_name(event.from), state::state_name(event.to), event.reason);
    }
  }
  return {};
}

core::Result<void> cmd_health_status(const fs::path& state_path, const HealthStatusOptions& options) {
  if (!fs::exists(state_path)) {
    if (options.json) {
      json out = {{"services", json::array()}};
      if (options.events > 0) out["events"] = json::array();
      core::print_json(out);
    } else {
      core::print_line("no state file yet ({}): no services registered", state_path.string());
    }
    return {};
  }
  auto db = TRY(state::Db::open(state_path));
  return print_health_status(db, options);
}

} // namespace anemone::platform
