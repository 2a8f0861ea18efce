#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "../scratch.hpp"
#include "anemone/config/platform.hpp"

namespace anemone::config {
namespace {

// The message of the error that parsing `yaml` (named "platform.yaml") must produce.
std::string error_of(std::string_view yaml) {
  core::Result<PlatformSpec> result = parse_platform(yaml, "platform.yaml");
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code() == core::Errc::config);
  return result.error().message();
}

PlatformSpec parsed(std::string_view yaml) {
  core::Result<PlatformSpec> result = parse_platform(yaml, "platform.yaml");
  if (!result) FAIL(result.error().message());
  return *result;
}

// The message of a validator's error; an accepted value fails the test.
std::string rejection(const core::Result<void>& result) {
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code() == core::Errc::config);
  return result.error().message();
}

void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

constexpr std::string_view k_full_platform = R"(sites:
  - name: dijon
  - name: thory
services:
  - name: api
    domains: [api.example.org, "*.api.example.org"]
    health: {path: /health, interval: 5s, timeout: 2s, rise: 2, fall: 3, expect_status: 200}
    policy: failover
    backends:
      - {site: dijon, addr: 10.200.0.23, port: 8080, priority: 1, weight: 2, tags: [primary]}
      - {site: thory, addr: 10.200.1.40, port: 8080, priority: 2}
  - name: web
    domains:
      - www.example.org
      - example.org
    health:
      path: /status?full=1
      interval: 1m
      timeout: 500ms
      rise: 1
      fall: 5
      expect_status: 204
    policy: least_conn
    backends:
      - name: web-thory
        site: thory
        addr: 2001:db8::1
        port: 8443
        weight: 100
        tags: [edge, v6]
        tls: true
  - name: docs
    domains: [docs.localhost]
)";

// Two sites and one service "api"; tests append its backends (indented for the list) or more services.
std::string with_backends(std::string_view backend_lines) {
  return std::string(R"(sites:
  - name: dijon
  - name: thory
services:
  - name: api
    domains: [api.example.org]
    backends:
)") + std::string(backend_lines);
}

// One service whose health map is given as the lines that follow "health:".
std::string with_health(std::string_view health_lines) {
  return std::string(R"(services:
  - name: api
    domains: [api.example.org]
    health:
)") + std::string(health_lines);
}

} // namespace

TEST_CASE("a full platform.yaml parses into sites, services and flat backends", "[platform]") {
  PlatformSpec spec = parsed(k_full_platform);

  REQUIRE(spec.sites.size() == 2);
  CHECK(spec.sites[0] == SiteSpec{"dijon"});
  CHECK(spec.sites[1] == SiteSpec{"thory"});

  REQUIRE(spec.services.size() == 3);
  const ServiceSpec& api = spec.services[0];
  CHECK(api.name == "api");
  CHECK(api.domains == std::vector<std::string>{"api.example.org", "*.api.example.org"});
  CHECK(api.health == HealthSpec{"/health", 5000, 2000, 2, 3, 200});
  CHECK(api.policy == Policy::failover);

  const ServiceSpec& web = spec.services[1];
  CHECK(web.name == "web");
  CHECK(web.domains == std::vector<std::string>{"www.example.org", "example.org"});
  CHECK(web.health == HealthSpec{"/status?full=1", 60000, 500, 1, 5, 204});
  CHECK(web.policy == Policy::least_conn);

  // No health and no policy: the model's defaults.
  const ServiceSpec& docs = spec.services[2];
  CHECK(docs.name == "docs");
  CHECK(docs.domains == std::vector<std::string>{"docs.localhost"});
  CHECK(docs.health == HealthSpec{});
  CHECK(docs.policy == Policy::round_robin);

  // Backends come out flat, in file order, each naming its service.
  REQUIRE(spec.backends.size() == 3);
  CHECK(spec.backends[0] ==
        BackendSpec{"api/10.200.0.23:8080", "api", "dijon", "10.200.0.23", 8080, 1, 2, {"primary"}, false});
  CHECK(spec.backends[1] == BackendSpec{"api/10.200.1.40:8080", "api", "thory", "10.200.1.40", 8080, 2, 1, {}, false});
  CHECK(spec.backends[2] ==
        BackendSpec{"web-thory", "web", "thory", "2001:db8::1", 8443, 1, 100, {"edge", "v6"}, true});
}

