#include "anemone/state/platform.hpp"

#include <algorithm>
#include <set>

#include "anemone/core/time.hpp"

namespace anemone::state {

using core::Errc;

namespace {

std::string join(const std::vector<std::string>& items, char separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string::npos) end = text.size();
    if (end > start) items.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

core::Result<bool> exists(Db& db, std::string_view sql, std::string_view key) {
  auto stmt = TRY(db.prepare(sql));
  stmt.bind(1, key);
  return stmt.step();
}

// The fields of two services that differ, for "update service api (policy, health)".
std::string service_differences(const config::ServiceSpec& a, const config::ServiceSpec& b) {
  std::vector<std::string> fields;
  if (a.domains != b.domains) fields.push_back("domains");
  if (a.policy != b.policy) fields.push_back("policy");
  if (a.health != b.health) fields.push_back("health");
  return join(fields, ',');
}

std::string backend_differences(const config::BackendSpec& a, const config::BackendSpec& b) {
  std::vector<std::string> fields;
  if (a.service != b.service) fields.push_back("service");
  if (a.site != b.site) fields.push_back("site");
  if (a.addr != b.addr) fields.push_back("addr");
  if (a.port != b.port) fields.push_back("port");
  if (a.priority != b.priority) fields.push_back("priority");
  if (a.weight != b.weight) fields.push_back("weight");
  if (a.tags != b.tags) fields.push_back("tags");
  if (a.tls != b.tls) fields.push_back("tls");
  return join(fields, ',');
}

core::Result<void> insert_site(Db& db, const config::SiteSpec& site) {
  auto stmt = TRY(db.prepare("INSERT INTO platform_sites (name, created_ns) VALUES (?, ?)"));
  return stmt.bind(1, site.name).bind(2, core::now_ns()).run();
}

core::Result<void> write_service(Db& db, const config::ServiceSpec& s, bool update) {
  auto stmt = TRY(db.prepare(
      update ? "UPDATE platform_services SET domains = ?1, policy = ?2, health_path = ?3, health_interval_ms = ?4, "
               "health_timeout_ms = ?5, health_rise = ?6, health_fall = ?7, health_expect_status = ?8 WHERE name = ?9"
             : "INSERT INTO platform_services (domains, policy, health_path, health_interval_ms, health_timeout_ms, "
               "health_rise, health_fall, health_expect_status, name, created_ns) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  stmt.bind(1, join(s.domains, ' '))
      .bind(2, config::policy_name(s.policy))
      .bind(3, s.health.path)
      .bind(4, s.health.interval_ms)
      .bind(5, s.health.timeout_ms)
      .bind(6, int64_t{s.health.rise})
      .bind(7, int64_t{s.health.fall})
      .bind(8, int64_t{s.health.expect_status})
      .bind(9, s.name);
  if (!update) stmt.bind(10, core::now_ns());
  return stmt.run();
}

core::Result<void> write_backend(Db& db, const config::BackendSpec& b, bool update) {
  auto stmt = TRY(db.prepare(update ? "UPDATE platform_backends SET service = ?1, site = ?2, addr = ?3, port = ?4, "
                                      "priority = ?5, weight = ?6, tags = ?7, tls = ?8 WHERE name = ?9"
                                    : "INSERT INTO platform_backends (service, site, addr, port, priority, weight, "
                                      "tags, tls, name, created_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  stmt.bind(1, b.service)
      .bind(2, b.site)
      .bind(3, b.addr)
      .bind(4, int64_t{b.port})
      .bind(5, int64_t{b.priority})
      .bind(6, int64_t{b.weight})
      .bind(7, join(b.tags, ','))
      .bind(8, int64_t{b.tls ? 1 : 0})
      .bind(9, b.name);
  if (!update) stmt.bind(10, core::now_ns());
  return stmt.run();
}

core::Result<void> delete_by_name(Db& db, std::string_view sql, std::string_view name) {
  auto stmt = TRY(db.prepare(sql));
  return stmt.bind(1, name).run();
}

template <typename T>
const T* find_named(const std::vector<T>& items, std::string_view name) {
  for (const auto& item : items)
    if (item.name == name) return &item;
  return nullptr;
}

} // namespace

const config::ServiceSpec* Registry::find_service(std::string_view name) const { return find_named(services, name); }

const BackendRecord* Registry::find_backend(std::string_view name) const {
  for (const auto& backend : backends)
    if (backend.spec.name == name) return &backend;
  return nullptr;
}

core::Result<Registry> load_registry(Db& db) {
  Registry registry;
  {
    auto stmt = TRY(db.prepare("SELECT name FROM platform_sites ORDER BY name"));
    while (TRY(stmt.step())) registry.sites.push_back({stmt.column_text(0)});
  }
  {
    auto stmt = TRY(db.prepare("SELECT name, domains, policy, health_path, health_interval_ms, health_timeout_ms, "
                               "health_rise, health_fall, health_expect_status FROM platform_services ORDER BY name"));
    while (TRY(stmt.step())) {
      config::ServiceSpec s;
      s.name = stmt.column_text(0);
      s.domains = split(stmt.column_text(1), ' ');
      auto policy = config::parse_policy(stmt.column_text(2));
      if (!policy)
        return core::fail(Errc::corrupt, "state file: service {} has an unknown policy \"{}\"", s.name,
                          stmt.column_text(2));
      s.policy = *policy;
      s.health.path = stmt.column_text(3);
      s.health.interval_ms = stmt.column_int(4);
      s.health.timeout_ms = stmt.column_int(5);
      s.health.rise = static_cast<int>(stmt.column_int(6));
      s.health.fall = static_cast<int>(stmt.column_int(7));
      s.health.expect_status = static_cast<int>(stmt.column_int(8));
      registry.services.push_back(std::move(s));
    }
  }
  {
    auto stmt = TRY(db.prepare("SELECT name, service, site, addr, port, priority, weight, tags, tls, drained "
                               "FROM platform_backends ORDER BY service, name"));
    while (TRY(stmt.step())) {
      BackendRecord b;
      b.spec.name = stmt.column_text(0);
      b.spec.service = stmt.column_text(1);
      b.spec.site = stmt.column_text(2);
      b.spec.addr = stmt.column_text(3);
      b.spec.port = static_cast<int>(stmt.column_int(4));
      b.spec.priority = static_cast<int>(stmt.column_int(5));
      b.spec.weight = static_cast<int>(stmt.column_int(6));
      b.spec.tags = split(stmt.column_text(7), ',');
      b.spec.tls = stmt.column_int(8) != 0;
      b.drained = stmt.column_int(9) != 0;
      registry.backends.push_back(std::move(b));
    }
  }
  return registry;
}

core::Result<std::vector<RegistryChange>> apply_platform(Db& db, const config::PlatformSpec& spec, Prune prune,
                                                         DryRun dry_run) {
  auto txn = TRY(Txn::begin(db));
  Registry current = TRY(load_registry(db));
  std::vector<RegistryChange> changes;
  bool write = dry_run == DryRun::no;

  // Order matters for the foreign keys: sites and services before the backends that name them,
  // backends removed before the services and sites they used.
  for (const auto& site : spec.sites)
    if (!find_named(current.sites, site.name)) {
      changes.push_back({"add", "site", site.name, ""});
      if (write) TRY(insert_site(db, site));
    }
  for (const auto& service : spec.services) {
    const auto* old = current.find_service(service.name);
    if (!old) {
      changes.push_back({"add", "service", service.name, ""});
      if (write) TRY(write_service(db, service, false));
    } else if (!(*old == service)) {
      changes.push_back({"update", "service", service.name, service_differences(*old, service)});
      if (write) TRY(write_service(db, service, true));
    }
  }
  if (prune == Prune::yes) {
    for (const auto& backend : current.backends)
      if (!find_named(spec.backends, backend.spec.name)) {
        changes.push_back({"remove", "backend", backend.spec.name, ""});
        if (write) TRY(delete_by_name(db, "DELETE FROM platform_backends WHERE name = ?", backend.spec.name));
      }
  }
  // A backend that moves to another (service, addr, port) might collide with one that is added;
  // updates first, then additions, keep the UNIQUE constraint satisfied for any valid spec.
  for (const auto& backend : spec.backends) {
    const auto* old = current.find_backend(backend.name);
    if (old && !(old->spec == backend)) {
      changes.push_back({"update", "backend", backend.name, backend_differences(old->spec, backend)});
      if (write) TRY(write_backend(db, backend, true));
    }
  }
  for (const auto& backend : spec.backends)
    if (!current.find_backend(backend.name)) {
      changes.push_back({"add", "backend", backend.name, ""});
      if (write) TRY(write_backend(db, backend, false));
    }
  if (prune == Prune::yes) {
    for (const auto& service : current.services)
      if (!find_named(spec.services, service.name)) {
        changes.push_back({"remove", "service", service.name, ""});
        if (write) TRY(delete_by_name(db, "DELETE FROM platform_services WHERE name = ?", service.name));
      }
    for (const auto& site : current.sites)
      if (!find_named(spec.sites, site.name)) {
        changes.push_back({"remove", "site", site.name, ""});
        if (write) TRY(delete_by_name(db, "DELETE FROM platform_sites WHERE name = ?", site.name));
      }
  }
  if (write) TRY(txn.commit());
  return changes;
}

core::Result<void> add_site(Db& db, const config::SiteSpec& site) {
  TRY(config::validate_name("site", site.name));
  if (TRY(exists(db, "SELECT 1 FROM platform_sites WHERE name = ?", site.name)))
    return core::fail(Errc::already_exists, "site {} already exists", site.name);
  return insert_site(db, site);
}

core::Result<void> remove_site(Db& db, std::string_view name) {
  auto txn = TRY(Txn::begin(db));
  if (!TRY(exists(db, "SELECT 1 FROM platform_sites WHERE name = ?", name)))
    return core::fail(Errc::not_found, "no site named {}", name);
  auto stmt = TRY(db.prepare("SELECT name FROM platform_backends WHERE site = ? ORDER BY name"));
  stmt.bind(1, name);
  std::vector<std::string> on_site;
  while (TRY(stmt.step())) on_site.push_back(stmt.column_text(0));
  if (!on_site.empty())
    return core::fail(Errc::usage, "site {} still has {} backend(s): {}; remove them first", name, on_site.size(),
                      join(on_site, ' '));
  TRY(delete_by_name(db, "DELETE FROM platform_sites WHERE name = ?", name));
  return txn.commit();
}

core::Result<void> add_service(Db& db, const config::ServiceSpec& service) {
  TRY(config::validate_name("service", service.name));
  if (service.domains.empty()) return core::fail(Errc::usage, "service {} needs at least one domain", service.name);
  for (const auto& domain : service.domains) TRY(config::validate_domain(domain));
  TRY(config::validate_health(service.health));
  auto txn = TRY(Txn::begin(db));
  Registry current = TRY(load_registry(db));
  if (current.find_service(service.name))
    return core::fail(Errc::already_exists, "service {} already exists", service.name);
  for (const auto& other : current.services)
    for (const auto& domain : service.domains)
      if (std::find(other.domains.begin(), other.domains.end(), domain) != other.domains.end())
        return core::fail(Errc::already_exists, "domain {} already belongs to service {}", domain, other.name);
  TRY(write_service(db, service, false));
  return txn.commit();
}

core::Result<std::vector<std::string>> remove_service(Db& db, std::string_view name) {
  auto txn = TRY(Txn::begin(db));
  if (!TRY(exists(db, "SELECT 1 FROM platform_services WHERE name = ?", name)))
    return core::fail(Errc::not_found, "no service named {}", name);
  auto stmt = TRY(db.prepare("SELECT name FROM platform_backends WHERE service = ? ORDER BY name"));
  stmt.bind(1, name);
  std::vector<std::string> removed;
  while (TRY(stmt.step())) removed.push_back(stmt.column_text(0));
  TRY(delete_by_name(db, "DELETE FROM platform_services WHERE name = ?", name)); // backends cascade
  TRY(txn.commit());
  return removed;
}

core::Result<void> add_backend(Db& db, const config::BackendSpec& backend) {
  TRY(config::validate_name("site", backend.site));
  TRY(config::validate_backend_addr(backend.addr));
  TRY(config::validate_port(backend.port));
  if (backend.name.empty()) return core::fail(Errc::usage, "a backend needs a name");
  auto txn = TRY(Txn::begin(db));
  if (!TRY(exists(db, "SELECT 1 FROM platform_services WHERE name = ?", backend.service)))
    return core::fail(Errc::not_found, "no service named {} (add it first: caddy-sync service add)", backend.service);
  if (!TRY(exists(db, "SELECT 1 FROM platform_sites WHERE name = ?", backend.site)))
    return core::fail(Errc::not_found, "no site named {} (add it first: caddy-sync site add)", backend.site);
  if (TRY(exists(db, "SELECT 1 FROM platform_backends WHERE name = ?", backend.name)))
    return core::fail(Errc::already_exists, "backend {} already exists", backend.name);
  {
    auto stmt = TRY(db.prepare("SELECT name FROM platform_backends WHERE service = ? AND addr = ? AND port = ?"));
    stmt.bind(1, backend.service).bind(2, backend.addr).bind(3, int64_t{backend.port});
    if (TRY(stmt.step()))
      return core::fail(Errc::already_exists, "service {} already has a backend at {}:{} ({})", backend.service,
                        backend.addr, backend.port, stmt.column_text(0));
  }
  TRY(write_backend(db, backend, false));
  return txn.commit();
}

core::Result<void> remove_backend(Db& db, std::string_view name) {
  auto txn = TRY(Txn::begin(db));
  if (!TRY(exists(db, "SELECT 1 FROM platform_backends WHERE name = ?", name)))
    return core::fail(Errc::not_found, "no backend named {}", name);
  TRY(delete_by_name(db, "DELETE FROM platform_backends WHERE name = ?", name));
  return txn.commit();
}

core::Result<bool> set_drained(Db& db, std::string_view backend, bool drained) {
  auto txn = TRY(Txn::begin(db));
  auto stmt = TRY(db.prepare("SELECT drained FROM platform_backends WHERE name = ?"));
  stmt.bind(1, backend);
  if (!TRY(stmt.step())) return core::fail(Errc::not_found, "no backend named {}", backend);
  bool was = stmt.column_int(0) != 0;
  stmt.reset();
  if (was == drained) return false;
  auto update = TRY(db.prepare("UPDATE platform_backends SET drained = ? WHERE name = ?"));
  TRY(update.bind(1, int64_t{drained ? 1 : 0}).bind(2, backend).run());
  TRY(txn.commit());
  return true;
}

core::Result<int64_t> platform_generation(Db& db) {
  auto stmt = TRY(db.prepare("SELECT value FROM platform_generation WHERE id = 1"));
  if (!TRY(stmt.step())) return int64_t{0};
  return stmt.column_int(0);
}

// ---- health ---------------------------------------------------------------------------------------

std::string_view state_name(BackendState state) {
  switch (state) {
  case BackendState::up: return "up";
  case BackendState::down: return "down";
  case BackendState::unknown: break;
  }
  return "unknown";
}

std::optional<BackendState> parse_state(std::string_view text) {
  if (text == "up") return BackendState::up;
  if (text == "down") return BackendState::down;
  if (text == "unknown") return BackendState::unknown;
  return std::nullopt;
}

core::Result<std::map<std::string, BackendHealth>> load_health(Db& db) {
  auto stmt = TRY(db.prepare("SELECT backend, state, since_ns, passes, failures, latency_ms, last_status, "
                             "COALESCE(last_error, ''), checked_ns FROM backend_health"));
  std::map<std::string, BackendHealth> rows;
  while (TRY(stmt.step())) {
    BackendHealth h;
    h.backend = stmt.column_text(0);
    h.state = parse_state(stmt.column_text(1)).value_or(BackendState::unknown);
    h.since_ns = stmt.column_int(2);
    h.passes = static_cast<int>(stmt.column_int(3));
    h.failures = static_cast<int>(stmt.column_int(4));
    if (!stmt.column_is_null(5)) h.latency_ms = static_cast<double>(stmt.column_int(5)) / 1000.0;
    if (!stmt.column_is_null(6)) h.last_status = static_cast<int>(stmt.column_int(6));
    h.last_error = stmt.column_text(7);
    h.checked_ns = stmt.column_int(8);
    rows.emplace(h.backend, std::move(h));
  }
  return rows;
}

core::Result<void> save_health(Db& db, const std::vector<BackendHealth>& rows, const std::vector<HealthEvent>& events) {
  auto txn = TRY(Txn::begin(db));
  // latency_ms is stored in microseconds as an integer (the Stmt API binds integers and text).
  auto upsert = TRY(db.prepare(
      "INSERT INTO backend_health (backend, state, since_ns, passes, failures, latency_ms, last_status, last_error, "
      "checked_ns) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS (SELECT 1 FROM platform_backends WHERE name = ?1) "
      "ON CONFLICT (backend) DO UPDATE SET state = excluded.state, since_ns = excluded.since_ns, passes = "
      "excluded.passes, failures = excluded.failures, latency_ms = excluded.latency_ms, last_status = "
      "excluded.last_status, last_error = excluded.last_error, checked_ns = excluded.checked_ns"));
  for (const auto& h : rows) {
    upsert.bind(1, h.backend)
        .bind(2, state_name(h.state))
        .bind(3, h.since_ns)
        .bind(4, int64_t{h.passes})
        .bind(5, int64_t{h.failures});
    if (h.latency_ms) upsert.bind(6, static_cast<int64_t>(*h.latency_ms * 1000.0));
    else upsert.bind_null(6);
    if (h.last_status) upsert.bind(7, int64_t{*h.last_status});
    else upsert.bind_null(7);
    if (h.last_error.empty()) upsert.bind_null(8);
    else upsert.bind(8, h.last_error);
    upsert.bind(9, h.checked_ns);
    TRY(upsert.run());
  }
  auto insert = TRY(db.prepare("INSERT INTO health_events (time_ns, backend, service, site, from_state, to_state, "
                               "reason) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  for (const auto& e : events) {
    TRY(insert.bind(1, e.time_ns)
            .bind(2, e.backend)
            .bind(3, e.service)
            .bind(4, e.site)
            .bind(5, state_name(e.from))
            .bind(6, state_name(e.to))
            .bind(7, e.reason)
            .run());
  }
  return txn.commit();
}

core::Result<std::vector<HealthEvent>> recent_health_events(Db& db, int limit) {
  auto stmt = TRY(db.prepare("SELECT id, time_ns, backend, service, site, from_state, to_state, reason "
                             "FROM health_events ORDER BY id DESC LIMIT ?"));
  stmt.bind(1, int64_t{limit});
  std::vector<HealthEvent> events;
  while (TRY(stmt.step())) {
    HealthEvent e;
    e.id = stmt.column_int(0);
    e.time_ns = stmt.column_int(1);
    e.backend = stmt.column_text(2);
    e.service = stmt.column_text(3);
    e.site = stmt.column_text(4);
    e.from = parse_state(stmt.column_text(5)).value_or(BackendState::unknown);
    e.to = parse_state(stmt.column_text(6)).value_or(BackendState::unknown);
    e.reason = stmt.column_text(7);
    events.push_back(std::move(e));
  }
  return events;
}

// ---- Caddy configs --------------------------------------------------------------------------------

core::Result<int64_t> record_caddy_config(Db& db, const CaddyConfigRecord& r) {
  auto stmt = TRY(db.prepare("INSERT INTO caddy_configs (time_ns, hash, config_json, outcome, error, reason) "
                             "VALUES (?, ?, ?, ?, ?, ?)"));
  stmt.bind(1, r.time_ns ? r.time_ns : core::now_ns()).bind(2, r.hash).bind(3, r.config_json).bind(4, r.outcome);
  if (r.error.empty()) stmt.bind_null(5);
  else stmt.bind(5, r.error);
  TRY(stmt.bind(6, r.reason).run());
  return db.last_insert_rowid();
}

namespace {

core::Result<std::vector<CaddyConfigRecord>> select_configs(Db& db, std::string_view where, int64_t argument,
                                                            int limit, bool with_config) {
  auto stmt = TRY(db.prepare(fmt::format("SELECT id, time_ns, hash, {}, outcome, COALESCE(error, ''), reason "
                                         "FROM caddy_configs {} ORDER BY id DESC LIMIT ?",
                                         with_config ? "config_json" : "''", where)));
  int next = 1;
  if (!where.empty() && where.find('?') != std::string_view::npos) stmt.bind(next++, argument);
  stmt.bind(next, int64_t{limit});
  std::vector<CaddyConfigRecord> records;
  while (TRY(stmt.step())) {
    CaddyConfigRecord r;
    r.id = stmt.column_int(0);
    r.time_ns = stmt.column_int(1);
    r.hash = stmt.column_text(2);
    r.config_json = stmt.column_text(3);
    r.outcome = stmt.column_text(4);
    r.error = stmt.column_text(5);
    r.reason = stmt.column_text(6);
    records.push_back(std::move(r));
  }
  return records;
}

} // namespace

core::Result<std::vector<CaddyConfigRecord>> caddy_config_history(Db& db, int limit, bool with_config) {
  return select_configs(db, "", 0, limit, with_config);
}

core::Result<std::optional<CaddyConfigRecord>> find_caddy_config(Db& db, int64_t id) {
  auto found = TRY(select_configs(db, "WHERE id = ?", id, 1, true));
  if (found.empty()) return std::optional<CaddyConfigRecord>{};
  return std::optional<CaddyConfigRecord>{std::move(found.front())};
}

core::Result<std::optional<CaddyConfigRecord>> last_applied_caddy_config(Db& db) {
  auto found = TRY(select_configs(db, "WHERE outcome = 'applied'", 0, 1, true));
  if (found.empty()) return std::optional<CaddyConfigRecord>{};
  return std::optional<CaddyConfigRecord>{std::move(found.front())};
}

} // namespace anemone::state
