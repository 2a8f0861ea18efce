// Rendering Caddy's config from the registry and health: which backends carry a service's traffic,
// in which order, and that the same input always gives the same bytes (caddy-sync compares hashes).
#include <algorithm>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "anemone/platform/caddy_config.hpp"

using namespace anemone;
using nlohmann::json;

namespace {

config::BackendSpec backend(const std::string& name, const std::string& service, const std::string& addr, int port) {
  config::BackendSpec spec;
  spec.name = name;
  spec.service = service;
  spec.site = "site-a";
  spec.addr = addr;
  spec.port = port;
  return spec;
}

config::ServiceSpec service(const std::string& name, std::vector<std::string> domains,
                            config::Policy policy = config::Policy::round_robin) {
  config::ServiceSpec spec;
  spec.name = name;
  spec.domains = std::move(domains);
  spec.policy = policy;
  return spec;
}

void set_health(std::map<std::string, state::BackendHealth>& health, const std::string& name,
                state::BackendState state) {
  state::BackendHealth row;
  row.backend = name;
  row.state = state;
  health[name] = row;
}

config::Platform plain_platform() {
  config::Platform platform;
  platform.enabled = true;
  platform.caddy_admin = "http://127.0.0.1:2019";
  platform.http_listen = {":8080"};
  platform.tls_auto = false;
  return platform;
}

// api: three backends a (10.0.0.1), b (10.0.0.2), c (10.0.0.3), all on port 8080.
state::Registry api_registry(config::Policy policy = config::Policy::round_robin) {
  state::Registry registry;
  registry.sites = {{"site-a"}};
  registry.services = {service("api", {"api.example.org"}, policy)};
  for (const char* name : {"a", "b", "c"})
    registry.backends.push_back({backend(name, "api", std::string("10.0.0.") + std::to_string(name[0] - 'a' + 1), 8080)});
  return registry;
}

const json& server_of(const json& config) { return config.at("apps").at("http").at("servers").at("anemone"); }
const json& routes_of(const json& config) { return server_of(config).at("routes"); }

// The handler of the route whose host matcher lists `host`.
const json& handler_for(const json& config, const std::string& host) {
  for (const auto& route : routes_of(config)) {
    const auto& hosts = route.at("match").at(0).at("host");
    if (std::find(hosts.begin(), hosts.end(), host) != hosts.end()) return route.at("handle").at(0);
  }
  throw std::runtime_error("no route for " + host);
}

std::vector<std::string> dials(const json& handler) {
  std::vector<std::string> result;
  for (const auto& upstream : handler.at("upstreams")) result.push_back(upstream.at("dial").get<std::string>());
  return result;
}

json render(const state::Registry& registry, const std::map<std::string, state::BackendHealth>& health) {
  return platform::render_caddy_config(registry, health, plain_platform());
}

} // namespace

TEST_CASE("caddy config: only the backends that are up carry traffic", "[platform]") {
  auto registry = api_registry();
  std::map<std::string, state::BackendHealth> health;
  set_health(health, "a", state::BackendState::up);
  set_health(health, "b", state::BackendState::down);
  // c has no health row yet (just added): unknown is not up
  auto handler = handler_for(render(registry, health), "api.example.org");
  CHECK(handler.at("handler") == "reverse_proxy");
  CHECK(dials(handler) == std::vector<std::string>{"10.0.0.1:8080"});

  set_health(health, "c", state::BackendState::up);
  handler = handler_for(render(registry, health), "api.example.org");
  CHECK(dials(handler) == std::vector<std::string>{"10.0.0.1:8080", "10.0.0.3:8080"});

  // A pool chosen by health also gets Caddy's active check on the service's health path, and
  // always the passive check and retries on another upstream.
  const auto& checks = handler.at("health_checks");
  CHECK(checks.at("active").at("uri") == "/health");
  CHECK(checks.at("active").at("interval") == "5s");
  CHECK(checks.at("active").at("timeout") == "2s");
  CHECK(checks.at("active").at("expect_status") == 200);
  CHECK(checks.at("passive").at("fail_duration") == platform::k_passive_fail_duration);
  CHECK(checks.at("passive").at("max_fails") == 1);
  CHECK_FALSE(checks.at("passive").contains("unhealthy_status"));
  CHECK(handler.at("load_balancing").at("try_duration") == platform::k_try_duration);
  CHECK(handler.at("load_balancing").at("try_interval") == platform::k_try_interval);
  CHECK(handler.at("load_balancing").at("selection_policy").at("policy") == "round_robin");
}