TEST_CASE("optional sections may be empty or absent", "[platform]") {
  PlatformSpec empty = parsed("sites: []\nservices: []\n");
  CHECK(empty.sites.empty());
  CHECK(empty.services.empty());
  CHECK(empty.backends.empty());

  PlatformSpec bare = parsed("services:\n  - name: api\n    domains: [api.example.org]\n    health:\n    policy:\n"
                             "    backends:\n");
  REQUIRE(bare.services.size() == 1);
  CHECK(bare.services[0].health == HealthSpec{});
  CHECK(bare.services[0].policy == Policy::round_robin);
  CHECK(bare.backends.empty());

  PlatformSpec defaults = parsed(with_backends("      - {site: dijon, addr: app, port: 80}\n"));
  REQUIRE(defaults.backends.size() == 1);
  CHECK(defaults.backends[0] == BackendSpec{"api/app:80", "api", "dijon", "app", 80, 1, 1, {}, false});

  // Only the health keys given change; the rest keep their defaults.
  PlatformSpec partial = parsed(with_health("      path: /ready\n"));
  CHECK(partial.services[0].health == HealthSpec{"/ready", 5000, 2000, 2, 3, 200});

  // An empty file is a mistake (a wrong path would otherwise remove every service).
  CHECK(error_of("") == "platform.yaml:1:1: (top level): expected a map with sites and services, got an empty file");
  CHECK(error_of("- dijon\n") == "platform.yaml:1:1: (top level): expected a map, got a list");
}

TEST_CASE("an unknown platform key suggests the closest known key", "[platform]") {
  CHECK(error_of(with_backends("      - site: dijon\n        addr: 10.0.0.1\n        prot: 8080\n")) ==
        "platform.yaml:10:9: services[0].backends[0].prot: unknown key (did you mean port?)");
  CHECK(error_of(with_health("      path: /health\n      intreval: 5s\n")) ==
        "platform.yaml:6:7: services[0].health.intreval: unknown key (did you mean interval?)");
  CHECK(error_of("sites: []\nservics: []\n") == "platform.yaml:2:1: servics: unknown key (did you mean services?)");
  CHECK(error_of(with_backends("      - {site: dijon, addr: 10.0.0.1, port: 80, wieght: 2}\n")) ==
        "platform.yaml:8:49: services[0].backends[0].wieght: unknown key (did you mean weight?)");
  CHECK(error_of("services:\n  - name: api\n    domains: [a.example.org]\n    upstreams: []\n") ==
        "platform.yaml:4:5: services[0].upstreams: unknown key (expected one of: name, domains, health, policy, "
        "backends)");
}

TEST_CASE("a port outside 1..65535 is named with its path and position", "[platform]") {
  std::string two_backends = "      - {site: dijon, addr: 10.0.0.1, port: 8080}\n"
                             "      - site: thory\n"
                             "        addr: 10.0.0.2\n"
                             "        port: ";
  CHECK(error_of(with_backends(two_backends + "70000\n")) ==
        "platform.yaml:11:15: services[0].backends[1].port: 70000 is not a port (1..65535)");
  CHECK(error_of(with_backends(two_backends + "0\n")) ==
        "platform.yaml:11:15: services[0].backends[1].port: 0 is not a port (1..65535)");
  CHECK(error_of(with_backends(two_backends + "http\n")) ==
        "platform.yaml:11:15: services[0].backends[1].port: expected a port (1..65535), got \"http\"");
  CHECK(error_of(with_backends("      - {site: dijon, addr: 10.0.0.1}\n")) ==
        "platform.yaml:8:9: services[0].backends[0].port: required key is missing");
}

