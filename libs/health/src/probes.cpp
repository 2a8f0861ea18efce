#include "anemone/health/probes.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fmt/format.h>

#include "anemone/core/command.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/core/time.hpp"
#include "anemone/state/db.hpp"

namespace anemone::health {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Waits for `events` on fd until the deadline: true when ready, false on timeout (errno 0) or an
// error (errno set).
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      errno = 0;
      return false;
    }
    pollfd entry{fd, events, 0};
    int ready = ::poll(&entry, 1, static_cast<int>(left));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
}

std::string display_address(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

struct AddrInfoFree {
  void operator()(addrinfo* info) const { ::freeaddrinfo(info); }
};

} // namespace

InterfaceFacts probe_interface(const std::string& name, const fs::path& sys_class_net) {
  InterfaceFacts facts;
  facts.name = name;
  std::error_code ec;
  facts.exists = fs::exists(sys_class_net / name, ec);
  if (!facts.exists) return facts;
  auto text = core::read_text_file(sys_class_net / name / "flags");
  if (!text) {
    facts.error = text.error().message();
    return facts;
  }
  facts.flags = parse_interface_flags(*text);
  if (!facts.flags) facts.error = fmt::format("unexpected content \"{}\"", clean_banner(*text));
  return facts;
}

SshFacts probe_ssh(const std::string& host, int port, std::chrono::milliseconds timeout) {
  SshFacts facts;
  facts.address = display_address(host, port);
  const auto deadline = Clock::now() + timeout;
  const std::string waited = core::format_duration_ms(timeout.count());

  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* raw = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &raw); rc != 0) {
    facts.error = ::gai_strerror(rc);
    return facts;
  }
  std::unique_ptr<addrinfo, AddrInfoFree> addresses(raw);

  core::UniqueFd socket(::socket(addresses->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket) {
    facts.error = std::strerror(errno);
    return facts;
  }
  if (::connect(socket.get(), addresses->ai_addr, addresses->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      facts.error = std::strerror(errno);
      return facts;
    }
    if (!wait_for(socket.get(), POLLOUT, deadline)) {
      facts.error = errno ? std::strerror(errno) : "no connection within " + waited;
      return facts;
    }
    int error = 0;
    socklen_t size = sizeof error;
    ::getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) {
      facts.error = std::strerror(error);
      return facts;
    }
  }
  facts.connected = true;

  // The version line is at most 255 bytes with CR LF (RFC 4253); stop at the first newline.
  std::string received;
  while (received.find('\n') == std::string::npos && received.size() < 256) {
    if (!wait_for(socket.get(), POLLIN, deadline)) {
      facts.error = errno ? std::strerror(errno) : "nothing received within " + waited;
      break;
    }
    char buffer[256];
    ssize_t n = ::read(socket.get(), buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      facts.error = n == 0 ? "connection closed" : std::strerror(errno);
      break;
    }
    received.append(buffer, static_cast<size_t>(n));
  }
  if (!received.empty()) facts.banner = clean_banner(received);
  return facts;
}

SupervisorFacts probe_supervisor(const fs::path& socket) {
  std::string url = "unix://" + socket.string();
  // Bounded well inside Docker's HEALTHCHECK timeout: a supervisord that accepts the connection but never answers must not hang the
  // container's healthcheck (coreutils' timeout exits 124 then).
  constexpr int k_timeout_exit = 124;
  auto output = core::run_command({"timeout", "10", "supervisorctl", "-s", url, "status"});
  if (!output || output->exit_code == k_timeout_exit) {
    SupervisorFacts facts;
    facts.server_url = url;
    facts.problem = output ? fmt::format("supervisorctl on {} did not answer within 10 s", url) : output.error().message();
    return facts;
  }
  return interpret_supervisorctl(url, output->exit_code, output->out, output->err);
}

namespace {
// Runs `read` on the state file when it exists (a missing one is not created: nothing recorded
// yet) and stores its result in `found`; a state file that cannot be read becomes `problem`.
template <class T, class Read>
void read_state(const fs::path& state_path, T& found, std::string& problem, Read read) {
  std::error_code ec;
  if (!fs::exists(state_path, ec)) return;
  auto result = [&]() -> core::Result<T> {
    auto db = TRY(state::Db::open(state_path));
    return read(db);
  }();
  if (result) found = std::move(*result);
  else problem = result.error().message();
}
} // namespace

BackupFacts probe_backups(const fs::path& state_path) {
  BackupFacts facts;
  read_state(state_path, facts.newest_ns, facts.problem, [](state::Db& db) -> core::Result<std::map<std::string, int64_t>> {
    auto stmt = TRY(db.prepare("SELECT target, MAX(time_ns) FROM snapshots GROUP BY target"));
    std::map<std::string, int64_t> found;
    while (TRY(stmt.step())) found[stmt.column_text(0)] = stmt.column_int(1);
    return found;
  });
  return facts;
}

ConfigBackupFacts probe_config_backups(const fs::path& state_path) {
  ConfigBackupFacts facts;
  read_state(state_path, facts.records, facts.problem,
             [](state::Db& db) -> core::Result<std::map<std::string, ConfigBackupRecord>> {
    auto stmt = TRY(db.prepare("SELECT destination, stored_ns, attempt_ns, outcome, error, recovery_login FROM config_backups"));
    std::map<std::string, ConfigBackupRecord> found;
    while (TRY(stmt.step())) {
      ConfigBackupRecord record;
      record.outcome = stmt.column_text(3);
      // An attempt that did not fail left a current copy there; a failed one leaves the last stored.
      if (record.outcome != "failed") record.good_ns = stmt.column_int(2);
      else if (!stmt.column_is_null(1)) record.good_ns = stmt.column_int(1);
      if (!stmt.column_is_null(4)) record.error = stmt.column_text(4);
      if (!stmt.column_is_null(5)) record.recovery_login = stmt.column_int(5) != 0;
      found[stmt.column_text(0)] = std::move(record);
    }
    return found;
  });
  return facts;
}

std::vector<SpaceFacts> probe_space(const std::vector<fs::path>& paths) {
  std::vector<SpaceFacts> found;
  std::vector<dev_t> devices;
  for (const auto& path : paths) {
    SpaceFacts facts;
    facts.path = path.string();
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) {
      facts.error = errno == ENOENT ? "does not exist" : fmt::format("cannot be examined: {}", std::strerror(errno));
      found.push_back(std::move(facts));
      continue;
    }
    if (std::find(devices.begin(), devices.end(), st.st_dev) != devices.end()) continue;
    devices.push_back(st.st_dev);
    struct statvfs vfs{};
    if (::statvfs(path.c_str(), &vfs) != 0) facts.error = fmt::format("cannot be examined: {}", std::strerror(errno));
    else facts.free_bytes = static_cast<uint64_t>(vfs.f_bavail) * static_cast<uint64_t>(vfs.f_frsize);
    found.push_back(std::move(facts));
  }
  return found;
}

} // namespace anemone::health
