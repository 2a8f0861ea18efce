#pragma once
// The verdicts of `health-checker self`: facts gathered by the probes (probes.hpp) become one Check
// each. Everything here is pure, so the verdicts are tested without a WireGuard interface, an sshd
// or a supervisord.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anemone::health {

struct Check {
  // "wireguard", "sshd", "supervisord", "backup:<target>", "config-backup:<destination>", "space:<path>"
  std::string name;
  bool ok = false;
  std::string detail;
};

// "3h12m", "45m", "20s": an age rounded to what a person reads (minutes from one minute on).
std::string format_age(int64_t ms);

// wireguard: the interface exists and is up.
inline constexpr uint32_t k_iff_up = 0x1;
struct InterfaceFacts {
  std::string name;
  bool exists = false;
  std::optional<uint32_t> flags; // /sys/class/net/<if>/flags
  std::string error;             // why the flags could not be read
};
// "0x1091\n" -> 0x1091; nullopt for anything else.
std::optional<uint32_t> parse_interface_flags(std::string_view text);
Check evaluate_interface(const InterfaceFacts& facts);

// sshd: something accepts a TCP connection and sends an SSH-2.0 banner.
struct SshFacts {
  std::string address;               // "127.0.0.1:22222", "[::1]:22222"
  bool connected = false;
  std::optional<std::string> banner; // the first line received, without CR LF
  std::string error;                 // why no connection or no banner
};
// The address to probe for an sshd listening on `listen`: the wildcards become loopback.
std::string probe_host_for(std::string_view listen);
// "SSH-2.0-OpenSSH_9.2p1\r\n" -> "SSH-2.0-OpenSSH_9.2p1"; bytes a terminal would interpret become '?'.
std::string clean_banner(std::string_view line);
Check evaluate_sshd(const SshFacts& facts);

// supervisord: at least one program, and every program RUNNING.
struct ProgramStatus {
  std::string name;
  std::string state; // RUNNING, STARTING, BACKOFF, STOPPED, STOPPING, EXITED, FATAL, UNKNOWN
  std::string info;  // "pid 12, uptime 0:01:02", "Exited too quickly (process log may have details)"
};
struct SupervisorFacts {
  std::string server_url; // "unix:///run/anemone/supervisor.sock"
  bool reachable = false;
  std::string problem; // why not reachable: "no such file", "refused connection", …
  std::vector<ProgramStatus> programs;
};
// The lines of `supervisorctl status` that name a program and a known state; others are skipped.
std::vector<ProgramStatus> parse_supervisor_status(std::string_view text);
// What `supervisorctl -s <url> status` said: it exits 3 when some program is not running (the
// listing is still complete) and 4 when it cannot reach supervisord.
SupervisorFacts interpret_supervisorctl(std::string server_url, int exit_code, std::string_view out,
                                        std::string_view err);
Check evaluate_supervisor(const SupervisorFacts& facts);

// backup:<target>: the newest snapshot recorded in the state file is young enough.
struct BackupFacts {
  std::map<std::string, int64_t> newest_ns; // target -> time_ns of its newest snapshot
  std::string problem; // the state file could not be read: every target fails with this
};
Check evaluate_backup(const std::string& target, const BackupFacts& facts, int64_t now_ns, int64_t max_age_ms);

// config-backup:<destination>: `local` or a peer holds a copy of this site's configuration that is
// young enough (backup-sender config-backup, daily). A copy confirmed unchanged counts as new.
struct ConfigBackupRecord {
  std::optional<int64_t> good_ns; // the newest copy there was made or confirmed at this time
  std::string outcome;            // of the last attempt: ok | unchanged | failed
  std::string error;              // of the last attempt, when it failed
  std::optional<bool> recovery_login; // a peer let the recovery key in
};
struct ConfigBackupFacts {
  std::map<std::string, ConfigBackupRecord> records; // destination -> what the state file says
  std::string problem; // the state file could not be read: every destination fails with this
};
Check evaluate_config_backup(const std::string& destination, const ConfigBackupFacts& facts, int64_t now_ns,
                             int64_t max_age_ms);

// space:<path>: the file system holding path has at least min_free bytes available.
struct SpaceFacts {
  std::string path;
  std::optional<uint64_t> free_bytes; // f_bavail * f_frsize
  std::string error;                  // "does not exist", or the system's message
};
Check evaluate_space(const SpaceFacts& facts, uint64_t min_free);

// The report: healthy when every check is ok; a reason per failed check, "name: detail".
struct Report {
  std::vector<Check> checks;
  bool healthy() const;
  std::vector<std::string> reasons() const;
};
// One line per check ("ok    sshd: …", "FAIL  supervisord: …"), then "healthy" or "unhealthy: …".
std::string render_text(const Report& report);
// {"healthy": bool, "checks": [{"name", "ok", "detail"}], "reasons": ["name: detail"]}
std::string render_json(const Report& report);

} // namespace anemone::health