TEST_CASE("other backend values out of range are rejected", "[platform]") {
  CHECK(error_of(with_backends("      - {site: dijon, addr: 10.0.0.1, port: 80, priority: 1001}\n")) ==
        "platform.yaml:8:59: services[0].backends[0].priority: expected an integer from 1 to 1000, got \"1001\"");
  CHECK(error_of(with_backends("      - {site: dijon, addr: 10.0.0.1, port: 80, weight: 0}\n")) ==
        "platform.yaml:8:57: services[0].backends[0].weight: expected an integer from 1 to 100, got \"0\"");
  CHECK(error_of(with_backends("      - {site: dijon, addr: 10.0.0.1, port: 80, tls: yes}\n")) ==
        "platform.yaml:8:54: services[0].backends[0].tls: expected true or false, got \"yes\"");
  CHECK(error_of(with_backends("      - {site: dijon, addr: \"10.0.0.1:8080\", port: 80}\n")) ==
        "platform.yaml:8:29: services[0].backends[0].addr: \"10.0.0.1:8080\" is not an address: the port goes in "
        "the port key");
  CHECK(error_of(with_backends("      - {site: dijon, addr: 10.0.0.256, port: 80}\n")) ==
        "platform.yaml:8:29: services[0].backends[0].addr: \"10.0.0.256\" is not an IPv4 address (four numbers "
        "0..255, no leading zeros)");
  CHECK(error_of(with_backends("      - {site: dijon, addr: 10.0.0.1, port: 80, tags: [Primary]}\n")) ==
        "platform.yaml:8:56: services[0].backends[0].tags[0]: expected a tag name of 1 to 63 characters of a-z, "
        "0-9, '_' and '-', starting with a letter or digit, got \"Primary\" (write it in lower case)");
}

TEST_CASE("a malformed domain is rejected with the reason", "[platform]") {
  auto service_with_domain = [](std::string_view domain) {
    return "services:\n  - name: api\n    domains:\n      - www.example.org\n      - " + std::string(domain) + "\n";
  };
  CHECK(error_of(service_with_domain("api..example.org")) ==
        "platform.yaml:5:9: services[0].domains[1]: \"api..example.org\" is not a domain name: it has an empty "
        "label (two dots in a row, or a dot at either end)");
  CHECK(error_of(service_with_domain("-api.example.org")) ==
        "platform.yaml:5:9: services[0].domains[1]: \"-api.example.org\" is not a domain name: the label \"-api\" "
        "starts or ends with '-'");
  CHECK(error_of(service_with_domain("api_v2.example.org")) ==
        "platform.yaml:5:9: services[0].domains[1]: \"api_v2.example.org\" is not a domain name: \"_\" is not "
        "allowed (only a-z, 0-9, '-' and '.')");
  CHECK(error_of(service_with_domain("intranet")) ==
        "platform.yaml:5:9: services[0].domains[1]: \"intranet\" is not a domain name: expected at least two "
        "labels, like example.org (or localhost)");
  CHECK(error_of(service_with_domain("\"api.*.example.org\"")) ==
        "platform.yaml:5:9: services[0].domains[1]: \"api.*.example.org\" is not a domain name: '*' may only be "
        "the whole first label, as in *.example.org");
  CHECK(error_of("services:\n  - name: api\n    domains: []\n") ==
        "platform.yaml:3:14: services[0].domains: expected at least one domain, got an empty list");
  CHECK(error_of("services:\n  - name: api\n    policy: failover\n") ==
        "platform.yaml:2:5: services[0].domains: required key is missing");
}

TEST_CASE("an upper-case domain is rejected with a hint to write it in lower case", "[platform]") {
  CHECK(error_of("services:\n  - name: api\n    domains: [API.Example.org]\n") ==
        "platform.yaml:3:15: services[0].domains[0]: \"API.Example.org\" has upper-case letters; write it in lower "
        "case: \"api.example.org\"");
}

