#include "anemone/config/config.hpp"
#include "anemone/core/bytes.hpp"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <unistd.h>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "anemone/core/cron.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/core/time.hpp"
#include "anemone/core/net.hpp"
#include "yaml_reader.hpp"

namespace anemone::config {

namespace {

using detail::Field;
using detail::MapReader;
using detail::quote;
using detail::Reader;

// A config file is a page of text; anything bigger is a wrong path (/dev/zero, a log file).
constexpr const char* k_config_env = "ANEMONE_CONFIG";

constexpr size_t k_max_site_name = 32;
constexpr size_t k_max_source_name = 64;
constexpr int k_max_port = 65535;
constexpr int k_max_connections = 16;

// Each level's keys; a typo anywhere is rejected with the closest known key.
constexpr std::string_view k_top_keys[] = {"server", "paths",  "state",    "backup", "sftp",
                                           "wireguard", "health", "platform", "dr"};
constexpr std::string_view k_dr_keys[] = {"keep_local", "keep_remote", "local_dir"};
constexpr int k_max_keep = 1000;
constexpr std::string_view k_platform_keys[] = {"enabled", "caddy_admin", "http_listen", "tls", "response_timeout"};
constexpr std::string_view k_health_keys[] = {"max_backup_age", "max_config_backup_age", "min_free_space"};
constexpr std::string_view k_wireguard_keys[] = {"interface", "listen_port", "subnet", "endpoint", "keepalive", "address"};
constexpr std::string_view k_sftp_keys[] = {"port", "listen", "backups_dir", "default_quota", "account_prefix"};
constexpr std::string_view k_server_keys[] = {"name"};
constexpr std::string_view k_paths_keys[] = {"secrets", "logs", "run"};
constexpr std::string_view k_state_keys[] = {"path"};
constexpr std::string_view k_backup_keys[] = {"passphrase_file", "sources",          "targets",
                                              "mode",            "debounce_seconds", "max_delay_seconds",
                                              "interval_minutes", "schedule"};
constexpr int k_max_debounce_seconds = 86400;
constexpr int k_max_delay_seconds = 7 * 86400;
constexpr int k_max_interval_minutes = 31 * 24 * 60;
constexpr std::string_view k_source_keys[] = {"name", "path", "exclude"};
constexpr std::string_view k_target_keys[] = {"name", "type",          "path",     "host",        "port",
                                              "user", "identity_file", "host_key", "connections", "retention"};
constexpr std::string_view k_sftp_only_keys[] = {"host", "port", "user", "identity_file", "host_key", "connections"};
constexpr std::string_view k_retention_keys[] = {"keep_last",   "keep_hourly",  "keep_daily",
                                                 "keep_weekly", "keep_monthly", "keep_yearly"};

// Host key algorithms as ssh-keyscan prints them; a pasted known_hosts line starts with the host.
constexpr std::string_view k_host_key_prefixes[] = {"ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-sha2-"};

bool is_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Site names travel to peers and into file names, so they keep to a small, safe alphabet.
bool is_site_name(std::string_view name) {
  if (name.empty() || name.size() > k_max_site_name || !is_lower_or_digit(name[0])) return false;
  for (char c : name)
    if (!is_lower_or_digit(c) && c != '-') return false;
  return true;
}

// Source names become one directory level on restore, so no separators and no "." or "..".
bool is_source_name(std::string_view name) {
  if (name.empty() || name.size() > k_max_source_name || name == "." || name == "..") return false;
  for (char c : name)
    if (!is_lower_or_digit(c) && !(c >= 'A' && c <= 'Z') && c != '.' && c != '_' && c != '-') return false;
  return true;
}

bool has_whitespace(std::string_view text) { return text.find_first_of(" \t\r\n") != std::string_view::npos; }

core::Result<std::string> read_site_name(const Reader& reader, const Field& field) {
  std::string name = TRY(reader.string(field));
  if (!is_site_name(name))
    return tl::unexpected(
        reader.error(field.mark(), field.path,
                     fmt::format("expected 1 to {} characters of a-z, 0-9 and '-', not starting with '-', got {}",
                                 k_max_site_name, quote(name))));
  return name;
}

core::Result<std::string> read_source_name(const Reader& reader, const Field& field) {
  std::string name = TRY(reader.string(field));
  if (!is_source_name(name))
    return tl::unexpected(reader.error(
        field.mark(), field.path,
        fmt::format("expected 1 to {} characters of A-Z, a-z, 0-9, '.', '_' and '-' (not \".\" or \"..\"), got {}",
                    k_max_source_name, quote(name))));
  return name;
}

// Tools run from any working directory under supervisord, so a relative path would be a guess.
core::Result<std::filesystem::path> read_absolute_path(const Reader& reader, const Field& field) {
  std::string text = TRY(reader.string(field));
  if (text.empty() || text[0] != '/' || text.find('\0') != std::string::npos)
    return tl::unexpected(
        reader.error(field.mark(), field.path, fmt::format("expected an absolute path, got {}", quote(text))));
  return std::filesystem::path(text);
}

core::Result<std::string> read_word(const Reader& reader, const Field& field, std::string_view what) {
  std::string text = TRY(reader.string(field));
  if (text.empty() || has_whitespace(text) || text.find('\0') != std::string::npos)
    return tl::unexpected(
        reader.error(field.mark(), field.path, fmt::format("expected {} without spaces, got {}", what, quote(text))));
  return text;
}

core::Result<std::string> read_host_key(const Reader& reader, const Field& field) {
  std::string text = TRY(reader.string(field));
  std::string_view key = text;
  bool known_type = false;
  for (std::string_view prefix : k_host_key_prefixes)
    if (key.starts_with(prefix)) known_type = true;
  size_t space = key.find(' ');
  bool has_body = space != std::string_view::npos && space + 1 < key.size() && key[space + 1] != ' ';
  if (!known_type || !has_body)
    return tl::unexpected(
        reader.error(field.mark(), field.path,
                     fmt::format("expected \"<type> <base64 key>\" as printed by ssh-keyscan, without the host "
                                 "name (e.g. \"ssh-ed25519 AAAA...\"), got {}",
                                 quote(text))));
  return text;
}

core::Result<TargetType> read_target_type(const Reader& reader, const Field& field) {
  std::string text = TRY(reader.string(field));
  if (text == "local") return TargetType::local;
  if (text == "sftp") return TargetType::sftp;
  return tl::unexpected(
      reader.error(field.mark(), field.path, fmt::format("expected local or sftp, got {}", quote(text))));
}

// Remembers the first use of each name so a repeat can say where the first one is.
class UniqueNames {
public:
  explicit UniqueNames(std::string_view kind) : m_kind(kind) {}
  core::Result<void> add(const Reader& reader, const Field& field, const std::string& name) {
    auto [it, inserted] = m_first_line.emplace(name, field.mark().line + 1);
    if (!inserted)
      return tl::unexpected(
          reader.error(field.mark(), field.path,
                       fmt::format("duplicate {} name {} (first used at line {})", m_kind, quote(name), it->second)));
    return {};
  }

private:
  std::string_view m_kind;
  std::map<std::string, int, std::less<>> m_first_line;
};

core::Result<void> parse_server(const Reader& reader, const Field& field, Config& config) {
  MapReader map = TRY(reader.map(field, k_server_keys));
  Field name = TRY(map.required("name"));
  config.server_name = TRY(read_site_name(reader, name));
  return {};
}

core::Result<void> parse_paths(const Reader& reader, const Field& field, Config& config) {
  MapReader map = TRY(reader.map(field, k_paths_keys));
  if (auto secrets = map.optional("secrets")) config.secrets_dir = TRY(read_absolute_path(reader, *secrets));
  if (auto logs = map.optional("logs")) config.logs_dir = TRY(read_absolute_path(reader, *logs));
  if (auto run = map.optional("run")) config.run_dir = TRY(read_absolute_path(reader, *run));
  return {};
}

core::Result<void> parse_state(const Reader& reader, const Field& field, Config& config) {
  MapReader map = TRY(reader.map(field, k_state_keys));
  if (auto path = map.optional("path")) config.state_path = TRY(read_absolute_path(reader, *path));
  return {};
}

core::Result<Source> parse_source(const Reader& reader, const Field& field, UniqueNames& names) {
  MapReader map = TRY(reader.map(field, k_source_keys));
  Source source;
  Field name = TRY(map.required("name"));
  source.name = TRY(read_source_name(reader, name));
  if (auto added = names.add(reader, name, source.name); !added) return tl::unexpected(added.error());
  Field path = TRY(map.required("path"));
  source.path = TRY(read_absolute_path(reader, path));
  if (auto exclude = map.optional("exclude")) {
    std::vector<Field> items = TRY(reader.list(*exclude));
    for (const Field& item : items) {
      std::string pattern = TRY(reader.string(item));
      if (pattern.empty())
        return tl::unexpected(reader.error(item.mark(), item.path, "expected a pattern, got an empty string"));
      source.exclude.push_back(std::move(pattern));
    }
  }
  return source;
}

core::Result<Retention> parse_retention(const Reader& reader, const Field& field) {
  MapReader map = TRY(reader.map(field, k_retention_keys));
  Retention retention;
  std::pair<std::string_view, int*> keeps[] = {
      {"keep_last", &retention.keep_last},       {"keep_hourly", &retention.keep_hourly},
      {"keep_daily", &retention.keep_daily},     {"keep_weekly", &retention.keep_weekly},
      {"keep_monthly", &retention.keep_monthly}, {"keep_yearly", &retention.keep_yearly},
  };
  for (auto [key, out] : keeps)
    if (auto value = map.optional(key)) *out = TRY(reader.integer(*value, 0, INT_MAX));
  return retention;
}

core::Result<Target> parse_target(const Reader& reader, const Field& field, UniqueNames& names) {
  MapReader map = TRY(reader.map(field, k_target_keys));
  Target target;
  Field name = TRY(map.required("name"));
  target.name = TRY(read_site_name(reader, name));
  if (auto added = names.add(reader, name, target.name); !added) return tl::unexpected(added.error());
  if (auto type = map.optional("type")) target.type = TRY(read_target_type(reader, *type));
  Field path = TRY(map.required("path"));

  if (target.type == TargetType::local) {
    target.path = TRY(read_absolute_path(reader, path));
    // Catches a forgotten "type: sftp", which would otherwise back up into a local "/repo".
    for (std::string_view key : k_sftp_only_keys)
      if (auto stray = map.optional(key))
        return tl::unexpected(
            reader.error(stray->key_mark, stray->path, "only valid for sftp targets (type is local)"));
  } else {
    auto required_for_sftp = [&](std::string_view key) -> core::Result<Field> {
      if (auto value = map.optional(key)) return *value;
      return tl::unexpected(
          reader.error(map.self().mark(), detail::child_path(field.path, key), "required for sftp targets"));
    };
    Field host = TRY(required_for_sftp("host"));
    target.host = TRY(read_word(reader, host, "a host name or address"));
    if (auto port = map.optional("port")) target.port = TRY(reader.integer(*port, 1, k_max_port));
    Field user = TRY(required_for_sftp("user"));
    target.user = TRY(read_word(reader, user, "a user name"));
    // The path inside the peer's SFTP jail; the peer decides what it means.
    std::string remote = TRY(reader.string(path));
    if (remote.empty())
      return tl::unexpected(reader.error(path.mark(), path.path, "expected a path, got an empty string"));
    target.path = remote;
    Field identity_file = TRY(required_for_sftp("identity_file"));
    target.identity_file = TRY(read_absolute_path(reader, identity_file));
    Field host_key = TRY(required_for_sftp("host_key"));
    target.host_key = TRY(read_host_key(reader, host_key));
    if (auto connections = map.optional("connections"))
      target.connections = TRY(reader.integer(*connections, 1, k_max_connections));
  }

  if (auto retention = map.optional("retention")) target.retention = TRY(parse_retention(reader, *retention));
  return target;
}

core::Result<BackupMode> read_mode(const Reader& reader, const Field& field) {
  std::string text = TRY(reader.string(field));
  for (BackupMode mode : {BackupMode::live, BackupMode::periodic, BackupMode::scheduled})
    if (text == mode_name(mode)) return mode;
  return tl::unexpected(
      reader.error(field.mark(), field.path, fmt::format("expected live, periodic or scheduled, got {}", quote(text))));
}

core::Result<void> parse_schedule(const Reader& reader, const MapReader& map, Schedule& schedule) {
  if (auto mode = map.optional("mode")) schedule.mode = TRY(read_mode(reader, *mode));
  if (auto debounce = map.optional("debounce_seconds"))
    schedule.debounce_seconds = TRY(reader.integer(*debounce, 1, k_max_debounce_seconds));
  auto max_delay = map.optional("max_delay_seconds");
  if (max_delay) schedule.max_delay_seconds = TRY(reader.integer(*max_delay, 1, k_max_delay_seconds));
  if (schedule.max_delay_seconds < schedule.debounce_seconds) {
    const Field& at = max_delay ? *max_delay : map.self();
    return tl::unexpected(reader.error(
        at.mark(), max_delay ? at.path : detail::child_path(at.path, "max_delay_seconds"),
        fmt::format("must be at least debounce_seconds ({}), got {}", schedule.debounce_seconds,
                    schedule.max_delay_seconds)));
  }
  if (auto interval = map.optional("interval_minutes"))
    schedule.interval_minutes = TRY(reader.integer(*interval, 1, k_max_interval_minutes));
  if (auto cron = map.optional("schedule")) {
    std::string text = TRY(reader.string(*cron));
    auto parsed = core::CronSchedule::parse(text);
    if (!parsed) return tl::unexpected(reader.error(cron->mark(), cron->path, parsed.error().message()));
    schedule.schedule = text;
  }
  return {};
}

core::Result<int64_t> read_max_age(const Reader& reader, const Field& field) {
  std::string text = TRY(reader.string(field));
  auto ms = core::parse_duration_ms(text);
  if (!ms || *ms < 60000)
    return tl::unexpected(reader.error(field.mark(), field.path,
                                       "expected a duration of at least a minute like 26h, 90m or 2d, got " + quote(text)));
  return *ms;
}

core::Result<void> parse_health(const Reader& reader, const Field& field, Config& config) {
  MapReader map = TRY(reader.map(field, k_health_keys));
  if (auto age = map.optional("max_backup_age")) config.health.max_backup_age_ms = TRY(read_max_age(reader, *age));
  if (auto age = map.optional("max_config_backup_age"))
    config.health.max_config_backup_age_ms = TRY(read_max_age(reader, *age));
  if (auto free = map.optional("min_free_space")) {
    std::string text = TRY(reader.string(*free));
    auto size = core::parse_size(text);
    if (!size) return tl::unexpected(reader.error(free->mark(), free->path, "expected a size like 1G or 500M, got " + quote(text)));
    config.health.min_free_bytes = *size;
  }
  return {};
}

core::Result<void> parse_dr(const Reader& reader, const Field& field, Config& config) {
  MapReader map = TRY(reader.map(field, k_dr_keys));
  if (auto keep = map.optional("keep_local")) config.dr.keep_local = TRY(reader.integer(*keep, 1, k_max_keep));
  if (auto keep = map.optional("keep_remote")) config.dr.keep_remote = TRY(reader.integer(*keep, 1, k_max_keep));
  if (auto dir = map.optional("local_dir")) config.dr.local_dir = TRY(read_absolute_path(reader, *dir));
  return {};
}

core::Result<void> parse_backup(const Reader& reader, const Field& field, Config& config) {
  MapReader map = TRY(reader.map(field, k_backup_keys));
  TRY(parse_schedule(reader, map, config.schedule));
  if (auto passphrase = map.optional("passphrase_file"))
    config.passphrase_file = TRY(read_absolute_path(reader, *passphrase));

  // Empty lists are fine: a receiver-only site has no sources, a fresh one no targets yet.
  if (auto sources = map.optional("sources")) {
    UniqueNames names("source");
    std::vector<Field> items = TRY(reader.list(*sources));
    for (const Field& item : items)
      config.sources.push_back(TRY(parse_source(reader, item, names)));
  }
  if (auto targets = map.optional("targets")) {
    UniqueNames names("target");
    std::vector<Field> items = TRY(reader.list(*targets));
    for (const Field& item : items)
      config.targets.push_back(TRY(parse_target(reader, item, names)));
  }
  return {};
}

core::Result<void> parse_sftp(const Reader& reader, const Field& field, Config& config) {
  MapReader map = TRY(reader.map(field, k_sftp_keys));
  if (auto port = map.optional("port")) config.sftp.port = TRY(reader.integer(*port, 1, k_max_port));
  if (auto listen = map.optional("listen")) {
    config.sftp.listen = TRY(reader.string(*listen));
    // It ends up in sshd_config: only address characters.
    for (char c : config.sftp.listen)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '-'))
        return tl::unexpected(reader.error(listen->mark(), listen->path,
                                           "expected an IP address or host name, got " + quote(config.sftp.listen)));
  }
  if (auto dir = map.optional("backups_dir")) config.sftp.backups_dir = TRY(read_absolute_path(reader, *dir));
  if (auto prefix = map.optional("account_prefix")) {
    config.sftp.account_prefix = TRY(reader.string(*prefix));
    bool ok = config.sftp.account_prefix.size() <= 8;
    for (char c : config.sftp.account_prefix)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) ok = false;
    if (!config.sftp.account_prefix.empty() && config.sftp.account_prefix[0] == '-') ok = false;
    if (!ok)
      return tl::unexpected(reader.error(prefix->mark(), prefix->path,
                                         "expected up to 8 of a-z, 0-9 and '-' (not first), got " +
                                             quote(config.sftp.account_prefix)));
  }
  if (auto quota = map.optional("default_quota")) {
    std::string text = TRY(reader.string(*quota));
    auto size = core::parse_size(text);
    if (!size || *size == 0)
      return tl::unexpected(reader.error(quota->mark(), quota->path, "expected a size like 50G or 512M, got " + quote(text)));
    config.sftp.default_quota = *size;
  }
  return {};
}

