#include "anemone/config/platform.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <unistd.h>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "anemone/core/fs.hpp"
#include "anemone/core/net.hpp"
#include "anemone/core/time.hpp"
#include "yaml_reader.hpp"

namespace anemone::config {

namespace {

using detail::Field;
using detail::MapReader;
using detail::quote;
using detail::Reader;

// Like config.yaml: a page of text; anything bigger is a wrong path.

constexpr size_t k_max_name = 63;
constexpr size_t k_max_domain = 253;
constexpr size_t k_max_label = 63;
constexpr int64_t k_max_port = 65535;
constexpr int k_max_priority = 1000;
constexpr int k_max_weight = 100;
constexpr int k_max_rise_fall = 100;
constexpr int k_min_status = 100;
constexpr int k_max_status = 599;
constexpr int64_t k_min_interval_ms = 100;
constexpr int64_t k_max_interval_ms = 3600 * 1000;
constexpr int64_t k_min_timeout_ms = 50;

constexpr std::string_view k_top_keys[] = {"sites", "services"};
constexpr std::string_view k_site_keys[] = {"name"};
constexpr std::string_view k_service_keys[] = {"name", "domains", "health", "policy", "backends"};
constexpr std::string_view k_health_keys[] = {"path", "interval", "timeout", "rise", "fall", "expect_status"};
constexpr std::string_view k_backend_keys[] = {"name", "site", "addr", "port", "priority", "weight", "tags", "tls"};

struct PolicyName {
  Policy policy;
  std::string_view name;
};
constexpr PolicyName k_policies[] = {
    {Policy::round_robin, "round_robin"},
    {Policy::failover, "failover"},
    {Policy::least_conn, "least_conn"},
    {Policy::ip_hash, "ip_hash"},
};

bool is_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool has_upper(std::string_view text) {
  for (char c : text)
    if (is_upper(c)) return true;
  return false;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (is_upper(c)) c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_name(std::string_view name) {
  if (name.empty() || name.size() > k_max_name || !is_lower_or_digit(name[0])) return false;
  for (char c : name)
    if (!is_lower_or_digit(c) && c != '_' && c != '-') return false;
  return true;
}

// Why `label` cannot be a DNS label (RFC 1123: a-z, 0-9 and '-', not at either end, 1..63), if it
// cannot. Upper case is refused before this is asked.
std::optional<std::string> label_problem(std::string_view label) {
  if (label.empty()) return "it has an empty label (two dots in a row, or a dot at either end)";
  if (label.size() > k_max_label)
    return fmt::format("the label {} is longer than {} characters", quote(label), k_max_label);
  for (char c : label) {
    if (is_lower_or_digit(c) || c == '-') continue;
    if (static_cast<unsigned char>(c) >= 0x80)
      return "only a-z, 0-9, '-' and '.' are allowed (write an international name in punycode, xn--...)";
    return fmt::format("{} is not allowed (only a-z, 0-9, '-' and '.')", quote(std::string_view(&c, 1)));
  }
  if (label.front() == '-' || label.back() == '-')
    return fmt::format("the label {} starts or ends with '-'", quote(label));
  return std::nullopt;
}

std::vector<std::string_view> split_labels(std::string_view name) {
  std::vector<std::string_view> labels;
  while (true) {
    size_t dot = name.find('.');
    labels.push_back(name.substr(0, dot));
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return labels;
}

bool is_ipv6(std::string_view text, in6_addr* out = nullptr) {
  // inet_pton stops at a NUL; "::1\0junk" (a YAML "\0" escape) must not pass as "::1".
  if (text.find('\0') != std::string_view::npos) return false;
  in6_addr address{};
  bool ok = ::inet_pton(AF_INET6, std::string(text).c_str(), &address) == 1;
  if (ok && out != nullptr) *out = address;
  return ok;
}

// One spelling per address, so "2001:db8::1" and "2001:0DB8:0::1" are seen as the same backend.
std::string canonical_addr(std::string_view addr) {
  in6_addr address{};
  if (addr.find(':') == std::string_view::npos || !is_ipv6(addr, &address)) return std::string(addr);
  char buffer[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, &address, buffer, sizeof buffer);
  return buffer;
}

// The health checks shared by validate_health and the YAML reader. Each returns the problem without
// naming the field: the caller prefixes "health timeout" or the YAML key path.
core::Result<void> check_health_path(std::string_view path) {
  bool ok = !path.empty() && path[0] == '/';
  for (char c : path) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) ok = false;
  }
  if (!ok)
    return core::fail(core::Errc::config,
                      "expected an absolute path like /health, without spaces or control characters, got {}",
                      quote(path));
  return {};
}

core::Result<void> check_interval(int64_t ms) {
  if (ms < k_min_interval_ms || ms > k_max_interval_ms)
    return core::fail(core::Errc::config, "expected a duration from {} to {}, got {}",
                      core::format_duration_ms(k_min_interval_ms), core::format_duration_ms(k_max_interval_ms),
                      core::format_duration_ms(ms));
  return {};
}

core::Result<void> check_timeout(int64_t ms) {
  if (ms < k_min_timeout_ms)
    return core::fail(core::Errc::config, "expected a duration of at least {}, got {}",
                      core::format_duration_ms(k_min_timeout_ms), core::format_duration_ms(ms));
  return {};
}

// A probe that may outlast its interval would overlap the next one.
core::Result<void> check_timeout_below_interval(int64_t timeout_ms, int64_t interval_ms) {
  if (timeout_ms >= interval_ms)
    return core::fail(core::Errc::config, "must be shorter than the interval ({}), got {}",
                      core::format_duration_ms(interval_ms), core::format_duration_ms(timeout_ms));
  return {};
}

core::Result<void> check_range(int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max) return core::fail(core::Errc::config, "expected {} to {}, got {}", min, max, value);
  return {};
}

// Turns a validator's error into one that points at the YAML value it came from.
core::Result<void> located(const Reader& reader, const Field& field, core::Result<void> checked) {
  if (!checked) return tl::unexpected(reader.error(field.mark(), field.path, checked.error().message()));
  return {};
}

// Any integer, so that validate_port can say what is wrong with 70000; Reader::integer would only
// quote its range.
core::Result<int64_t> read_int64(const Reader& reader, const Field& field, std::string_view expected) {
  auto failure = [&] {
    return tl::unexpected(reader.error(field.mark(), field.path,
                                       fmt::format("expected {}, got {}", expected, detail::describe(field.node))));
  };
  if (!field.node.IsScalar()) return failure();
  const std::string& text = field.node.Scalar();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return failure();
  return value;
}

// YAML 1.2's core schema booleans only: "yes", "on" and "1" are typos as often as they are answers.
core::Result<bool> read_bool(const Reader& reader, const Field& field) {
  if (field.node.IsScalar()) {
    const std::string& text = field.node.Scalar();
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
  }
  return tl::unexpected(reader.error(field.mark(), field.path,
                                     fmt::format("expected true or false, got {}", detail::describe(field.node))));
}

core::Result<int64_t> read_duration(const Reader& reader, const Field& field) {
  std::string text = TRY(reader.string(field));
  auto ms = core::parse_duration_ms(text);
  if (!ms)
    return tl::unexpected(
        reader.error(field.mark(), field.path, "expected a duration like 5s, 500ms or 1m, got " + quote(text)));
  return *ms;
}

core::Result<std::string> read_name(const Reader& reader, const Field& field, std::string_view what) {
  std::string name = TRY(reader.string(field));
  TRY(located(reader, field, validate_name(what, name)));
  return name;
}

core::Result<Policy> read_policy(const Reader& reader, const Field& field) {
  std::string text = TRY(reader.string(field));
  if (auto policy = parse_policy(text)) return *policy;
  std::vector<std::string_view> names;
  for (const PolicyName& entry : k_policies)
    names.push_back(entry.name);
  std::string problem = fmt::format("expected round_robin, failover, least_conn or ip_hash, got {}", quote(text));
  if (auto guess = detail::closest_match(text, names)) problem += fmt::format(" (did you mean {}?)", *guess);
  return tl::unexpected(reader.error(field.mark(), field.path, problem));
}

// Where each parsed value came from, for the cross-checks that run once the whole file is read.
// Built by construction only: assigning a YAML::Node rebinds the node it shares with the document
// (yaml-cpp's Node::operator= writes through), which would rewrite the tree under later checks.
struct ServiceOrigin {
  Field name;
  std::vector<Field> domains;
};
struct BackendOrigin {
  Field item;
  Field site;
  std::optional<Field> name; // absent when the name is the default one
};
struct Origins {
  std::vector<Field> sites;
  std::vector<ServiceOrigin> services;
  std::vector<BackendOrigin> backends;
};

core::Result<HealthSpec> parse_health(const Reader& reader, const Field& field) {
  MapReader map = TRY(reader.map(field, k_health_keys));
  HealthSpec health;
  if (auto path = map.optional("path")) {
    health.path = TRY(reader.string(*path));
    TRY(located(reader, *path, check_health_path(health.path)));
  }
  auto interval = map.optional("interval");
  if (interval) {
    health.interval_ms = TRY(read_duration(reader, *interval));
    TRY(located(reader, *interval, check_interval(health.interval_ms)));
  }
  auto timeout = map.optional("timeout");
  if (timeout) {
    health.timeout_ms = TRY(read_duration(reader, *timeout));
    TRY(located(reader, *timeout, check_timeout(health.timeout_ms)));
  }
  // Blame the timeout if it was written; a default timeout too long for a short interval points
  // at the interval.
  if (auto order = check_timeout_below_interval(health.timeout_ms, health.interval_ms); !order) {
    if (timeout) return tl::unexpected(reader.error(timeout->mark(), timeout->path, order.error().message()));
    return tl::unexpected(reader.error(
        interval->mark(), interval->path,
        fmt::format("must be longer than the timeout ({}, the default), got {}",
                    core::format_duration_ms(health.timeout_ms), core::format_duration_ms(health.interval_ms))));
  }
  if (auto rise = map.optional("rise")) health.rise = TRY(reader.integer(*rise, 1, k_max_rise_fall));
  if (auto fall = map.optional("fall")) health.fall = TRY(reader.integer(*fall, 1, k_max_rise_fall));
  if (auto status = map.optional("expect_status"))
    health.expect_status = TRY(reader.integer(*status, k_min_status, k_max_status));
  // Everything above was checked key by key; this keeps the file and the command line in step.
  TRY(located(reader, field, validate_health(health)));
  return health;
}

// Appends to `origins` only once the backend parsed, so it stays parallel to PlatformSpec::backends.
core::Result<BackendSpec> parse_backend(const Reader& reader, const Field& item, const std::string& service,
                                        std::vector<BackendOrigin>& origins) {
  MapReader map = TRY(reader.map(item, k_backend_keys));
  BackendSpec backend;
  backend.service = service;
  Field site = TRY(map.required("site"));
  backend.site = TRY(read_name(reader, site, "site"));
  Field addr = TRY(map.required("addr"));
  backend.addr = TRY(reader.string(addr));
  TRY(located(reader, addr, validate_backend_addr(backend.addr)));
  Field port = TRY(map.required("port"));
  int64_t port_number = TRY(read_int64(reader, port, "a port (1..65535)"));
  TRY(located(reader, port, validate_port(port_number)));
  backend.port = static_cast<int>(port_number);
  if (auto priority = map.optional("priority")) backend.priority = TRY(reader.integer(*priority, 1, k_max_priority));
  if (auto weight = map.optional("weight")) backend.weight = TRY(reader.integer(*weight, 1, k_max_weight));
  if (auto tags = map.optional("tags")) {
    std::vector<Field> items = TRY(reader.list(*tags));
    for (const Field& tag : items)
      backend.tags.push_back(TRY(read_name(reader, tag, "tag")));
  }
  if (auto tls = map.optional("tls")) backend.tls = TRY(read_bool(reader, *tls));
  std::optional<Field> name = map.optional("name");
  if (name)
    backend.name = TRY(read_name(reader, *name, "backend"));
  else
    backend.name = default_backend_name(service, backend.addr, backend.port);
  origins.push_back(BackendOrigin{item, site, name});
  return backend;
}

core::Result<void> parse_service(const Reader& reader, const Field& item, PlatformSpec& spec, Origins& origins) {
  MapReader map = TRY(reader.map(item, k_service_keys));
  ServiceSpec service;
  Field name = TRY(map.required("name"));
  service.name = TRY(read_name(reader, name, "service"));

  Field domains = TRY(map.required("domains"));
  std::vector<Field> domain_items = TRY(reader.list(domains));
  // A service nobody can reach by name is a mistake, not a placeholder.
  if (domain_items.empty())
    return tl::unexpected(
        reader.error(domains.mark(), domains.path, "expected at least one domain, got an empty list"));
  for (const Field& domain : domain_items) {
    std::string text = TRY(reader.string(domain));
    TRY(located(reader, domain, validate_domain(text)));
    service.domains.push_back(std::move(text));
  }
  if (auto health = map.optional("health")) service.health = TRY(parse_health(reader, *health));
  if (auto policy = map.optional("policy")) service.policy = TRY(read_policy(reader, *policy));

  // Backends may come later (`caddy-sync add-backend`): an empty or absent list is fine.
  if (auto backends = map.optional("backends")) {
    std::vector<Field> items = TRY(reader.list(*backends));
    for (const Field& backend_item : items)
      spec.backends.push_back(TRY(parse_backend(reader, backend_item, service.name, origins.backends)));
  }
  spec.services.push_back(std::move(service));
  origins.services.push_back(ServiceOrigin{name, std::move(domain_items)});
  return {};
}

core::Result<void> parse_sites(const Reader& reader, const Field& field, PlatformSpec& spec, Origins& origins) {
  std::vector<Field> items = TRY(reader.list(field));
  for (const Field& item : items) {
    MapReader map = TRY(reader.map(item, k_site_keys));
    Field name = TRY(map.required("name"));
    spec.sites.push_back(SiteSpec{TRY(read_name(reader, name, "site"))});
    origins.sites.push_back(std::move(name));
  }
  return {};
}

int line_of(const Field& field) { return field.mark().line + 1; }

// Remembers the first use of each key so a repeat can say where the first one is.
class FirstUse {
public:
  // The field of the first use, or nullptr if `key` is new (and now remembered).
  const Field* add(const std::string& key, const Field& field) {
    auto [it, inserted] = m_first.emplace(key, field);
    return inserted ? nullptr : &it->second;
  }

private:
  std::map<std::string, Field, std::less<>> m_first;
};

// The checks that need the whole file: names unique, each domain served once, each backend on a
// declared site and listed once.
core::Result<void> cross_check(const Reader& reader, const PlatformSpec& spec, const Origins& origins) {
  FirstUse sites;
  for (size_t i = 0; i < spec.sites.size(); ++i) {
    const Field& at = origins.sites[i];
    if (const Field* first = sites.add(spec.sites[i].name, at))
      return tl::unexpected(reader.error(
          at.mark(), at.path,
          fmt::format("duplicate site name {} (first used at line {})", quote(spec.sites[i].name), line_of(*first))));
  }

  FirstUse services;
  for (size_t i = 0; i < spec.services.size(); ++i) {
    const Field& at = origins.services[i].name;
    if (const Field* first = services.add(spec.services[i].name, at))
      return tl::unexpected(reader.error(at.mark(), at.path,
                                         fmt::format("duplicate service name {} (first used at line {})",
                                                     quote(spec.services[i].name), line_of(*first))));
  }

  // Caddy routes a host name to one service; a second claim would silently win or lose.
  std::map<std::string, std::pair<size_t, Field>, std::less<>> domains;
  for (size_t i = 0; i < spec.services.size(); ++i)
    for (size_t j = 0; j < spec.services[i].domains.size(); ++j) {
      const std::string& domain = spec.services[i].domains[j];
      const Field& at = origins.services[i].domains[j];
      auto [it, inserted] = domains.emplace(domain, std::pair{i, at});
      if (inserted) continue;
      const auto& [owner, first] = it->second;
      if (owner == i)
        return tl::unexpected(reader.error(
            at.mark(), at.path, fmt::format("{} is listed twice (first at line {})", quote(domain), line_of(first))));
      return tl::unexpected(reader.error(at.mark(), at.path,
                                         fmt::format("{} is already a domain of service {} (line {})", quote(domain),
                                                     spec.services[owner].name, line_of(first))));
    }

  std::vector<std::string_view> site_names;
  for (const SiteSpec& site : spec.sites)
    site_names.push_back(site.name);
  FirstUse endpoints;
  FirstUse backend_names;
  for (size_t i = 0; i < spec.backends.size(); ++i) {
    const BackendSpec& backend = spec.backends[i];
    const BackendOrigin& origin = origins.backends[i];
    if (std::find(site_names.begin(), site_names.end(), backend.site) == site_names.end()) {
      std::string problem = fmt::format("undeclared site {}", quote(backend.site));
      if (auto guess = detail::closest_match(backend.site, site_names))
        problem += fmt::format(" (did you mean {}?)", *guess);
      else if (site_names.empty())
        problem += " (the sites list is empty)";
      else
        problem += fmt::format(" (declared: {})", fmt::join(site_names, ", "));
      return tl::unexpected(reader.error(origin.site.mark(), origin.site.path, problem));
    }
    std::string endpoint = default_backend_name(backend.service, canonical_addr(backend.addr), backend.port);
    if (const Field* first = endpoints.add(endpoint, origin.item))
      return tl::unexpected(reader.error(origin.item.mark(), origin.item.path,
                                         fmt::format("duplicate backend {} of service {} (first at line {})",
                                                     core::Endpoint{backend.addr, backend.port}.str(),
                                                     backend.service, line_of(*first))));
    const Field& name_at = origin.name ? *origin.name : origin.item;
    if (const Field* first = backend_names.add(backend.name, name_at))
      return tl::unexpected(reader.error(
          name_at.mark(), origin.name ? name_at.path : detail::child_path(name_at.path, "name"),
          fmt::format("duplicate backend name {} (first used at line {})", quote(backend.name), line_of(*first))));
  }
  return {};
}

core::Result<PlatformSpec> parse_document(const Reader& reader, const YAML::Node& root) {
  if (root.IsNull())
    return tl::unexpected(
        reader.error(root.Mark(), "", "expected a map with sites and services, got an empty file"));
  MapReader map = TRY(reader.map(Field{root, "", root.Mark()}, k_top_keys));
  PlatformSpec spec;
  Origins origins;
  if (auto sites = map.optional("sites")) TRY(parse_sites(reader, *sites, spec, origins));
  if (auto services = map.optional("services")) {
    std::vector<Field> items = TRY(reader.list(*services));
    for (const Field& item : items)
      TRY(parse_service(reader, item, spec, origins));
  }
  TRY(cross_check(reader, spec, origins));
  return spec;
}


} // namespace

