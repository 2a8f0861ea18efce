#pragma once
// Caddy's JSON config, rendered from the platform registry and the backends' health. caddy-sync
// loads it through the admin API (caddy_admin.hpp) only when its hash changed, so the rendering is
// a pure function: the same registry, health and platform settings give a byte-identical dump(),
// whatever the order of the input vectors.
//
// What a service becomes (Caddy 2.6.2, Debian's; the choices are explained in caddy_config.cpp):
// - a route matching its domains (exact names before "*." wildcards, so "a.example.org" of one
//   service wins over "*.example.org" of another) that reverse-proxies to its pool;
// - the pool: its backends that are not drained and whose health is up; if none is up, all that
//   are not drained (health never empties a pool); if every backend is drained, or there is none,
//   a 503 saying so instead of the proxy;
// - load balancing by the service's policy, with weights as repeated upstreams (round robin only)
//   and failover as Caddy's `first` over the backends ordered by priority;
// - a request that cannot reach its backend is retried on another one for k_try_duration, and that
//   backend is avoided for k_passive_fail_duration (passive health check); Caddy's own active
//   health check on the service's health path is a second layer.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "anemone/config/platform.hpp"
#include "anemone/core/error.hpp"
#include "anemone/state/platform.hpp"

namespace anemone::platform {

// The name of the one HTTP server in the rendered config (apps.http.servers.<name>).
inline constexpr const char* k_caddy_server_name = "anemone";
// How long Caddy keeps retrying a request on other backends, and the pause between attempts.
inline constexpr const char* k_try_duration = "5s";
inline constexpr const char* k_try_interval = "250ms";
// How long a backend that failed a request stays out of Caddy's rotation (passive health check).
inline constexpr const char* k_passive_fail_duration = "30s";

// "http://127.0.0.1:2019" → "127.0.0.1:2019", "http://[::1]:2019/" → "[::1]:2019": the admin
// listener the rendered config must keep, or the next load would move Caddy's admin API away from
// the address caddy-sync talks to. Anything but http://host:port (an optional trailing '/') is an
// error quoting the URL: https, a path, a missing port, userinfo, a unix socket.
core::Result<std::string> admin_listen_address(const std::string& admin_url);

// Caddy's `dial` for a backend: "10.0.0.1:8080", "[2001:db8::1]:8080", "api.internal:8080".
std::string dial_address(const config::BackendSpec& backend);

// A duration in Caddy's syntax: 5000 → "5s", 1500 → "1500ms".
std::string caddy_duration(int64_t milliseconds);

// The backends of one service that carry its traffic (see the top of this file); empty when the
// service has no backend in rotation. For caddy-sync's `status` output and for tests. The pointers
// point into the registry.
struct ServicePool {
  std::vector<const state::BackendRecord*> backends; // each once; by name, for failover by priority then name
  bool health_filtered = false;                      // false: none is up, all non-drained ones kept
};
ServicePool service_pool(const state::Registry& registry, const std::map<std::string, state::BackendHealth>& health,
                         const config::ServiceSpec& service);

// The whole config for POST /load. platform.caddy_admin must pass admin_listen_address (the config
// loader and CaddyAdmin::open check it first); a URL that does not is a broken invariant and
// throws std::invalid_argument.
nlohmann::json render_caddy_config(const state::Registry& registry,
                                   const std::map<std::string, state::BackendHealth>& health,
                                   const config::Platform& platform);

} // namespace anemone::platform