TEST_CASE("a health timeout must be shorter than the interval", "[platform]") {
  CHECK(error_of(with_health("      interval: 5s\n      timeout: 5s\n")) ==
        "platform.yaml:6:16: services[0].health.timeout: must be shorter than the interval (5s), got 5s");
  CHECK(error_of("services:\n  - name: api\n    domains: [api.example.org]\n"
                 "    health: {interval: 2s, timeout: 2500ms}\n") ==
        "platform.yaml:4:37: services[0].health.timeout: must be shorter than the interval (2s), got 2500ms");
  // Only the interval was written: the default timeout (2s) is too long for it.
  CHECK(error_of(with_health("      interval: 1s\n")) ==
        "platform.yaml:5:17: services[0].health.interval: must be longer than the timeout (2s, the default), got 1s");
}

TEST_CASE("health values outside their limits are rejected", "[platform]") {
  CHECK(error_of(with_health("      interval: 50ms\n")) ==
        "platform.yaml:5:17: services[0].health.interval: expected a duration from 100ms to 1h, got 50ms");
  CHECK(error_of(with_health("      interval: 2h\n")) ==
        "platform.yaml:5:17: services[0].health.interval: expected a duration from 100ms to 1h, got 2h");
  CHECK(error_of(with_health("      interval: 5\n")) ==
        "platform.yaml:5:17: services[0].health.interval: expected a duration like 5s, 500ms or 1m, got \"5\"");
  CHECK(error_of(with_health("      timeout: 10ms\n")) ==
        "platform.yaml:5:16: services[0].health.timeout: expected a duration of at least 50ms, got 10ms");
  CHECK(error_of(with_health("      path: health\n")) ==
        "platform.yaml:5:13: services[0].health.path: expected an absolute path like /health, without spaces or "
        "control characters, got \"health\"");
  CHECK(error_of(with_health("      path: \"/health check\"\n")) ==
        "platform.yaml:5:13: services[0].health.path: expected an absolute path like /health, without spaces or "
        "control characters, got \"/health check\"");
  CHECK(error_of(with_health("      rise: 0\n")) ==
        "platform.yaml:5:13: services[0].health.rise: expected an integer from 1 to 100, got \"0\"");
  CHECK(error_of(with_health("      fall: 101\n")) ==
        "platform.yaml:5:13: services[0].health.fall: expected an integer from 1 to 100, got \"101\"");
  CHECK(error_of(with_health("      expect_status: 99\n")) ==
        "platform.yaml:5:22: services[0].health.expect_status: expected an integer from 100 to 599, got \"99\"");
}

TEST_CASE("an unknown policy is rejected with a suggestion", "[platform]") {
  CHECK(error_of("services:\n  - name: api\n    domains: [api.example.org]\n    policy: round-robin\n") ==
        "platform.yaml:4:13: services[0].policy: expected round_robin, failover, least_conn or ip_hash, got "
        "\"round-robin\" (did you mean round_robin?)");
  for (Policy policy : {Policy::round_robin, Policy::failover, Policy::least_conn, Policy::ip_hash})
    CHECK(parse_policy(policy_name(policy)) == policy);
  CHECK(policy_name(Policy::ip_hash) == "ip_hash");
  CHECK_FALSE(parse_policy("random").has_value());
  CHECK_FALSE(parse_policy("").has_value());
}

TEST_CASE("a backend on an undeclared site points at its site key", "[platform]") {
  CHECK(error_of(with_backends("      - {site: dijon, addr: 10.0.0.1, port: 80}\n"
                               "      - {site: dijn, addr: 10.0.0.2, port: 80}\n")) ==
        "platform.yaml:9:16: services[0].backends[1].site: undeclared site \"dijn\" (did you mean dijon?)");
  CHECK(error_of(with_backends("      - site: paris\n        addr: 10.0.0.1\n        port: 80\n")) ==
        "platform.yaml:8:15: services[0].backends[0].site: undeclared site \"paris\" (declared: dijon, thory)");
  CHECK(error_of("services:\n  - name: api\n    domains: [api.example.org]\n"
                 "    backends: [{site: dijon, addr: 10.0.0.1, port: 80}]\n") ==
        "platform.yaml:4:23: services[0].backends[0].site: undeclared site \"dijon\" (the sites list is empty)");
}

