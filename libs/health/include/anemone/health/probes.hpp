#pragma once
// The probes of `health-checker self`: each looks at the system once and returns facts for the
// verdicts in checks.hpp. A probe never fails as a Result: what it could not see is a fact too
// (an unreachable supervisord is an unhealthy container, not an error of the checker).
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "anemone/health/checks.hpp"

namespace anemone::health {

// Reads <sys_class_net>/<name>/flags.
InterfaceFacts probe_interface(const std::string& name,
                               const std::filesystem::path& sys_class_net = "/sys/class/net");

// Connects to host:port and reads the first line, all within `timeout`. host is an address or a
// name; probe_host_for() maps a listen address to it.
SshFacts probe_ssh(const std::string& host, int port, std::chrono::milliseconds timeout);

// Runs `supervisorctl -s unix://<socket> status` (no shell).
SupervisorFacts probe_supervisor(const std::filesystem::path& socket);

// The newest snapshot per target in the state file. A missing state file is no snapshots yet: it
// is not created here.
BackupFacts probe_backups(const std::filesystem::path& state_path);

// What the state file records of the config backups, per destination. A missing state file (or one
// from before config backups) is none yet.
ConfigBackupFacts probe_config_backups(const std::filesystem::path& state_path);

// Free space for each path, one per file system: a path on the device of an earlier one is left
// out (the first path names the check). Paths that cannot be examined are all kept.
std::vector<SpaceFacts> probe_space(const std::vector<std::filesystem::path>& paths);

} // namespace anemone::health