std::string_view policy_name(Policy policy) {
  for (const PolicyName& entry : k_policies)
    if (entry.policy == policy) return entry.name;
  return "round_robin";
}

std::optional<Policy> parse_policy(std::string_view text) {
  for (const PolicyName& entry : k_policies)
    if (entry.name == text) return entry.policy;
  return std::nullopt;
}

core::Result<PlatformSpec> load_platform_file(const std::filesystem::path& file) {
  std::string text = TRY(detail::read_small_file(file, "platform file"));
  return parse_platform(text, file);
}

core::Result<PlatformSpec> parse_platform(std::string_view yaml_text, const std::filesystem::path& file_name) {
  Reader reader(file_name.string());
  // yaml-cpp reports syntax errors by throwing; they stop here and become values.
  try {
    YAML::Node root = TRY(reader.load(yaml_text));
    return parse_document(reader, root);
  } catch (const YAML::Exception& e) {
    return tl::unexpected(reader.located(e.mark, fmt::format("invalid YAML: {}", e.msg)));
  }
}

core::Result<void> validate_name(std::string_view what, std::string_view name) {
  if (is_name(name)) return {};
  std::string problem =
      fmt::format("expected a {} name of 1 to {} characters of a-z, 0-9, '_' and '-', starting with a letter or "
                  "digit, got {}",
                  what, k_max_name, quote(name));
  if (has_upper(name) && is_name(to_lower(name))) problem += " (write it in lower case)";
  return core::fail(core::Errc::config, std::move(problem));
}