TEST_CASE("a domain served by two services is rejected at its second use", "[platform]") {
  CHECK(error_of(with_backends("") +
                 "  - name: www\n    domains:\n      - www.example.org\n      - api.example.org\n") ==
        "platform.yaml:11:9: services[1].domains[1]: \"api.example.org\" is already a domain of service api (line 6)");
  CHECK(error_of("services:\n  - name: api\n    domains: [a.example.org, b.example.org, a.example.org]\n") ==
        "platform.yaml:3:45: services[0].domains[2]: \"a.example.org\" is listed twice (first at line 3)");
}

TEST_CASE("duplicate sites, services and backends are rejected where they repeat", "[platform]") {
  CHECK(error_of("sites:\n  - name: dijon\n  - name: thory\n  - name: dijon\n") ==
        "platform.yaml:4:11: sites[2].name: duplicate site name \"dijon\" (first used at line 2)");
  CHECK(error_of("services:\n  - {name: api, domains: [a.example.org]}\n  - {name: api, domains: [b.example.org]}\n") ==
        "platform.yaml:3:12: services[1].name: duplicate service name \"api\" (first used at line 2)");
  CHECK(error_of(with_backends("      - {site: dijon, addr: 10.0.0.1, port: 80}\n"
                               "      - {site: thory, addr: 10.0.0.1, port: 80}\n")) ==
        "platform.yaml:9:9: services[0].backends[1]: duplicate backend 10.0.0.1:80 of service api (first at line 8)");
  // Two spellings of one IPv6 address are one backend.
  CHECK(error_of(with_backends("      - site: dijon\n        addr: 2001:db8::1\n        port: 80\n"
                               "      - site: thory\n        addr: 2001:0DB8:0::1\n        port: 80\n")) ==
        "platform.yaml:11:9: services[0].backends[1]: duplicate backend [2001:0DB8:0::1]:80 of service api (first "
        "at line 8)");
  CHECK(error_of(with_backends("      - {name: one, site: dijon, addr: 10.0.0.1, port: 80}\n"
                               "      - {name: one, site: thory, addr: 10.0.0.2, port: 80}\n")) ==
        "platform.yaml:9:16: services[0].backends[1].name: duplicate backend name \"one\" (first used at line 8)");
  // The same address and port under two services is two backends.
  PlatformSpec shared = parsed(with_backends("      - {site: dijon, addr: 10.0.0.1, port: 80}\n") +
                               "  - name: www\n    domains: [www.example.org]\n"
                               "    backends: [{site: dijon, addr: 10.0.0.1, port: 80}]\n");
  REQUIRE(shared.backends.size() == 2);
  CHECK(shared.backends[1].name == "www/10.0.0.1:80");
}

TEST_CASE("a platform.yaml syntax error reports its line and column", "[platform]") {
  CHECK(error_of("sites:\n  - name: dijon\nservices:\n  - name: api\n    domains: [api.example.org\n") ==
        "platform.yaml:6:1: invalid YAML: end of sequence flow not found");
  CHECK(error_of("sites:\n  - name: dijon\n bad: b\n") == "platform.yaml:3:2: invalid YAML: end of map not found");
  CHECK(error_of("sites:\n  - name: a: b\n") == "platform.yaml:2:12: invalid YAML: illegal map value");
}

TEST_CASE("validate_name accepts the name alphabet and quotes what it refuses", "[platform]") {
  const std::string longest(63, 'a');
  const std::initializer_list<std::string_view> good_names = {"a", "dijon", "site-2", "api_v2", "0day", longest};
  for (std::string_view good : good_names)
    CHECK(validate_name("site", good).has_value());
  CHECK(rejection(validate_name("site", "")) ==
        "expected a site name of 1 to 63 characters of a-z, 0-9, '_' and '-', starting with a letter or digit, got "
        "\"\"");
  CHECK(rejection(validate_name("service", "-api")).ends_with("got \"-api\""));
  CHECK(rejection(validate_name("service", "_api")).ends_with("got \"_api\""));
  CHECK(rejection(validate_name("service", "api.v2")).ends_with("got \"api.v2\""));
  CHECK(rejection(validate_name("site", "Dijon")).ends_with("got \"Dijon\" (write it in lower case)"));
  CHECK(rejection(validate_name("site", std::string(64, 'a'))).starts_with("expected a site name of 1 to 63"));
}

