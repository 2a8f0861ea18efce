#pragma once
// The multi-site platform's model (issue 6): sites, services and their backends, as an operator
// declares them in platform.yaml (`caddy-sync apply`) or adds them one by one on the command line.
// The same validators check both ways in, so the registry never holds a value Caddy would refuse.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anemone/core/error.hpp"

namespace anemone::config {

// How Caddy picks among a service's healthy backends.
enum class Policy { round_robin, failover, least_conn, ip_hash };
std::string_view policy_name(Policy policy);
std::optional<Policy> parse_policy(std::string_view text);

// health-checker's probe of every backend of a service.
struct HealthSpec {
  std::string path = "/health";  // absolute path, may carry a query
  int64_t interval_ms = 5000;
  int64_t timeout_ms = 2000;     // < interval
  int rise = 2;                  // passes in a row before a down backend is up
  int fall = 3;                  // failures in a row before an up backend is down
  int expect_status = 200;
  bool operator==(const HealthSpec&) const = default;
};

struct BackendSpec {
  std::string name;              // unique over the registry; default "<service>/<addr>:<port>"
  std::string service;
  std::string site;
  std::string addr;              // IPv4, IPv6 (no brackets) or a DNS name
  int port = 0;
  int priority = 1;              // failover: lowest first
  int weight = 1;                // 1..100
  std::vector<std::string> tags;
  bool tls = false;              // probe and proxy with https
  bool operator==(const BackendSpec&) const = default;
};

struct ServiceSpec {
  std::string name;
  std::vector<std::string> domains;
  HealthSpec health;
  Policy policy = Policy::round_robin;
  bool operator==(const ServiceSpec&) const = default;
};

struct SiteSpec {
  std::string name;
  bool operator==(const SiteSpec&) const = default;
};

// A whole platform.yaml: backends listed flat, each naming its service.
struct PlatformSpec {
  std::vector<SiteSpec> sites;
  std::vector<ServiceSpec> services;
  std::vector<BackendSpec> backends;
};

// Loads and validates platform.yaml; every error names file:line:col and the key path, e.g.
// "platform.yaml:12:9: services[0].backends[1].port: 70000 is not a port (1..65535)".
// Cross-checks: unique site, service and backend names, unique domains over all services, every
// backend's site declared.
core::Result<PlatformSpec> load_platform_file(const std::filesystem::path& file);
core::Result<PlatformSpec> parse_platform(std::string_view yaml_text, const std::filesystem::path& file_name);

// The validators both platform.yaml and the command line use. Each error quotes the bad value.
core::Result<void> validate_name(std::string_view what, std::string_view name);   // [a-z0-9][a-z0-9_-]{0,62}
core::Result<void> validate_domain(std::string_view domain);  // RFC 1123 host name, "*." wildcard first label allowed
core::Result<void> validate_backend_addr(std::string_view addr); // IPv4, IPv6 or host name
core::Result<void> validate_port(int64_t port);
core::Result<void> validate_health(const HealthSpec& health); // path starts with '/', timeout < interval, …
std::string default_backend_name(std::string_view service, std::string_view addr, int port);

// The `platform:` section of config.yaml: where caddy-sync finds Caddy and what it listens on.
struct Platform {
  bool enabled = false;
  std::string caddy_admin = "http://127.0.0.1:2019";
  std::vector<std::string> http_listen = {":80", ":443"};
  bool tls_auto = true; // tls: auto | off
  // Caddy waits this long for a backend's response headers; a GET that times out within the retry
  // window goes to another backend. Long polls need it longer than their poll.
  int64_t response_timeout_ms = 60000;
};

} // namespace anemone::config
