#pragma once
// caddy-sync's registry commands: `apply FILE`, and `site|service|backend add|remove|list`,
// `backend drain|undrain`. Each validates its input, writes the state file and prints what it did.
#include <optional>
#include <string>
#include <vector>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"

namespace anemone::platform {

struct ApplyOptions {
  std::string file;
  bool prune = false;
  bool dry_run = false;
  bool json = false;
};
core::Result<void> cmd_apply(const config::Config& config, const ApplyOptions& options);

core::Result<void> cmd_site_add(const config::Config& config, const std::string& name);
core::Result<void> cmd_site_remove(const config::Config& config, const std::string& name);
core::Result<void> cmd_site_list(const config::Config& config, bool json);

// Strings as typed on the command line; durations like "5s", parsed and validated here.
struct ServiceAddOptions {
  std::string name;
  std::vector<std::string> domains;
  std::string policy = "round_robin";
  std::string health_path = "/health";
  std::string interval = "5s";
  std::string timeout = "2s";
  int rise = 2;
  int fall = 3;
  int expect_status = 200;
};
core::Result<void> cmd_service_add(const config::Config& config, const ServiceAddOptions& options);
core::Result<void> cmd_service_remove(const config::Config& config, const std::string& name);
core::Result<void> cmd_service_list(const config::Config& config, bool json);

struct BackendAddOptions {
  std::string service;
  std::string site;
  std::string addr;
  int port = 0;
  std::string name; // default: "<service>/<addr>:<port>"
  int priority = 1;
  int weight = 1;
  std::vector<std::string> tags;
  bool tls = false;
};
core::Result<void> cmd_backend_add(const config::Config& config, const BackendAddOptions& options);
core::Result<void> cmd_backend_remove(const config::Config& config, const std::string& name);
core::Result<void> cmd_backend_list(const config::Config& config, const std::string& service, bool json);
core::Result<void> cmd_backend_drain(const config::Config& config, const std::string& name, bool drained);

} // namespace anemone::platform
