#include "anemone/mesh/interface.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>
#include <filesystem>
#include <sodium.h>
#include <thread>

#include <fmt/ranges.h>

#include "anemone/core/command.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/core/log.hpp"

namespace anemone::mesh {

namespace fs = std::filesystem;
using core::Errc;

namespace {

core::Result<void> run(const std::vector<std::string>& argv) {
  TRY(core::run_checked(argv));
  return {};
}

// wireguard-go daemonizes itself unless told to stay in the foreground (then it is our child);
// the interface appears once it is ready.
core::Result<int> start_wireguard_go(const std::string& name, bool foreground) {
  int pid = 0;
  if (foreground) {
    pid = ::fork();
    if (pid < 0) return core::fail_errno("fork", errno);
    if (pid == 0) {
      ::setenv("WG_PROCESS_FOREGROUND", "1", 1);
      ::execlp("wireguard-go", "wireguard-go", "-f", name.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  } else {
    TRY_CTX(run({"wireguard-go", name}), "start wireguard-go (the kernel has no WireGuard)");
  }
  for (int i = 0; i < 100 && !interface_exists(name); ++i) {
    if (pid > 0 && ::waitpid(pid, nullptr, WNOHANG) == pid)
      return core::fail(Errc::failed, "wireguard-go exited at start (is it installed? is /dev/net/tun there?)");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!interface_exists(name)) return core::fail(Errc::failed, "wireguard-go started but {} did not appear within 5 s", name);
  return pid;
}

} // namespace

std::string render_wg_config(const config::Config& config, const Identity& identity, const std::vector<Peer>& peers) {
  std::string text = fmt::format("[Interface]\nPrivateKey = {}\nListenPort = {}\n", base64_encode(identity.wg_private.view()),
                                 config.wireguard.listen_port);
  for (const auto& peer : peers) {
    std::vector<std::string> allowed{peer.card.vpn_address + "/32"};
    allowed.insert(allowed.end(), peer.allowed_ips.begin(), peer.allowed_ips.end());
    text += fmt::format("\n[Peer]\n# {}\nPublicKey = {}\nAllowedIPs = {}\n", peer.card.name, peer.card.wg_public,
                        fmt::join(allowed, ", "));
    if (peer.card.endpoint) text += fmt::format("Endpoint = {}\n", *peer.card.endpoint);
    if (config.wireguard.keepalive > 0) text += fmt::format("PersistentKeepalive = {}\n", config.wireguard.keepalive);
  }
  return text;
}

bool interface_exists(const std::string& name) { return fs::exists(fs::path("/sys/class/net") / name); }

core::Result<bool> apply_peers(const config::Config& config, const Identity& identity, const std::vector<Peer>& peers) {
  const std::string& name = config.wireguard.interface;
  if (!interface_exists(name)) return false;
  // A 0600 file for wg, removed at once: the private key stays off every command line.
  fs::path file = config.secrets_dir / fmt::format(".{}.conf", name);
  std::string text = render_wg_config(config, identity, peers);
  auto written = core::write_file_atomic(file, core::as_bytes(text), 0600);
  sodium_memzero(text.data(), text.size());
  TRY(written);
  auto applied = run({"wg", "syncconf", name, file.string()});
  std::error_code ignored;
  fs::remove(file, ignored);
  TRY_CTX(std::move(applied), "apply the peers to " + name);
  for (const auto& peer : peers)
    for (const auto& cidr : peer.allowed_ips) TRY(run({"ip", "route", "replace", cidr, "dev", name}));
  return true;
}

core::Result<UpReport> interface_up(const config::Config& config, const Identity& identity, const std::vector<Peer>& peers,
                                    bool foreground) {
  UpReport report;
  const std::string& name = config.wireguard.interface;
  report.implementation = "kernel";
  if (!interface_exists(name)) {
    auto kernel = core::run_command({"ip", "link", "add", name, "type", "wireguard"});
    if (!kernel || kernel->exit_code != 0) {
      report.wireguard_go_pid = TRY(start_wireguard_go(name, foreground));
      report.implementation = "wireguard-go";
    }
    report.changes.push_back(fmt::format("created {} ({})", name, report.implementation));
  } else if (fs::exists(fs::path("/var/run/wireguard") / (name + ".sock"))) {
    report.implementation = "wireguard-go";
  }
  std::string address = fmt::format("{}/{}", identity.address.str(), identity.subnet.prefix);
  auto shown = TRY(core::run_checked({"ip", "-o", "address", "show", "dev", name}));
  if (shown.find(" " + address + " ") == std::string::npos) {
    TRY(run({"ip", "address", "replace", address, "dev", name}));
    report.changes.push_back("address " + address);
  }
  TRY(run({"ip", "link", "set", name, "mtu", "1420", "up"}));
  TRY(apply_peers(config, identity, peers));
  return report;
}

core::Result<bool> interface_down(const config::Config& config) {
  const std::string& name = config.wireguard.interface;
  if (!interface_exists(name)) return false;
  TRY(run({"ip", "link", "del", name})); // wireguard-go exits when its interface goes
  return true;
}

core::Result<std::map<std::string, PeerLink>> read_links(const config::Config& config) {
  std::map<std::string, PeerLink> links;
  const std::string& name = config.wireguard.interface;
  if (!interface_exists(name)) return links;
  auto dump = TRY(core::run_checked({"wg", "show", name, "dump"}));
  // First line: the interface (with its private key: never kept). Then one line per peer:
  // public-key preshared-key endpoint allowed-ips latest-handshake rx tx keepalive.
  size_t start = dump.find('\n');
  while (start != std::string::npos && start + 1 < dump.size()) {
    size_t end = dump.find('\n', start + 1);
    std::string line = dump.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
    start = end;
    std::vector<std::string> fields;
    size_t from = 0;
    while (from <= line.size()) {
      size_t tab = line.find('\t', from);
      if (tab == std::string::npos) tab = line.size();
      fields.push_back(line.substr(from, tab - from));
      from = tab + 1;
    }
    if (fields.size() < 8) continue;
    PeerLink link;
    link.endpoint = fields[2] == "(none)" ? "" : fields[2];
    link.latest_handshake_s = std::strtoll(fields[4].c_str(), nullptr, 10);
    link.rx_bytes = std::strtoull(fields[5].c_str(), nullptr, 10);
    link.tx_bytes = std::strtoull(fields[6].c_str(), nullptr, 10);
    links[fields[0]] = link;
  }
  sodium_memzero(dump.data(), dump.size());
  return links;
}

} // namespace anemone::mesh
