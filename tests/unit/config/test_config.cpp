#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "../scratch.hpp"
#include "anemone/config/config.hpp"

namespace anemone::config {
namespace {

// The message of the error that parsing `yaml` (named "config.yaml") must produce.
std::string error_of(std::string_view yaml) {
  core::Result<Config> result = parse_config(yaml, "config.yaml");
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code() == core::Errc::config);
  return result.error().message();
}

Config parsed(std::string_view yaml) {
  core::Result<Config> result = parse_config(yaml, "config.yaml");
  if (!result) FAIL(result.error().message());
  return *result;
}

void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// Sets or clears an environment variable for one test and puts the old value back afterwards.
class ScopedEnv {
public:
  ScopedEnv(const char* name, const char* value) : m_name(name) {
    if (const char* old = std::getenv(name)) m_old = old;
    if (value != nullptr)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (m_old)
      ::setenv(m_name, m_old->c_str(), 1);
    else
      ::unsetenv(m_name);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
  const char* m_name;
  std::optional<std::string> m_old;
};

constexpr std::string_view k_full_config = R"(server:
  name: site-a
paths:
  secrets: /etc/anemone/secrets
  logs: /var/log/anemone
state:
  path: /var/lib/anemone/state.db
backup:
  passphrase_file: /etc/anemone/secrets/repository.pass
  sources:
    - name: data
      path: /backup
      exclude: ["*.tmp", ".cache/"]
    - name: Photos_2024.raw
      path: /srv/photos
  targets:
    - name: local
      type: local
      path: /srv/anemone/repo
      retention: {keep_last: 3, keep_daily: 7, keep_weekly: 4, keep_monthly: 6}
    - name: site-b
      type: sftp
      host: 10.8.0.2
      port: 22222
      user: site-a
      path: /repo
      identity_file: /config/ssh/id_ed25519
      host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ"
      connections: 4
      retention:
        keep_hourly: 24
        keep_yearly: 2
)";

// Only the sftp target, so tests can vary one key of it.
std::string sftp_config(std::string_view extra_lines) {
  return std::string(R"(server:
  name: site-a
backup:
  targets:
    - name: site-b
      type: sftp
      path: /repo
)") + std::string(extra_lines);
}

constexpr std::string_view k_sftp_keys = R"(      host: 10.8.0.2
      user: site-a
      identity_file: /config/ssh/id_ed25519
      host_key: "ssh-ed25519 AAAA"
)";

} // namespace