TEST_CASE("validate_domain accepts host names, localhost and a wildcard first label", "[platform]") {
  for (std::string_view good : {"example.org", "api.example.org", "*.example.org", "localhost", "docs.localhost",
                                "*.localhost", "a-b.c-d.example", "xn--bcher-kva.example", "1.example.org"})
    CHECK(validate_domain(good).has_value());
  CHECK(rejection(validate_domain("")) == "expected a domain name, got \"\"");
  CHECK(rejection(validate_domain("Example.org")) ==
        "\"Example.org\" has upper-case letters; write it in lower case: \"example.org\"");
  CHECK(rejection(validate_domain("example.org.")) ==
        "\"example.org.\" is not a domain name: it has an empty label (two dots in a row, or a dot at either end)");
  CHECK(rejection(validate_domain("api-.example.org")) ==
        "\"api-.example.org\" is not a domain name: the label \"api-\" starts or ends with '-'");
  CHECK(rejection(validate_domain("*.org")) ==
        "\"*.org\" is not a domain name: expected at least two labels, like example.org (or localhost)");
  CHECK(rejection(validate_domain("*")) ==
        "\"*\" is not a domain name: expected at least two labels, like example.org (or localhost)");
  CHECK(rejection(validate_domain("*api.example.org")) ==
        "\"*api.example.org\" is not a domain name: '*' may only be the whole first label, as in *.example.org");
  CHECK(rejection(validate_domain("10.0.0.1")) ==
        "\"10.0.0.1\" is not a domain name: it looks like an IP address; Caddy needs a host name here");
  CHECK(rejection(validate_domain("bücher.example")).ends_with("(write an international name in punycode, xn--...)"));
  // The quoted value is cut at 64 characters; the label is named in full.
  CHECK(rejection(validate_domain(std::string(64, 'a') + ".org"))
            .ends_with("...\" is not a domain name: the label \"" + std::string(64, 'a') +
                       "\" is longer than 63 characters"));
  // 4 labels of 63 and the dots between them: 255 characters.
  std::string long_name = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                          std::string(63, 'd');
  CHECK(rejection(validate_domain(long_name)).ends_with("is not a domain name: longer than 253 characters (255)"));
}

TEST_CASE("validate_backend_addr accepts IPv4, IPv6 and host names", "[platform]") {
  for (std::string_view good : {"10.200.0.23", "127.0.0.1", "2001:db8::1", "::1", "fe80::1:2:3:4", "app",
                                "backend-1.internal", "db.example.org"})
    CHECK(validate_backend_addr(good).has_value());
  CHECK(rejection(validate_backend_addr("")) == "expected an IPv4 or IPv6 address or a host name, got \"\"");
  CHECK(rejection(validate_backend_addr("[2001:db8::1]")) ==
        "\"[2001:db8::1]\": write the IPv6 address without brackets: \"2001:db8::1\"");
  CHECK(rejection(validate_backend_addr("2001:db8::g")) == "\"2001:db8::g\" is not an IPv6 address");
  CHECK(rejection(validate_backend_addr(std::string("::1\0x", 5))) == "\"::1\\x00x\" is not an IPv6 address");
  CHECK(rejection(validate_backend_addr("10.0.0.01")) ==
        "\"10.0.0.01\" is not an IPv4 address (four numbers 0..255, no leading zeros)");
  CHECK(rejection(validate_backend_addr("10.0.0")) ==
        "\"10.0.0\" is not an IPv4 address (four numbers 0..255, no leading zeros)");
  CHECK(rejection(validate_backend_addr("app:8080")) ==
        "\"app:8080\" is not an address: the port goes in the port key");
  CHECK(rejection(validate_backend_addr("App.internal")) ==
        "\"App.internal\" has upper-case letters; write it in lower case: \"app.internal\"");
  CHECK(rejection(validate_backend_addr("app server")) ==
        "\"app server\" is not an IPv4 or IPv6 address or a host name: \" \" is not allowed (only a-z, 0-9, '-' and "
        "'.')");
}

