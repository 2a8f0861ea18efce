#include "anemone/platform/caddy_config.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>

#include "anemone/core/net.hpp"

// Facts this rendering relies on, checked against Debian's Caddy 2.6.2 by loading the rendered
// config through the admin API (CaddyAdmin) and counting requests at two `python3 -m http.server`
// backends on loopback, except where Caddy's source is named:
//
// - Weights. Caddy 2.6 has no weighted_round_robin (2.6.2 refuses it: "unknown module:
//   http.reverse_proxy.selection_policies.weighted_round_robin"). `round_robin` walks the
//   upstream list with one counter and skips unavailable entries, and upstreams with the same
//   dial share one Host (the pool is keyed by address), so listing a backend `weight` times
//   weights it: duplicates load fine and 2:1 gave 600:300 over 900 requests. The repetitions are
//   interleaved by nginx's smooth weighted round robin (2:1 → a b a, not a a b), so a burst does
//   not go to one backend; weights are divided by their gcd to keep the list short. Caddy's active
//   check probes every entry, so a backend of weight n gets n times the probes. `ip_hash` hashes
//   per dial (rendezvous), so duplicates change nothing (a b a from 240 client addresses: 109:131),
//   and `least_conn` counts requests per Host; those policies and `first` list each backend once
//   and ignore weights.
// - Failover is `first`: the first available upstream in list order, so the list is ordered by
//   priority (lowest first), then name.
// - Retries. With `try_duration` Caddy picks another upstream after a failed attempt: always when
//   the connection could not be made (nothing reached the backend), and after an error on an
//   established connection only for the methods retry_match names (Caddy's default: GET only); a
//   request that got a response is never retried. Killing
//   one of two backends: the next request got its 200 after 0.26 s (one try_interval), the ones
//   after it went straight to the live backend, none failed. The dial timeout (k_dial_timeout) is
//   well under try_duration: a backend on a cut site does not answer at all, and with the default
//   transport's 10 s dial timeout (Caddy's source) the first attempt would outlast try_duration
//   and the request would fail instead of moving on.
// - Passive health checks count every failed attempt (connection refused, reset, dial timeout);
//   one failure (max_fails 1) keeps the backend out for k_passive_fail_duration, so the requests
//   after the one that was retried do not try the dead backend first. Response statuses are
//   deliberately not counted (no `unhealthy_status`): a status answers one request — a 503 from
//   one overloaded endpoint, a 504 from one slow query — and with max_fails 1 a client repeating
//   that request would walk the ejection over every backend and turn a partial fault into a 30 s
//   outage of the whole service; Caddy would not retry that request anyway. A backend that
//   answers 5xx on every request fails its health path, which health-checker (rise/fall) and
//   Caddy's active check both probe.
// - Active health checks (`uri`, `interval`, `timeout`, `expect_status`) have no rise/fall in 2.6
//   and start from "healthy" on every config load; health-checker's hysteresis decides the pool,
//   the active check only catches a backend that dies between two renders. When no backend of a
//   service is up, the pool falls back to all non-drained backends and the active check is left
//   out: it probes the same path that health-checker found failing and would empty the pool
//   again, which is what the fallback exists to avoid; passive checks and retries still route
//   around backends that do not answer.
// - The transport is per handler, not per upstream: one service cannot mix plain and TLS
//   backends. If its pool does, TLS is used for all: a plain backend then fails the handshake, an
//   error without a response that the passive check counts (and GETs are retried elsewhere),
//   whereas plain HTTP to a TLS backend gets a 400 response that would reach the client.
// - Automatic HTTPS (tls_auto): one server on ":80" and ":443" gets certificates for the host
//   matchers (demo.localhost from Caddy's internal CA in the check) and serves TLS on 443 by itself;
//   the HTTP port stays plain and, since Caddy appends its HTTP->HTTPS redirect routes after the
//   routes with host matchers, proxies there too instead of redirecting. With tls off,
//   automatic_https is disabled (no certificates, no redirects).
// - The admin listener of the loaded config replaces the running one: `admin.listen` repeats the
//   address caddy-sync talks to.