core::Result<void> validate_domain(std::string_view domain) {
  if (domain.empty()) return core::fail(core::Errc::config, "expected a domain name, got \"\"");
  // Caddy and certificates treat names case-insensitively; one spelling keeps duplicates visible.
  if (has_upper(domain))
    return core::fail(core::Errc::config, "{} has upper-case letters; write it in lower case: {}", quote(domain),
                      quote(to_lower(domain)));
  auto bad = [&](std::string_view why) {
    return core::fail(core::Errc::config, "{} is not a domain name: {}", quote(domain), why);
  };
  if (domain.size() > k_max_domain)
    return bad(fmt::format("longer than {} characters ({})", k_max_domain, domain.size()));
  std::vector<std::string_view> labels = split_labels(domain);
  bool wildcard = labels.front() == "*";
  if (wildcard) labels.erase(labels.begin());
  for (std::string_view label : labels) {
    if (label.find('*') != std::string_view::npos)
      return bad("'*' may only be the whole first label, as in *.example.org");
    if (auto problem = label_problem(label)) return bad(*problem);
  }
  // A bare "org" (or "*.org") is a top-level domain, not a site; localhost is the one exception.
  if (labels.size() < 2 && labels.front() != "localhost")
    return bad("expected at least two labels, like example.org (or localhost)");
  bool numeric_top = true;
  for (char c : labels.back())
    if (!is_digit(c)) numeric_top = false;
  if (numeric_top) return bad("it looks like an IP address; Caddy needs a host name here");
  return {};
}