TEST_CASE("validate_port accepts 1..65535", "[platform]") {
  CHECK(validate_port(1).has_value());
  CHECK(validate_port(8080).has_value());
  CHECK(validate_port(65535).has_value());
  CHECK(rejection(validate_port(0)) == "0 is not a port (1..65535)");
  CHECK(rejection(validate_port(65536)) == "65536 is not a port (1..65535)");
  CHECK(rejection(validate_port(-80)) == "-80 is not a port (1..65535)");
}

TEST_CASE("validate_health checks the same limits as platform.yaml", "[platform]") {
  CHECK(validate_health(HealthSpec{}).has_value());
  CHECK(validate_health(HealthSpec{"/healthz?deep=1", 100, 50, 1, 100, 599}).has_value());
  CHECK(validate_health(HealthSpec{"/", 3600 * 1000, 3600 * 1000 - 1, 100, 1, 100}).has_value());

  HealthSpec health;
  health.path = "health";
  CHECK(rejection(validate_health(health)) ==
        "health path: expected an absolute path like /health, without spaces or control characters, got \"health\"");
  health = HealthSpec{};
  health.path = "/health\ncheck";
  CHECK(rejection(validate_health(health)).ends_with("got \"/health\\x0acheck\""));
  health = HealthSpec{};
  health.timeout_ms = 5000;
  CHECK(rejection(validate_health(health)) == "health timeout: must be shorter than the interval (5s), got 5s");
  health = HealthSpec{};
  health.timeout_ms = 49;
  CHECK(rejection(validate_health(health)) == "health timeout: expected a duration of at least 50ms, got 49ms");
  health = HealthSpec{};
  health.interval_ms = 3600 * 1000 + 1;
  CHECK(rejection(validate_health(health)) == "health interval: expected a duration from 100ms to 1h, got 3600001ms");
  health = HealthSpec{};
  health.rise = 0;
  CHECK(rejection(validate_health(health)) == "health rise: expected 1 to 100, got 0");
  health = HealthSpec{};
  health.fall = 101;
  CHECK(rejection(validate_health(health)) == "health fall: expected 1 to 100, got 101");
  health = HealthSpec{};
  health.expect_status = 600;
  CHECK(rejection(validate_health(health)) == "health expect_status: expected 100 to 599, got 600");
}

TEST_CASE("default_backend_name puts IPv6 addresses in brackets", "[platform]") {
  CHECK(default_backend_name("api", "10.200.0.23", 8080) == "api/10.200.0.23:8080");
  CHECK(default_backend_name("api", "2001:db8::1", 8080) == "api/[2001:db8::1]:8080");
  CHECK(default_backend_name("web", "app.internal", 443) == "web/app.internal:443");
  PlatformSpec spec = parsed(with_backends("      - site: dijon\n        addr: 2001:db8::1\n        port: 8080\n"));
  REQUIRE(spec.backends.size() == 1);
  CHECK(spec.backends[0].name == "api/[2001:db8::1]:8080");
}

TEST_CASE("load_platform_file reads a file and names it in errors", "[platform]") {
  test::ScratchDir scratch;
  std::filesystem::path good = scratch / "platform.yaml";
  write_text(good, k_full_platform);
  core::Result<PlatformSpec> spec = load_platform_file(good);
  REQUIRE(spec.has_value());
  CHECK(spec->backends.size() == 3);

  std::filesystem::path bad = scratch / "bad.yaml";
  write_text(bad, "sites:\n  - nmae: dijon\n");
  core::Result<PlatformSpec> failed = load_platform_file(bad);
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().code() == core::Errc::config);
  CHECK(failed.error().message() == bad.string() + ":2:5: sites[0].nmae: unknown key (did you mean name?)");

  std::filesystem::path missing = scratch / "missing.yaml";
  core::Result<PlatformSpec> absent = load_platform_file(missing);
  REQUIRE_FALSE(absent.has_value());
  CHECK(absent.error().code() == core::Errc::config);
  CHECK(absent.error().message() == "cannot read platform file " + missing.string() + ": No such file or directory");
}

} // namespace anemone::config