core::Result<void> parse_wireguard(const Reader& reader, const Field& field, Config& config) {
  MapReader map = TRY(reader.map(field, k_wireguard_keys));
  auto& wg = config.wireguard;
  if (auto name = map.optional("interface")) {
    wg.interface = TRY(reader.string(*name));
    // A Linux interface name: at most 15 characters, and it becomes a socket file name too.
    bool ok = !wg.interface.empty() && wg.interface.size() <= 15;
    for (char c : wg.interface)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) ok = false;
    if (!ok)
      return tl::unexpected(reader.error(name->mark(), name->path,
                                         "expected an interface name of 1 to 15 letters, digits, '-' or '_', got " +
                                             quote(wg.interface)));
  }
  if (auto port = map.optional("listen_port")) wg.listen_port = TRY(reader.integer(*port, 1, k_max_port));
  if (auto keepalive = map.optional("keepalive")) wg.keepalive = TRY(reader.integer(*keepalive, 0, 3600));
  std::optional<core::Ipv4Net> subnet;
  if (auto field_subnet = map.optional("subnet")) {
    std::string text = TRY(reader.string(*field_subnet));
    auto parsed = core::parse_ipv4_net(text);
    if (!parsed) return tl::unexpected(reader.error(field_subnet->mark(), field_subnet->path, parsed.error().message()));
    if (parsed->prefix < 8 || parsed->prefix > 30)
      return tl::unexpected(reader.error(field_subnet->mark(), field_subnet->path,
                                         "the mesh subnet needs a prefix from /8 to /30, got " + quote(text)));
    wg.subnet = parsed->str();
    subnet = *parsed;
  } else {
    subnet = *core::parse_ipv4_net(wg.subnet);
  }
  if (auto endpoint = map.optional("endpoint")) {
    std::string text = TRY(reader.string(*endpoint));
    auto parsed = core::parse_endpoint(text);
    if (!parsed) return tl::unexpected(reader.error(endpoint->mark(), endpoint->path, parsed.error().message()));
    wg.endpoint = parsed->str();
  }
  if (auto address = map.optional("address")) {
    std::string text = TRY(reader.string(*address));
    auto parsed = core::parse_ipv4(text);
    if (!parsed) return tl::unexpected(reader.error(address->mark(), address->path, "expected an IPv4 address, got " + quote(text)));
    if (!subnet->is_host(*parsed))
      return tl::unexpected(reader.error(address->mark(), address->path,
                                         fmt::format("{} is not a host address inside the subnet {}", text, wg.subnet)));
    wg.address = parsed->str();
  }
  return {};
}