core::Result<void> validate_backend_addr(std::string_view addr) {
  auto bad = [&](std::string_view why) {
    return core::fail(core::Errc::config, "{} is not {}", quote(addr), why);
  };
  if (addr.empty()) return core::fail(core::Errc::config, "expected an IPv4 or IPv6 address or a host name, got \"\"");
  if (addr.front() == '[') {
    std::string_view inner = addr.substr(1, addr.size() >= 2 && addr.back() == ']' ? addr.size() - 2 : addr.npos);
    if (is_ipv6(inner))
      return core::fail(core::Errc::config, "{}: write the IPv6 address without brackets: {}", quote(addr),
                        quote(inner));
    return bad("an IPv6 address");
  }
  if (size_t colon = addr.find(':'); colon != std::string_view::npos) {
    if (is_ipv6(addr)) return {};
    // "10.0.0.1:8080" or "app:8080": the port has a key of its own.
    if (addr.find(':', colon + 1) == std::string_view::npos) return bad("an address: the port goes in the port key");
    return bad("an IPv6 address");
  }
  bool numeric = true;
  for (char c : addr)
    if (!is_digit(c) && c != '.') numeric = false;
  if (numeric) {
    if (!core::parse_ipv4(addr)) return bad("an IPv4 address (four numbers 0..255, no leading zeros)");
    return {};
  }
  if (has_upper(addr))
    return core::fail(core::Errc::config, "{} has upper-case letters; write it in lower case: {}", quote(addr),
                      quote(to_lower(addr)));
  if (addr.size() > k_max_domain)
    return bad(fmt::format("a host name: longer than {} characters ({})", k_max_domain, addr.size()));
  // One label is fine here ("db", a container name); the backend is reached, not certified.
  for (std::string_view label : split_labels(addr))
    if (auto problem = label_problem(label))
      return bad(fmt::format("an IPv4 or IPv6 address or a host name: {}", *problem));
  return {};
}