TEST_CASE("caddy config: with no backend up, every backend in rotation is kept", "[platform]") {
  auto registry = api_registry();
  registry.backends[2].drained = true; // c
  std::map<std::string, state::BackendHealth> health;
  set_health(health, "a", state::BackendState::down);
  set_health(health, "b", state::BackendState::unknown);
  set_health(health, "c", state::BackendState::up); // drained: its health does not count
  auto handler = handler_for(render(registry, health), "api.example.org");
  CHECK(handler.at("handler") == "reverse_proxy");
  CHECK(dials(handler) == std::vector<std::string>{"10.0.0.1:8080", "10.0.0.2:8080"});
  // The active check would probe the path health-checker found failing and empty the pool again.
  CHECK_FALSE(handler.at("health_checks").contains("active"));
  CHECK(handler.at("health_checks").contains("passive"));

  auto pool = platform::service_pool(registry, health, registry.services[0]);
  CHECK_FALSE(pool.health_filtered);
  CHECK(pool.backends.size() == 2);
}

TEST_CASE("caddy config: a service with every backend drained, or none, answers 503", "[platform]") {
  auto registry = api_registry();
  for (auto& record : registry.backends) record.drained = true;
  registry.services.push_back(service("empty", {"empty.example.org"}));
  std::map<std::string, state::BackendHealth> health;
  set_health(health, "a", state::BackendState::up);
  auto config = render(registry, health);
  for (const char* host : {"api.example.org", "empty.example.org"}) {
    INFO(host);
    const auto& handler = handler_for(config, host);
    CHECK(handler.at("handler") == "static_response");
    CHECK(handler.at("status_code") == 503);
    CHECK(handler.at("body").get<std::string>().find("has no backend in rotation") != std::string::npos);
  }
  CHECK(handler_for(config, "api.example.org").at("body") == "service api has no backend in rotation\n");
}

TEST_CASE("caddy config: failover lists backends by priority, then name, once each", "[platform]") {
  auto registry = api_registry(config::Policy::failover);
  registry.backends[0].spec.priority = 2; // a
  registry.backends[1].spec.priority = 1; // b
  registry.backends[2].spec.priority = 1; // c
  registry.backends[2].spec.weight = 5;   // weights mean nothing to failover
  auto handler = handler_for(render(registry, {}), "api.example.org");
  CHECK(handler.at("load_balancing").at("selection_policy").at("policy") == "first");
  CHECK(dials(handler) == std::vector<std::string>{"10.0.0.2:8080", "10.0.0.3:8080", "10.0.0.1:8080"});
}

TEST_CASE("caddy config: round-robin weights repeat upstreams, interleaved", "[platform]") {
  auto registry = api_registry();
  registry.backends.pop_back(); // a and b only
  registry.backends[0].spec.weight = 2;
  auto handler = handler_for(render(registry, {}), "api.example.org");
  CHECK(dials(handler) == std::vector<std::string>{"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.1:8080"});

  // 4:2 is 2:1: the list stays as short as the ratio allows.
  registry.backends[0].spec.weight = 4;
  registry.backends[1].spec.weight = 2;
  CHECK(dials(handler_for(render(registry, {}), "api.example.org")).size() == 3);

  // 3:1:1 → a b a c a: every backend its weight times, a never twice in a row.
  registry = api_registry();
  registry.backends[0].spec.weight = 3;
  CHECK(dials(handler_for(render(registry, {}), "api.example.org")) ==
        std::vector<std::string>{"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.1:8080", "10.0.0.3:8080", "10.0.0.1:8080"});
}

