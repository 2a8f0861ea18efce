#pragma once
// The platform's registry (sites, services, backends) as caddy-sync keeps it in the state file,
// each backend's health as health-checker records it, and the Caddy configs caddy-sync loaded.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anemone/config/platform.hpp"
#include "anemone/state/db.hpp"

namespace anemone::state {

// ---- the registry ---------------------------------------------------------------------------------

struct BackendRecord {
  config::BackendSpec spec;
  bool drained = false; // out of rotation, kept in the registry (`caddy-sync backend drain`)
};

struct Registry {
  std::vector<config::SiteSpec> sites;        // by name
  std::vector<config::ServiceSpec> services;  // by name
  std::vector<BackendRecord> backends;        // by service, then name
  const config::ServiceSpec* find_service(std::string_view name) const;
  const BackendRecord* find_backend(std::string_view name) const;
};

core::Result<Registry> load_registry(Db& db);

// One line of what a change did: "add backend api/10.0.0.1:8080", "update service api (policy)".
struct RegistryChange {
  std::string action; // add | update | remove
  std::string kind;   // site | service | backend
  std::string name;
  std::string detail; // for update: the fields that differ
};

enum class Prune { no, yes };  // remove what the file does not declare
enum class DryRun { no, yes }; // compute the changes, write nothing

// Makes the registry match the file (idempotent: a second apply changes nothing). Without
// Prune::yes nothing is removed. A backend's drained flag is not part of the file and is kept.
core::Result<std::vector<RegistryChange>> apply_platform(Db& db, const config::PlatformSpec& spec, Prune prune,
                                                         DryRun dry_run);

core::Result<void> add_site(Db& db, const config::SiteSpec& site);
// Refused while backends are on the site (names them).
core::Result<void> remove_site(Db& db, std::string_view name);
core::Result<void> add_service(Db& db, const config::ServiceSpec& service);
// Removes its backends too; returns their names.
core::Result<std::vector<std::string>> remove_service(Db& db, std::string_view name);
// The service and site must exist; the name, and (service, addr, port), must be new.
core::Result<void> add_backend(Db& db, const config::BackendSpec& backend);
core::Result<void> remove_backend(Db& db, std::string_view name);
// Returns false if it already was in that state.
core::Result<bool> set_drained(Db& db, std::string_view backend, bool drained);

// Bumped by triggers whenever the registry or a backend's up/down state changes.
core::Result<int64_t> platform_generation(Db& db);

// ---- health ---------------------------------------------------------------------------------------

enum class BackendState { unknown, up, down };
std::string_view state_name(BackendState state);
std::optional<BackendState> parse_state(std::string_view text);

struct BackendHealth {
  std::string backend;
  BackendState state = BackendState::unknown;
  int64_t since_ns = 0;   // when it entered this state
  int passes = 0;         // consecutive
  int failures = 0;       // consecutive
  std::optional<double> latency_ms;
  std::optional<int> last_status;
  std::string last_error; // empty after a pass
  int64_t checked_ns = 0;
};

// Every backend with a health row, by backend name.
core::Result<std::map<std::string, BackendHealth>> load_health(Db& db);

struct HealthEvent {
  int64_t id = 0;
  int64_t time_ns = 0;
  std::string backend;
  std::string service;
  std::string site;
  BackendState from = BackendState::unknown;
  BackendState to = BackendState::unknown;
  std::string reason; // "3 failures in a row: HTTP 500", "2 passes in a row"
};

// Writes the rows (upsert) and the events in one transaction; rows of backends removed from the
// registry meanwhile are skipped.
core::Result<void> save_health(Db& db, const std::vector<BackendHealth>& rows, const std::vector<HealthEvent>& events);
core::Result<std::vector<HealthEvent>> recent_health_events(Db& db, int limit);

// ---- Caddy configs --------------------------------------------------------------------------------

struct CaddyConfigRecord {
  int64_t id = 0;
  int64_t time_ns = 0;
  std::string hash;
  std::string config_json;
  std::string outcome; // applied | rejected
  std::string error;
  std::string reason;  // sync | watch | rollback
};

core::Result<int64_t> record_caddy_config(Db& db, const CaddyConfigRecord& record);
// Newest first; config_json left empty unless with_config.
core::Result<std::vector<CaddyConfigRecord>> caddy_config_history(Db& db, int limit, bool with_config);
core::Result<std::optional<CaddyConfigRecord>> find_caddy_config(Db& db, int64_t id);
core::Result<std::optional<CaddyConfigRecord>> last_applied_caddy_config(Db& db);

} // namespace anemone::state