core::Result<void> parse_platform_section(const Reader& reader, const Field& field, Config& config) {
  MapReader map = TRY(reader.map(field, k_platform_keys));
  Platform& platform = config.platform;
  if (auto enabled = map.optional("enabled")) {
    std::string text = TRY(reader.string(*enabled));
    if (text != "true" && text != "false")
      return tl::unexpected(reader.error(enabled->mark(), enabled->path, "expected true or false, got " + quote(text)));
    platform.enabled = text == "true";
  }
  if (auto admin = map.optional("caddy_admin")) {
    std::string text = TRY(reader.string(*admin));
    // Caddy's admin API speaks plain HTTP; it belongs on loopback (anyone who reaches it rules Caddy).
    constexpr std::string_view scheme = "http://";
    auto endpoint = text.starts_with(scheme) ? core::parse_endpoint(std::string_view(text).substr(scheme.size()))
                                             : core::fail(core::Errc::config, "no http:// scheme");
    if (!endpoint)
      return tl::unexpected(reader.error(admin->mark(), admin->path,
                                         "expected http://HOST:PORT like http://127.0.0.1:2019, got " + quote(text)));
    platform.caddy_admin = text;
  }
  if (auto listen = map.optional("http_listen")) {
    platform.http_listen.clear();
    for (const Field& item : TRY(reader.list(*listen))) {
      std::string text = TRY(reader.string(item));
      bool ok = text.starts_with(":") ? core::parse_endpoint("0.0.0.0" + text).has_value()
                                      : core::parse_endpoint(text).has_value();
      if (!ok)
        return tl::unexpected(reader.error(item.mark(), item.path,
                                           "expected :PORT or HOST:PORT like :443 or 127.0.0.1:8080, got " + quote(text)));
      platform.http_listen.push_back(text);
    }
    if (platform.http_listen.empty())
      return tl::unexpected(reader.error(listen->mark(), listen->path, "needs at least one address to listen on"));
  }
  if (auto tls = map.optional("tls")) {
    std::string text = TRY(reader.string(*tls));
    if (text != "auto" && text != "off")
      return tl::unexpected(reader.error(tls->mark(), tls->path, "expected auto or off, got " + quote(text)));
    platform.tls_auto = text == "auto";
  }
  if (auto timeout = map.optional("response_timeout")) {
    std::string text = TRY(reader.string(*timeout));
    auto ms = core::parse_duration_ms(text);
    if (!ms || *ms < 100 || *ms > 3600 * 1000)
      return tl::unexpected(reader.error(timeout->mark(), timeout->path,
                                         "expected a duration from 100ms to 1h like 60s, got " + quote(text)));
    platform.response_timeout_ms = *ms;
  }
  return {};
}