TEST_CASE("a full config parses with every field", "[config]") {
  Config config = parsed(k_full_config);
  CHECK(config.file == "config.yaml");
  CHECK(config.server_name == "site-a");
  CHECK(config.secrets_dir == "/etc/anemone/secrets");
  CHECK(config.logs_dir == "/var/log/anemone");
  CHECK(config.state_path == "/var/lib/anemone/state.db");
  REQUIRE(config.passphrase_file.has_value());
  CHECK(*config.passphrase_file == "/etc/anemone/secrets/repository.pass");

  REQUIRE(config.sources.size() == 2);
  CHECK(config.sources[0].name == "data");
  CHECK(config.sources[0].path == "/backup");
  CHECK(config.sources[0].exclude == std::vector<std::string>{"*.tmp", ".cache/"});
  CHECK(config.sources[1].name == "Photos_2024.raw");
  CHECK(config.sources[1].path == "/srv/photos");
  CHECK(config.sources[1].exclude.empty());

  REQUIRE(config.targets.size() == 2);
  const Target& local = config.targets[0];
  CHECK(local.name == "local");
  CHECK(local.type == TargetType::local);
  CHECK(local.path == "/srv/anemone/repo");
  CHECK(local.retention.keep_last == 3);
  CHECK(local.retention.keep_hourly == 0);
  CHECK(local.retention.keep_daily == 7);
  CHECK(local.retention.keep_weekly == 4);
  CHECK(local.retention.keep_monthly == 6);
  CHECK(local.retention.keep_yearly == 0);

  const Target& sftp = config.targets[1];
  CHECK(sftp.name == "site-b");
  CHECK(sftp.type == TargetType::sftp);
  CHECK(sftp.host == "10.8.0.2");
  CHECK(sftp.port == 22222);
  CHECK(sftp.user == "site-a");
  CHECK(sftp.path == "/repo");
  CHECK(sftp.identity_file == "/config/ssh/id_ed25519");
  CHECK(sftp.host_key == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ");
  CHECK(sftp.connections == 4);
  CHECK(sftp.retention.keep_hourly == 24);
  CHECK(sftp.retention.keep_yearly == 2);
  CHECK(sftp.retention.keep_last == 0);
}

TEST_CASE("omitted settings take the defaults of the model", "[config]") {
  Config config = parsed("server:\n  name: site-a\n");
  CHECK(config.server_name == "site-a");
  CHECK(config.secrets_dir == "/config/secrets");
  CHECK(config.logs_dir == "/logs");
  CHECK(config.state_path == "/config/state/anemone.db");
  CHECK_FALSE(config.passphrase_file.has_value());
  CHECK(config.sources.empty());
  CHECK(config.targets.empty());

  Config with_targets = parsed(R"(server:
  name: site-a
backup:
  targets:
    - name: local
      path: /srv/anemone/repo
    - name: site-b
      type: sftp
      path: /repo
      host: 10.8.0.2
      user: site-a
      identity_file: /config/ssh/id_ed25519
      host_key: "ssh-ed25519 AAAA"
)");
  REQUIRE(with_targets.targets.size() == 2);
  CHECK(with_targets.targets[0].type == TargetType::local);
  CHECK(with_targets.targets[0].retention.empty());
  CHECK(with_targets.targets[1].port == 22);
  CHECK(with_targets.targets[1].connections == 2);
  CHECK(with_targets.targets[1].retention.empty());
}

TEST_CASE("empty values of optional keys mean the default", "[config]") {
  Config config = parsed(R"(server:
  name: site-a
paths:
  logs:
state: ~
backup:
  passphrase_file:
  sources:
  targets: []
)");
  CHECK(config.logs_dir == "/logs");
  CHECK(config.state_path == "/config/state/anemone.db");
  CHECK_FALSE(config.passphrase_file.has_value());
  CHECK(config.sources.empty());
  CHECK(config.targets.empty());
}

TEST_CASE("a receiver-only site with empty sources and targets loads", "[config]") {
  Config config = parsed(R"(server:
  name: site-b
backup:
  sources: []
  targets: []
)");
  CHECK(config.sources.empty());
  CHECK(config.targets.empty());
}

TEST_CASE("dr: defaults beside the state file, every key, bad values named", "[config]") {
  Config defaults = parsed("server:\n  name: site-a\nstate: {path: /srv/state/anemone.db}\n");
  CHECK(defaults.dr.keep_local == 7);
  CHECK(defaults.dr.keep_remote == 14);
  CHECK(defaults.config_backups_dir() == "/srv/state/config-backups");
  Config set = parsed("server:\n  name: site-a\ndr: {keep_local: 3, keep_remote: 30, local_dir: /var/dr}\n");
  CHECK(set.dr.keep_local == 3);
  CHECK(set.dr.keep_remote == 30);
  CHECK(set.config_backups_dir() == "/var/dr");
  CHECK(error_of("server:\n  name: a\ndr:\n  keep_local: 0\n").starts_with("config.yaml:4:15: dr.keep_local: "));
  CHECK(error_of("server:\n  name: a\ndr:\n  keep_remot: 3\n") ==
        "config.yaml:4:3: dr.keep_remot: unknown key (did you mean keep_remote?)");
  CHECK(error_of("server:\n  name: a\ndr:\n  local_dir: backups\n").starts_with("config.yaml:4:14: dr.local_dir: "));
}

TEST_CASE("platform: defaults, every key, and bad values named", "[config]") {
  Config defaults = parsed("server:\n  name: site-a\nplatform: {}\n");
  CHECK_FALSE(defaults.platform.enabled);
  CHECK(defaults.platform.caddy_admin == "http://127.0.0.1:2019");
  CHECK(defaults.platform.http_listen == std::vector<std::string>{":80", ":443"});
  CHECK(defaults.platform.tls_auto);

  Config set = parsed(R"(server:
  name: site-a
platform:
  enabled: true
  caddy_admin: http://127.0.0.1:3019
  http_listen: ["127.0.0.1:8080"]
  tls: off
  response_timeout: 3s
)");
  CHECK(set.platform.response_timeout_ms == 3000);
  CHECK(set.platform.enabled);
  CHECK(set.platform.caddy_admin == "http://127.0.0.1:3019");
  CHECK(set.platform.http_listen == std::vector<std::string>{"127.0.0.1:8080"});
  CHECK_FALSE(set.platform.tls_auto);

  CHECK(error_of("server:\n  name: a\nplatform:\n  enabled: yes please\n") ==
        "config.yaml:4:12: platform.enabled: expected true or false, got \"yes please\"");
  CHECK(error_of("server:\n  name: a\nplatform:\n  caddy_admin: 127.0.0.1:2019\n") ==
        "config.yaml:4:16: platform.caddy_admin: expected http://HOST:PORT like http://127.0.0.1:2019, got "
        "\"127.0.0.1:2019\"");
  CHECK(error_of("server:\n  name: a\nplatform:\n  http_listen: [\":99999\"]\n") ==
        "config.yaml:4:17: platform.http_listen[0]: expected :PORT or HOST:PORT like :443 or 127.0.0.1:8080, got "
        "\":99999\"");
  CHECK(error_of("server:\n  name: a\nplatform:\n  tls: on\n") ==
        "config.yaml:4:8: platform.tls: expected auto or off, got \"on\"");
  CHECK(error_of("server:\n  name: a\nplatform:\n  enabeld: true\n").find("did you mean enabled?") !=
        std::string::npos);
}

TEST_CASE("backup modes: defaults, each mode's keys, and bad values named", "[config]") {
  Config defaults = parsed("server:\n  name: site-a\n");
  CHECK(defaults.schedule.mode == BackupMode::live);
  CHECK(defaults.schedule.debounce_seconds == 30);
  CHECK(defaults.schedule.max_delay_seconds == 300);
  CHECK(defaults.schedule.interval_minutes == 60);
  CHECK(defaults.schedule.schedule == "0 3 * * *");
  CHECK(defaults.run_dir == "/run/anemone");

  Config set = parsed(R"(server:
  name: site-a
paths: {run: /tmp/anemone-run}
backup:
  mode: scheduled
  debounce_seconds: 5
  max_delay_seconds: 60
  interval_minutes: 15
  schedule: "30 2 * * mon-fri"
)");
  CHECK(set.schedule.mode == BackupMode::scheduled);
  CHECK(set.schedule.debounce_seconds == 5);
  CHECK(set.schedule.max_delay_seconds == 60);
  CHECK(set.schedule.interval_minutes == 15);
  CHECK(set.schedule.schedule == "30 2 * * mon-fri");
  CHECK(set.run_dir == "/tmp/anemone-run");
  CHECK(parsed("server:\n  name: a\nbackup:\n  mode: periodic\n").schedule.mode == BackupMode::periodic);

  CHECK(error_of("server:\n  name: a\nbackup:\n  mode: watch\n") ==
        "config.yaml:4:9: backup.mode: expected live, periodic or scheduled, got \"watch\"");
  CHECK(error_of("server:\n  name: a\nbackup:\n  schedule: \"0 25 * * *\"\n") ==
        "config.yaml:4:13: backup.schedule: hour: 25 is outside 0-23");
  CHECK(error_of("server:\n  name: a\nbackup:\n  schedule: daily\n").find(
            "backup.schedule: expected five fields") != std::string::npos);
  CHECK(error_of("server:\n  name: a\nbackup:\n  debounce_seconds: 0\n").find("backup.debounce_seconds") !=
        std::string::npos);
  CHECK(error_of("server:\n  name: a\nbackup:\n  debounce_seconds: 60\n  max_delay_seconds: 30\n") ==
        "config.yaml:5:22: backup.max_delay_seconds: must be at least debounce_seconds (60), got 30");
  // The default max_delay (300) is checked too against a longer debounce.
  CHECK(error_of("server:\n  name: a\nbackup:\n  debounce_seconds: 600\n").find(
            "backup.max_delay_seconds: must be at least debounce_seconds (600), got 300") != std::string::npos);
  CHECK(error_of("server:\n  name: a\nbackup:\n  interval_minutes: 0\n").find("backup.interval_minutes") !=
        std::string::npos);
  CHECK(error_of("server:\n  name: a\nbackup:\n  moed: live\n") ==
        "config.yaml:4:3: backup.moed: unknown key (did you mean mode?)");
}

TEST_CASE("health thresholds: defaults, durations and sizes", "[config]") {
  Config defaults = parsed("server:\n  name: site-a\n");
  CHECK(defaults.health.max_backup_age_ms == 26ll * 3600 * 1000);
  CHECK(defaults.health.max_config_backup_age_ms == 50ll * 3600 * 1000);
  CHECK(defaults.health.min_free_bytes == (1ull << 30));
  Config set = parsed(
      "server:\n  name: a\nhealth:\n  max_backup_age: 1h30m\n  max_config_backup_age: 3d\n  min_free_space: 500M\n");
  CHECK(set.health.max_backup_age_ms == 90ll * 60 * 1000);
  CHECK(set.health.max_config_backup_age_ms == 72ll * 3600 * 1000);
  CHECK(error_of("server:\n  name: a\nhealth:\n  max_config_backup_age: 30s\n") ==
        "config.yaml:4:26: health.max_config_backup_age: expected a duration of at least a minute like 26h, 90m or 2d, "
        "got \"30s\"");
  CHECK(set.health.min_free_bytes == (500ull << 20));
  CHECK(error_of("server:\n  name: a\nhealth:\n  max_backup_age: 26\n") ==
        "config.yaml:4:19: health.max_backup_age: expected a duration of at least a minute like 26h, 90m or 2d, "
        "got \"26\"");
  CHECK(error_of("server:\n  name: a\nhealth:\n  min_free_space: plenty\n") ==
        "config.yaml:4:19: health.min_free_space: expected a size like 1G or 500M, got \"plenty\"");
  CHECK(error_of("server:\n  name: a\nhealth: [1, 2]\n").find("health") != std::string::npos);
}

TEST_CASE("the sftp receiver section has defaults and validates its values", "[config]") {
  config::Config defaults = parsed("server:\n  name: site-a\n");
  CHECK(defaults.sftp.port == 22222);
  CHECK(defaults.sftp.listen == "0.0.0.0");
  CHECK(defaults.sftp.backups_dir == "/backups");
  CHECK(defaults.sftp.default_quota == (50ull << 30));
  config::Config set = parsed("server:\n  name: site-a\nsftp:\n  port: 2222\n  listen: 127.0.0.1\n"
                      "  backups_dir: /srv/backups\n  default_quota: 512M\n");
  CHECK(set.sftp.port == 2222);
  CHECK(set.sftp.listen == "127.0.0.1");
  CHECK(set.sftp.backups_dir == "/srv/backups");
  CHECK(set.sftp.default_quota == (512ull << 20));
  CHECK(error_of("server:\n  name: a\nsftp:\n  default_quota: lots\n") ==
        "config.yaml:4:18: sftp.default_quota: expected a size like 50G or 512M, got \"lots\"");
  CHECK(error_of("server:\n  name: a\nsftp:\n  listen: \"0.0.0.0\\nPermitRootLogin yes\"\n") ==
        "config.yaml:4:11: sftp.listen: expected an IP address or host name, got \"0.0.0.0\\x0aPermitRootLogin yes\"");
  CHECK(error_of("server:\n  name: a\nsftp:\n  prot: 1\n") == "config.yaml:4:3: sftp.prot: unknown key (did you mean port?)");
}

TEST_CASE("find_target finds a target by name and returns nullptr otherwise", "[config]") {
  Config config = parsed(k_full_config);
  const Target* target = config.find_target("site-b");
  REQUIRE(target != nullptr);
  CHECK(target->host == "10.8.0.2");
  CHECK(config.find_target("local") == &config.targets[0]);
  CHECK(config.find_target("site-c") == nullptr);
  CHECK(config.find_target("") == nullptr);
}

TEST_CASE("an unknown key suggests the closest known key", "[config]") {
  CHECK(error_of(R"(server:
  name: site-a
backup:
  targets:
    - name: local
      path: /srv/anemone/repo
    - name: local2
      path: /srv/anemone/repo2
      retention:
        keep_last: 3
        keep_lst: 4
)") == "config.yaml:11:9: backup.targets[1].retention.keep_lst: unknown key (did you mean keep_last?)");

  // Inside a flow map the column is the key's own.
  CHECK(error_of(R"(server:
  name: site-a
backup:
  targets:
    - name: local
      path: /srv/anemone/repo
      retention: {keep_last: 3, keep_daly: 7}
)") == "config.yaml:7:33: backup.targets[0].retention.keep_daly: unknown key (did you mean keep_daily?)");

  CHECK(error_of("server:\n  nam: site-a\n") == "config.yaml:2:3: server.nam: unknown key (did you mean name?)");
  CHECK(error_of("servr:\n  name: site-a\n") == "config.yaml:1:1: servr: unknown key (did you mean server?)");
}

TEST_CASE("did you mean catches swapped letters and reserved keys", "[config]") {
  CHECK(error_of(sftp_config("      hsot: 10.8.0.2\n")) ==
        "config.yaml:8:7: backup.targets[0].hsot: unknown key (did you mean host?)");
  CHECK(error_of("server:\n  name: a\nwireguad: {}\n") ==
        "config.yaml:3:1: wireguad: unknown key (did you mean wireguard?)");
}

TEST_CASE("an unknown key with no close match lists the known keys", "[config]") {
  CHECK(error_of(R"(server:
  name: site-a
backup:
  sources:
    - name: data
      path: /backup
      compression: max
)") == "config.yaml:7:7: backup.sources[0].compression: unknown key (expected one of: name, path, exclude)");
  CHECK(error_of("server:\n  name: a\nr: 1\n") ==
        "config.yaml:3:1: r: unknown key (expected one of: server, paths, state, backup, sftp, wireguard, health, platform, dr)");
  CHECK(error_of("server:\n  name: a\n  ? [x, y]\n  : 1\n") ==
        "config.yaml:3:5: server: expected a key name, got a list");
}

TEST_CASE("a map where a string is expected names the key and what was expected", "[config]") {
  CHECK(error_of("server:\n  name: {first: a}\n") == "config.yaml:2:9: server.name: expected a string, got a map");
  CHECK(error_of("server:\n  name: [a, b]\n") == "config.yaml:2:9: server.name: expected a string, got a list");
  CHECK(error_of("server: site-a\n") == "config.yaml:1:9: server: expected a map, got \"site-a\"");
  CHECK(error_of("server:\n  name: a\nbackup:\n  sources: /backup\n") ==
        "config.yaml:4:12: backup.sources: expected a list, got \"/backup\"");
  CHECK(
      error_of("server:\n  name: a\nbackup:\n  sources:\n    - name: d\n      path: /d\n      exclude: \"*.tmp\"\n") ==
      "config.yaml:7:16: backup.sources[0].exclude: expected a list, got \"*.tmp\"");
  CHECK(error_of(
            "server:\n  name: a\nbackup:\n  sources:\n    - name: d\n      path: /d\n      exclude: [a, {b: c}]\n") ==
        "config.yaml:7:20: backup.sources[0].exclude[1]: expected a string, got a map");
  CHECK(error_of("server:\n  name: a\nbackup:\n  sources:\n    - data\n") ==
        "config.yaml:5:7: backup.sources[0]: expected a map, got \"data\"");
}

TEST_CASE("integers out of range or not integers quote the value", "[config]") {
  CHECK(error_of(sftp_config(std::string(k_sftp_keys) + "      port: abc\n")) ==
        "config.yaml:12:13: backup.targets[0].port: expected an integer from 1 to 65535, got \"abc\"");
  CHECK(error_of(sftp_config(std::string(k_sftp_keys) + "      port: 65536\n")) ==
        "config.yaml:12:13: backup.targets[0].port: expected an integer from 1 to 65535, got \"65536\"");
  CHECK(error_of(sftp_config(std::string(k_sftp_keys) + "      port: 22.5\n")) ==
        "config.yaml:12:13: backup.targets[0].port: expected an integer from 1 to 65535, got \"22.5\"");
  CHECK(error_of(sftp_config(std::string(k_sftp_keys) + "      connections: 17\n")) ==
        "config.yaml:12:20: backup.targets[0].connections: expected an integer from 1 to 16, got \"17\"");
  CHECK(error_of(sftp_config(std::string(k_sftp_keys) + "      connections: 99999999999999999999\n")) ==
        "config.yaml:12:20: backup.targets[0].connections: expected an integer from 1 to 16, got "
        "\"99999999999999999999\"");
}

TEST_CASE("a negative retention count is rejected", "[config]") {
  CHECK(error_of(R"(server:
  name: site-a
backup:
  targets:
    - name: local
      path: /srv/anemone/repo
      retention:
        keep_daily: -1
)") == "config.yaml:8:21: backup.targets[0].retention.keep_daily: expected a non-negative integer, got \"-1\"");
  CHECK(error_of(R"(server:
  name: site-a
backup:
  targets:
    - name: local
      path: /srv/anemone/repo
      retention: {keep_last: many}
)") == "config.yaml:7:30: backup.targets[0].retention.keep_last: expected a non-negative integer, got \"many\"");
  CHECK(error_of(R"(server:
  name: site-a
backup:
  targets:
    - name: local
      path: /srv/anemone/repo
      retention: 7
)") == "config.yaml:7:18: backup.targets[0].retention: expected a map, got \"7\"");
}

TEST_CASE("a missing required key names its path and the position of its parent map", "[config]") {
  CHECK(error_of("paths:\n  logs: /logs\n") == "config.yaml:1:1: server: required key is missing");
  CHECK(error_of("state:\n  path: /s.db\nserver:\n  other: 1\n") ==
        "config.yaml:4:3: server.other: unknown key (expected one of: name)");
  CHECK(error_of("server: {}\n") == "config.yaml:1:9: server.name: required key is missing");
  CHECK(error_of(R"(server:
  name: site-a
backup:
  sources:
    - name: data
      path: /backup
    - name: photos
      exclude: ["*.tmp"]
)") == "config.yaml:7:7: backup.sources[1].path: required key is missing");
  CHECK(error_of(R"(server:
  name: site-a
backup:
  targets:
    - path: /srv/anemone/repo
)") == "config.yaml:5:7: backup.targets[0].name: required key is missing");
}

TEST_CASE("an empty value for a required key points at the key", "[config]") {
  CHECK(error_of("server:\n  name:\n") == "config.yaml:2:3: server.name: required value is empty");
  CHECK(error_of("server:\n  name: a\nbackup:\n  sources:\n    - name: data\n      path:\n") ==
        "config.yaml:6:7: backup.sources[0].path: required value is empty");
}

TEST_CASE("an sftp target needs host, user, identity_file and host_key", "[config]") {
  CHECK(error_of(sftp_config("      user: site-a\n")) ==
        "config.yaml:5:7: backup.targets[0].host: required for sftp targets");
  CHECK(error_of(sftp_config("      host: 10.8.0.2\n")) ==
        "config.yaml:5:7: backup.targets[0].user: required for sftp targets");
  CHECK(error_of(sftp_config("      host: 10.8.0.2\n      user: site-a\n")) ==
        "config.yaml:5:7: backup.targets[0].identity_file: required for sftp targets");
  CHECK(error_of(sftp_config("      host: 10.8.0.2\n      user: site-a\n      identity_file: /k\n")) ==
        "config.yaml:5:7: backup.targets[0].host_key: required for sftp targets");
}

TEST_CASE("an sftp host key must be the key alone, not a known_hosts line", "[config]") {
  CHECK(error_of(sftp_config("      host: 10.8.0.2\n      user: site-a\n      identity_file: /k\n"
                             "      host_key: \"10.8.0.2 ssh-ed25519 AAAA\"\n")) ==
        "config.yaml:11:17: backup.targets[0].host_key: expected \"<type> <base64 key>\" as printed by "
        "ssh-keyscan, without the host name (e.g. \"ssh-ed25519 AAAA...\"), got \"10.8.0.2 ssh-ed25519 AAAA\"");
}

TEST_CASE("sftp-only keys on a local target are rejected", "[config]") {
  CHECK(error_of(R"(server:
  name: site-a
backup:
  targets:
    - name: site-b
      path: /repo
      host: 10.8.0.2
)") == "config.yaml:7:7: backup.targets[0].host: only valid for sftp targets (type is local)");
}

TEST_CASE("an unknown target type is rejected with the value quoted", "[config]") {
  CHECK(error_of(R"(server:
  name: site-a
backup:
  targets:
    - name: cloud
      type: s3
      path: /bucket
)") == "config.yaml:6:13: backup.targets[0].type: expected local or sftp, got \"s3\"");
}

TEST_CASE("duplicate source and target names are rejected", "[config]") {
  CHECK(error_of(R"(server:
  name: site-a
backup:
  sources:
    - name: data
      path: /backup
    - name: data
      path: /other
)") == "config.yaml:7:13: backup.sources[1].name: duplicate source name \"data\" (first used at line 5)");
  CHECK(error_of(R"(server:
  name: site-a
backup:
  targets:
    - {name: local, path: /srv/a}
    - {name: local, path: /srv/b}
)") == "config.yaml:6:14: backup.targets[1].name: duplicate target name \"local\" (first used at line 5)");
}

TEST_CASE("a key repeated in one map is rejected", "[config]") {
  CHECK(error_of("server:\n  name: site-a\n  name: site-b\n") ==
        "config.yaml:3:3: server.name: duplicate key (first at line 2)");
}

TEST_CASE("names outside their alphabet are rejected", "[config]") {
  CHECK(error_of("server:\n  name: Site_A\n") ==
        "config.yaml:2:9: server.name: expected 1 to 32 characters of a-z, 0-9 and '-', not starting with '-', "
        "got \"Site_A\"");
  CHECK(error_of("server:\n  name: -site\n") ==
        "config.yaml:2:9: server.name: expected 1 to 32 characters of a-z, 0-9 and '-', not starting with '-', "
        "got \"-site\"");
  CHECK(error_of("server:\n  name: a23456789012345678901234567890123\n") ==
        "config.yaml:2:9: server.name: expected 1 to 32 characters of a-z, 0-9 and '-', not starting with '-', "
        "got \"a23456789012345678901234567890123\"");
  const std::string source_rule =
      "expected 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-' (not \".\" or \"..\"), got ";
  CHECK(error_of("server:\n  name: a\nbackup:\n  sources:\n    - name: \"..\"\n      path: /x\n") ==
        "config.yaml:5:13: backup.sources[0].name: " + source_rule + "\"..\"");
  CHECK(error_of("server:\n  name: a\nbackup:\n  sources:\n    - name: a/b\n      path: /x\n") ==
        "config.yaml:5:13: backup.sources[0].name: " + source_rule + "\"a/b\"");
}

TEST_CASE("relative paths are rejected", "[config]") {
  CHECK(error_of("server:\n  name: a\nbackup:\n  sources:\n    - name: data\n      path: backup\n") ==
        "config.yaml:6:13: backup.sources[0].path: expected an absolute path, got \"backup\"");
  CHECK(error_of("server:\n  name: a\nstate:\n  path: state.db\n") ==
        "config.yaml:4:9: state.path: expected an absolute path, got \"state.db\"");
  CHECK(error_of("server:\n  name: a\nbackup:\n  targets:\n    - name: local\n      path: \"\"\n") ==
        "config.yaml:6:13: backup.targets[0].path: expected an absolute path, got \"\"");
}

TEST_CASE("a YAML syntax error reports its position", "[config]") {
  CHECK(error_of("server:\n  name: [site-a\npaths: {}\n") ==
        "config.yaml:3:6: invalid YAML: end of sequence flow not found");
  CHECK(error_of("server:\n  name: a\n bad: b\n") == "config.yaml:3:2: invalid YAML: end of map not found");
  CHECK(error_of("server:\n  name: a: b\n") == "config.yaml:2:10: invalid YAML: illegal map value");
  CHECK(error_of("server:\n  name: \"a\\q\"\n") == "config.yaml:2:13: invalid YAML: unknown escape character: q");
}

TEST_CASE("an empty file, a list and a second document are rejected", "[config]") {
  CHECK(error_of("") == "config.yaml:1:1: (top level): expected a map with at least server.name, got an empty file");
  CHECK(error_of("# nothing yet\n") ==
        "config.yaml:1:1: (top level): expected a map with at least server.name, got an empty file");
  CHECK(error_of("- server\n") == "config.yaml:1:1: (top level): expected a map, got a list");
  CHECK(error_of("server:\n  name: a\n---\nserver:\n  name: b\n") ==
        "config.yaml:4:1: expected one YAML document, found a second one");
  // Stray separators add no content.
  CHECK(parsed("---\nserver:\n  name: a\n---\n").server_name == "a");
  CHECK(parsed("---\n...\n---\nserver:\n  name: a\n...\n---\n---\n").server_name == "a");
}

TEST_CASE("a stray comma at the start of a document is an error, not a hang", "[config]") {
  // yaml-cpp 0.7's LoadAll loops forever on this input (jbeder/yaml-cpp#1040).
  CHECK(error_of(",\n") == "config.yaml:1:1: invalid YAML: unexpected \",\"");
  CHECK(error_of("# settings\n,# oops\nserver:\n  name: a\n") == "config.yaml:2:1: invalid YAML: unexpected \",\"");
  CHECK(error_of("server:\n  name: a\n---\n,\n") == "config.yaml:4:1: invalid YAML: unexpected \",\"");
}

TEST_CASE("load_config reads a file and names it as given in errors", "[config]") {
  test::ScratchDir scratch;
  std::filesystem::path good = scratch / "good.yaml";
  write_text(good, k_full_config);
  core::Result<Config> config = load_config(good);
  REQUIRE(config.has_value());
  CHECK(config->file == good);
  CHECK(config->targets.size() == 2);

  std::filesystem::path bad = scratch / "bad.yaml";
  write_text(bad, "server:\n  name: a\n  nmae: b\n");
  core::Result<Config> failed = load_config(bad);
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().code() == core::Errc::config);
  CHECK(failed.error().message() == bad.string() + ":3:3: server.nmae: unknown key (did you mean name?)");
}

TEST_CASE("load_config of a missing or unreadable file names the path and the reason", "[config]") {
  test::ScratchDir scratch;
  std::filesystem::path missing = scratch / "missing.yaml";
  core::Result<Config> config = load_config(missing);
  REQUIRE_FALSE(config.has_value());
  CHECK(config.error().code() == core::Errc::config);
  CHECK(config.error().message() == "cannot read config file " + missing.string() + ": No such file or directory");

  core::Result<Config> directory = load_config(scratch.path());
  REQUIRE_FALSE(directory.has_value());
  CHECK(directory.error().code() == core::Errc::config);
  CHECK(directory.error().message() == "cannot read config file " + scratch.path().string() + ": Is a directory");
}

TEST_CASE("resolve_config_path prefers the command line, then ANEMONE_CONFIG, then the default", "[config]") {
  {
    ScopedEnv env("ANEMONE_CONFIG", "/from/env.yaml");
    CHECK(resolve_config_path("/from/cli.yaml") == "/from/cli.yaml");
    CHECK(resolve_config_path("") == "/from/env.yaml");
  }
  {
    ScopedEnv env("ANEMONE_CONFIG", "");
    CHECK(resolve_config_path("") == k_default_config_path);
  }
  {
    ScopedEnv env("ANEMONE_CONFIG", nullptr);
    CHECK(resolve_config_path("") == "/config/config.yaml");
    CHECK(resolve_config_path("relative.yaml") == "relative.yaml");
  }
}

#ifdef ANEMONE_SOURCE_DIR
TEST_CASE("the example config/config.yaml loads with production defaults", "[config]") {
  core::Result<Config> config = load_config(std::filesystem::path(ANEMONE_SOURCE_DIR) / "config" / "config.yaml");
  if (!config) FAIL(config.error().message());
  CHECK(config->server_name == "site-a");
  REQUIRE(config->sources.size() == 1);
  CHECK(config->sources[0].path == "/backup");
  const Target* local = config->find_target("local");
  REQUIRE(local != nullptr);
  CHECK(local->type == TargetType::local);
  CHECK(local->path == "/srv/anemone/repo");
  CHECK_FALSE(local->retention.empty());
  CHECK(config->schedule.mode == BackupMode::live);
  CHECK(config->health.max_backup_age_ms == 26ll * 3600 * 1000);
  CHECK(config->sftp.port == 22222);
}
#endif

TEST_CASE("the wireguard section has defaults and validates every value", "[config]") {
  Config defaults = parsed("server:\n  name: a\n");
  CHECK(defaults.wireguard.interface == "wg0");
  CHECK(defaults.wireguard.subnet == "10.8.0.0/16");
  CHECK(defaults.wireguard.listen_port == 51820);
  CHECK_FALSE(defaults.wireguard.endpoint);
  Config set = parsed("server:\n  name: a\nwireguard:\n  interface: wg-a\n  subnet: 198.18.0.0/15\n"
                      "  endpoint: \"192.0.2.1:51820\"\n  address: 198.19.0.7\n  keepalive: 0\n");
  CHECK(set.wireguard.interface == "wg-a");
  CHECK(set.wireguard.address == std::optional<std::string>("198.19.0.7"));
  CHECK(set.wireguard.endpoint == std::optional<std::string>("192.0.2.1:51820"));
  CHECK(error_of("server:\n  name: a\nwireguard:\n  interface: \"wg0; reboot\"\n") ==
        "config.yaml:4:14: wireguard.interface: expected an interface name of 1 to 15 letters, digits, '-' or '_', "
        "got \"wg0; reboot\"");
  CHECK(error_of("server:\n  name: a\nwireguard:\n  subnet: 10.8.0.1/16\n").find(
            "wireguard.subnet: '10.8.0.1/16' is not a CIDR block: host bits are set (did you mean 10.8.0.0/16?)") !=
        std::string::npos);
  CHECK(error_of("server:\n  name: a\nwireguard:\n  subnet: 10.8.0.0/16\n  address: 10.9.0.1\n") ==
        "config.yaml:5:12: wireguard.address: 10.9.0.1 is not a host address inside the subnet 10.8.0.0/16");
  CHECK(error_of("server:\n  name: a\nwireguard:\n  endpoint: example.org\n").find("the port is missing") !=
        std::string::npos);
}

} // namespace anemone::config