TEST_CASE("caddy config: least_conn and ip_hash list each backend once", "[platform]") {
  for (auto [policy, name] : {std::pair{config::Policy::least_conn, "least_conn"}, std::pair{config::Policy::ip_hash, "ip_hash"}}) {
    INFO(name);
    auto registry = api_registry(policy);
    registry.backends[0].spec.weight = 3;
    auto handler = handler_for(render(registry, {}), "api.example.org");
    CHECK(handler.at("load_balancing").at("selection_policy").at("policy") == name);
    CHECK(dials(handler) == std::vector<std::string>{"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"});
  }
}

TEST_CASE("caddy config: dial addresses, IPv6 in brackets, TLS to a backend", "[platform]") {
  CHECK(platform::dial_address(backend("x", "api", "2001:db8::1", 8443)) == "[2001:db8::1]:8443");
  CHECK(platform::dial_address(backend("x", "api", "10.0.0.1", 80)) == "10.0.0.1:80");
  CHECK(platform::dial_address(backend("x", "api", "api.internal", 8080)) == "api.internal:8080");

  state::Registry registry;
  registry.services = {service("api", {"api.example.org"}), service("web", {"www.example.org"})};
  registry.backends.push_back({backend("api-1", "api", "2001:db8::1", 8443)});
  registry.backends.back().spec.tls = true;
  registry.backends.push_back({backend("web-1", "web", "10.0.0.9", 8080)});
  auto config = render(registry, {});

  const auto& api = handler_for(config, "api.example.org");
  CHECK(dials(api) == std::vector<std::string>{"[2001:db8::1]:8443"});
  CHECK(api.at("transport").at("protocol") == "http");
  CHECK(api.at("transport").at("tls") == json::object());

  const auto& web = handler_for(config, "www.example.org");
  CHECK(web.at("transport").at("protocol") == "http");
  CHECK_FALSE(web.at("transport").contains("tls"));
  // Well under try_duration, so a backend on a cut site is given up in time to retry elsewhere.
  CHECK(web.at("transport").at("dial_timeout") == "2s");
}

TEST_CASE("caddy config: the server listens where the platform says; tls off disables automatic HTTPS",
          "[platform]") {
  auto platform_settings = plain_platform();
  platform_settings.http_listen = {"127.0.0.1:8080", "[::1]:8080"};
  auto config = platform::render_caddy_config(api_registry(), {}, platform_settings);
  const auto& server = server_of(config);
  CHECK(server.at("listen") == json({"127.0.0.1:8080", "[::1]:8080"}));
  CHECK(server.at("automatic_https") == json({{"disable", true}}));
  CHECK_FALSE(server.contains("tls_connection_policies"));
  CHECK(config.at("apps").at("http").at("servers").size() == 1);

  // tls auto: Caddy manages certificates for the host matchers and serves TLS on 443 by itself.
  platform_settings.http_listen = {":80", ":443"};
  platform_settings.tls_auto = true;
  auto tls_server = server_of(platform::render_caddy_config(api_registry(), {}, platform_settings));
  CHECK(tls_server.at("listen") == json({":80", ":443"}));
  CHECK_FALSE(tls_server.contains("automatic_https"));
  CHECK_FALSE(tls_server.contains("tls_connection_policies"));
}