core::Result<Config> parse_document(const Reader& reader, const YAML::Node& root, const std::filesystem::path& file) {
  if (root.IsNull())
    return tl::unexpected(reader.error(root.Mark(), "", "expected a map with at least server.name, got an empty file"));
  MapReader map = TRY(reader.map(Field{root, "", root.Mark()}, k_top_keys));
  Config config;
  config.file = file;
  Field server = TRY(map.required("server"));
  // Sections fill in `config` in place; Result<void> carries only their error.
  std::optional<Field> paths = map.optional("paths");
  std::optional<Field> state = map.optional("state");
  std::optional<Field> backup = map.optional("backup");
  std::optional<Field> sftp = map.optional("sftp");
  std::optional<Field> wireguard = map.optional("wireguard");
  std::optional<Field> health = map.optional("health");
  std::optional<Field> platform = map.optional("platform");
  std::optional<Field> dr = map.optional("dr");
  core::Result<void> done = parse_server(reader, server, config);
  if (done && paths) done = parse_paths(reader, *paths, config);
  if (done && state) done = parse_state(reader, *state, config);
  if (done && backup) done = parse_backup(reader, *backup, config);
  if (done && sftp) done = parse_sftp(reader, *sftp, config);
  if (done && wireguard) done = parse_wireguard(reader, *wireguard, config);
  if (done && health) done = parse_health(reader, *health, config);
  if (done && platform) done = parse_platform_section(reader, *platform, config);
  if (done && dr) done = parse_dr(reader, *dr, config);
  if (!done) return tl::unexpected(std::move(done).error());
  return config;
}


} // namespace