core::Result<void> validate_port(int64_t port) {
  if (port < 1 || port > k_max_port)
    return core::fail(core::Errc::config, "{} is not a port (1..{})", port, k_max_port);
  return {};
}

core::Result<void> validate_health(const HealthSpec& health) {
  auto named = [](std::string_view key, core::Result<void> checked) -> core::Result<void> {
    if (!checked) return tl::unexpected(std::move(checked).error().context(fmt::format("health {}", key)));
    return {};
  };
  TRY(named("path", check_health_path(health.path)));
  TRY(named("interval", check_interval(health.interval_ms)));
  TRY(named("timeout", check_timeout(health.timeout_ms)));
  TRY(named("timeout", check_timeout_below_interval(health.timeout_ms, health.interval_ms)));
  TRY(named("rise", check_range(health.rise, 1, k_max_rise_fall)));
  TRY(named("fall", check_range(health.fall, 1, k_max_rise_fall)));
  TRY(named("expect_status", check_range(health.expect_status, k_min_status, k_max_status)));
  return {};
}

std::string default_backend_name(std::string_view service, std::string_view addr, int port) {
  if (addr.find(':') != std::string_view::npos) return fmt::format("{}/[{}]:{}", service, addr, port);
  return fmt::format("{}/{}:{}", service, addr, port);
}

} // namespace anemone::config