namespace anemone::platform {
namespace {

using nlohmann::json;

// A dial that does not connect within this is given up and retried on another backend.
constexpr const char* k_dial_timeout = "2s";

const state::BackendHealth* find_health(const std::map<std::string, state::BackendHealth>& health,
                                        const std::string& backend) {
  auto it = health.find(backend);
  return it == health.end() ? nullptr : &it->second;
}

bool is_up(const std::map<std::string, state::BackendHealth>& health, const std::string& backend) {
  const auto* row = find_health(health, backend);
  return row != nullptr && row->state == state::BackendState::up;
}

bool by_name(const state::BackendRecord* a, const state::BackendRecord* b) { return a->spec.name < b->spec.name; }

// Nginx's smooth weighted round robin over `backends` (name order): each step every backend gains
// its weight, the one with the most credit (first on a tie) is picked and pays the total. Over one
// cycle every backend appears exactly weight times, spread out.
std::vector<const state::BackendRecord*> interleave_by_weight(const std::vector<const state::BackendRecord*>& backends) {
  std::vector<int> weights;
  int divisor = 0;
  for (const auto* backend : backends) {
    weights.push_back(std::clamp(backend->spec.weight, 1, 100));
    divisor = std::gcd(divisor, weights.back());
  }
  int total = 0;
  for (auto& weight : weights) {
    weight /= divisor;
    total += weight;
  }
  std::vector<int> credit(backends.size(), 0);
  std::vector<const state::BackendRecord*> order;
  order.reserve(static_cast<size_t>(total));
  for (int step = 0; step < total; ++step) {
    size_t best = 0;
    for (size_t i = 0; i < backends.size(); ++i) {
      credit[i] += weights[i];
      if (credit[i] > credit[best]) best = i;
    }
    credit[best] -= total;
    order.push_back(backends[best]);
  }
  return order;
}

std::string policy_for_caddy(config::Policy policy) {
  switch (policy) {
  case config::Policy::round_robin:
    return "round_robin";
  case config::Policy::least_conn:
    return "least_conn";
  case config::Policy::ip_hash:
    return "ip_hash";
  case config::Policy::failover:
    return "first";
  }
  throw std::logic_error("unknown load-balancing policy");
}

// The pool is in name order, or priority order for failover; only round robin repeats entries.
std::vector<const state::BackendRecord*> upstream_order(const ServicePool& pool, config::Policy policy) {
  if (policy == config::Policy::round_robin) return interleave_by_weight(pool.backends);
  return pool.backends;
}

json no_backend_response(const config::ServiceSpec& service) {
  return {{"handler", "static_response"},
          {"status_code", 503},
          {"headers", {{"Content-Type", json::array({"text/plain; charset=utf-8"})}}},
          {"body", fmt::format("service {} has no backend in rotation\n", service.name)}};
}

json reverse_proxy(const config::ServiceSpec& service, const ServicePool& pool, int64_t response_timeout_ms) {
  json upstreams = json::array();
  bool tls = false;
  for (const auto* backend : upstream_order(pool, service.policy)) {
    upstreams.push_back({{"dial", dial_address(backend->spec)}});
    tls = tls || backend->spec.tls;
  }
  // A backend on a cut site may hold a request it received and never answer: without a response
  // timeout the request (and the client) would wait for TCP to give up, minutes later. After it, a
  // GET is retried on another backend within try_duration (when the timeout is shorter).
  json transport = {{"protocol", "http"},
                    {"dial_timeout", k_dial_timeout},
                    {"response_header_timeout", caddy_duration(response_timeout_ms)}};
  if (tls) transport["tls"] = json::object();

  json health_checks = {{"passive", {{"fail_duration", k_passive_fail_duration}, {"max_fails", 1}}}};
  if (pool.health_filtered)
    health_checks["active"] = {{"uri", service.health.path},
                               {"interval", caddy_duration(service.health.interval_ms)},
                               {"timeout", caddy_duration(service.health.timeout_ms)},
                               {"expect_status", service.health.expect_status}};

  return {{"handler", "reverse_proxy"},
          {"upstreams", std::move(upstreams)},
          {"transport", std::move(transport)},
          {"load_balancing",
           {{"selection_policy", {{"policy", policy_for_caddy(service.policy)}}},
            {"try_duration", k_try_duration},
            {"try_interval", k_try_interval},
            // Idempotent methods may be sent again after an error on an established connection
            // (a response timeout included); others only when the connection was never made.
            {"retry_match", json::array({{{"method", {"GET", "HEAD", "OPTIONS"}}}})}}},
          {"health_checks", std::move(health_checks)}};
}

json route(std::vector<std::string> hosts, const json& handler) {
  std::sort(hosts.begin(), hosts.end());
  json matcher_set = json::object();
  matcher_set["host"] = std::move(hosts);
  json result = json::object();
  result["match"] = json::array();
  result["match"].push_back(std::move(matcher_set));
  result["handle"] = json::array();
  result["handle"].push_back(handler);
  result["terminal"] = true;
  return result;
}

} // namespace

core::Result<std::string> admin_listen_address(const std::string& admin_url) {
  constexpr std::string_view scheme = "http://";
  std::string_view rest = admin_url;
  if (rest.substr(0, scheme.size()) != scheme)
    return core::fail(core::Errc::config, "caddy admin URL '{}' is not http://HOST:PORT (the scheme must be http)",
                      admin_url);
  rest.remove_prefix(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos)
    return core::fail(core::Errc::config, "caddy admin URL '{}' is not http://HOST:PORT (no path, query or user)",
                      admin_url);
  auto endpoint = core::parse_endpoint(rest);
  if (!endpoint)
    return core::fail(core::Errc::config, "caddy admin URL '{}' is not http://HOST:PORT: {}", admin_url,
                      endpoint.error().message());
  return endpoint->str();
}

std::string dial_address(const config::BackendSpec& backend) {
  return core::Endpoint{backend.addr, backend.port}.str();
}

std::string caddy_duration(int64_t milliseconds) {
  if (milliseconds != 0 && milliseconds % 1000 == 0) return fmt::format("{}s", milliseconds / 1000);
  return fmt::format("{}ms", milliseconds);
}

ServicePool service_pool(const state::Registry& registry, const std::map<std::string, state::BackendHealth>& health,
                         const config::ServiceSpec& service) {
  std::vector<const state::BackendRecord*> in_rotation;
  std::vector<const state::BackendRecord*> up;
  for (const auto& backend : registry.backends) {
    if (backend.spec.service != service.name || backend.drained) continue;
    in_rotation.push_back(&backend);
    if (is_up(health, backend.spec.name)) up.push_back(&backend);
  }
  ServicePool pool;
  pool.health_filtered = !up.empty();
  pool.backends = pool.health_filtered ? std::move(up) : std::move(in_rotation);
  std::sort(pool.backends.begin(), pool.backends.end(), by_name);
  if (service.policy == config::Policy::failover)
    std::stable_sort(pool.backends.begin(), pool.backends.end(),
                     [](const auto* a, const auto* b) { return a->spec.priority < b->spec.priority; });
  return pool;
}

json render_caddy_config(const state::Registry& registry, const std::map<std::string, state::BackendHealth>& health,
                         const config::Platform& platform) {
  auto admin = admin_listen_address(platform.caddy_admin);
  if (!admin) throw std::invalid_argument(admin.error().message());

  std::vector<const config::ServiceSpec*> services;
  for (const auto& service : registry.services) services.push_back(&service);
  std::sort(services.begin(), services.end(), [](const auto* a, const auto* b) { return a->name < b->name; });

  // Caddy tries routes in order; exact names first, so a wildcard of one service does not shadow
  // a name another service declares ("*." covers exactly one label, so wildcards never overlap).
  // A service with both kinds gets two routes with the same handler.
  json exact_routes = json::array();
  json wildcard_routes = json::array();
  for (const auto* service : services) {
    std::vector<std::string> exact;
    std::vector<std::string> wildcard;
    for (const auto& domain : service->domains) (domain.rfind("*.", 0) == 0 ? wildcard : exact).push_back(domain);
    if (exact.empty() && wildcard.empty()) continue; // an empty host matcher would match every request
    auto pool = service_pool(registry, health, *service);
    json handler = pool.backends.empty() ? no_backend_response(*service) : reverse_proxy(*service, pool, platform.response_timeout_ms);
    if (!exact.empty()) exact_routes.push_back(route(std::move(exact), handler));
    if (!wildcard.empty()) wildcard_routes.push_back(route(std::move(wildcard), handler));
  }
  json routes = std::move(exact_routes);
  for (auto& wildcard_route : wildcard_routes) routes.push_back(std::move(wildcard_route));

  json server = {{"listen", platform.http_listen}, {"routes", std::move(routes)}};
  if (!platform.tls_auto) server["automatic_https"] = {{"disable", true}};

  return {{"admin", {{"listen", *admin}}},
          {"apps", {{"http", {{"servers", {{k_caddy_server_name, std::move(server)}}}}}}}};
}

} // namespace anemone::platform