std::string_view mode_name(BackupMode mode) {
  switch (mode) {
  case BackupMode::live: return "live";
  case BackupMode::periodic: return "periodic";
  case BackupMode::scheduled: return "scheduled";
  }
  return "live";
}

const Target* Config::find_target(std::string_view name) const {
  for (const Target& target : targets)
    if (target.name == name) return &target;
  return nullptr;
}

std::filesystem::path Config::config_backups_dir() const {
  return dr.local_dir ? *dr.local_dir : state_path.parent_path() / "config-backups";
}

core::Result<Config> load_config(const std::filesystem::path& file) {
  std::string text = TRY(detail::read_small_file(file, "config file"));
  return parse_config(text, file);
}

core::Result<Config> parse_config(std::string_view yaml_text, const std::filesystem::path& file_name) {
  Reader reader(file_name.string());
  // yaml-cpp reports syntax errors by throwing; they stop here and become values.
  try {
    YAML::Node root = TRY(reader.load(yaml_text));
    return parse_document(reader, root, file_name);
  } catch (const YAML::Exception& e) {
    return tl::unexpected(reader.located(e.mark, fmt::format("invalid YAML: {}", e.msg)));
  }
}

std::filesystem::path resolve_config_path(const std::string& from_command_line) {
  if (!from_command_line.empty()) return from_command_line;
  const char* from_environment = std::getenv(k_config_env);
  if (from_environment != nullptr && *from_environment != '\0') return from_environment;
  return k_default_config_path;
}

} // namespace anemone::config