TEST_CASE("caddy config: the admin listener stays the one caddy-sync talks to", "[platform]") {
  CHECK(platform::admin_listen_address("http://127.0.0.1:2019").value() == "127.0.0.1:2019");
  CHECK(platform::admin_listen_address("http://127.0.0.1:2019/").value() == "127.0.0.1:2019");
  CHECK(platform::admin_listen_address("http://[::1]:2019").value() == "[::1]:2019");
  CHECK(platform::admin_listen_address("http://localhost:2020").value() == "localhost:2020");
  for (const char* bad : {"", "127.0.0.1:2019", "https://127.0.0.1:2019", "http://127.0.0.1", "http://127.0.0.1:0",
                          "http://127.0.0.1:2019/config/", "http://user@127.0.0.1:2019", "unix//run/caddy.sock",
                          "http://[::1]", "http://127.0.0.1:2019?x"}) {
    INFO(bad);
    auto result = platform::admin_listen_address(bad);
    REQUIRE_FALSE(result);
    CHECK(result.error().code() == core::Errc::config);
    CHECK(result.error().message().find(std::string("'") + bad + "'") != std::string::npos);
  }

  auto platform_settings = plain_platform();
  platform_settings.caddy_admin = "http://127.0.0.1:2999";
  CHECK(platform::render_caddy_config(api_registry(), {}, platform_settings).at("admin") ==
        json({{"listen", "127.0.0.1:2999"}}));
  platform_settings.caddy_admin = "https://127.0.0.1:2999";
  CHECK_THROWS_AS(platform::render_caddy_config(api_registry(), {}, platform_settings), std::invalid_argument);
}

TEST_CASE("caddy config: exact domains are routed before wildcards", "[platform]") {
  state::Registry registry;
  registry.services = {service("catchall", {"*.example.org", "example.org"}), service("api", {"api.example.org"})};
  registry.backends.push_back({backend("c-1", "catchall", "10.0.0.1", 80)});
  registry.backends.push_back({backend("a-1", "api", "10.0.0.2", 80)});
  auto routes = routes_of(render(registry, {}));
  REQUIRE(routes.size() == 3);
  CHECK(routes.at(0).at("match").at(0).at("host") == json({"api.example.org"}));
  CHECK(routes.at(1).at("match").at(0).at("host") == json({"example.org"}));
  CHECK(routes.at(2).at("match").at(0).at("host") == json({"*.example.org"}));
  CHECK(routes.at(1).at("handle") == routes.at(2).at("handle"));
  for (const auto& route : routes) CHECK(route.at("terminal") == true);
}

TEST_CASE("caddy config: the same input renders the same bytes, whatever the input order", "[platform]") {
  auto registry = api_registry();
  registry.services.push_back(service("web", {"www.example.org", "example.org"}, config::Policy::failover));
  registry.backends.push_back({backend("w-2", "web", "2001:db8::2", 80)});
  registry.backends.push_back({backend("w-1", "web", "2001:db8::1", 80)});
  registry.backends[0].spec.weight = 3;
  std::map<std::string, state::BackendHealth> health;
  set_health(health, "a", state::BackendState::up);
  set_health(health, "c", state::BackendState::up);
  set_health(health, "w-1", state::BackendState::down);

  auto first = render(registry, health).dump();
  CHECK(render(registry, health).dump() == first);

  auto shuffled = registry;
  std::reverse(shuffled.services.begin(), shuffled.services.end());
  std::reverse(shuffled.backends.begin(), shuffled.backends.end());
  std::reverse(shuffled.services[1].domains.begin(), shuffled.services[1].domains.end());
  CHECK(render(shuffled, health).dump() == first);

  // Health of a backend the registry no longer has, or a changed latency, changes nothing.
  set_health(health, "gone", state::BackendState::up);
  health["a"].latency_ms = 12.5;
  CHECK(render(registry, health).dump() == first);
  // A transition does.
  set_health(health, "b", state::BackendState::up);
  CHECK(render(registry, health).dump() != first);
}

TEST_CASE("caddy config: durations in Caddy's syntax", "[platform]") {
  CHECK(platform::caddy_duration(5000) == "5s");
  CHECK(platform::caddy_duration(1500) == "1500ms");
  CHECK(platform::caddy_duration(250) == "250ms");
  CHECK(platform::caddy_duration(0) == "0ms");
}
