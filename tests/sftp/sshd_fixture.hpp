#pragma once
// A real OpenSSH sshd on a loopback port, configured by the test: key-only login, internal-sftp.
// Its files live under /var/lib/anemone-test/<random>/ because sshd refuses key files (StrictModes)
// and jails whose path has a group- or world-writable component, /tmp included. Started once per
// test process, stopped (by its pid) at exit. A missing sshd fails the test, never skips it.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "anemone/ssh/sftp_session.hpp"

namespace anemone::test {

inline std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void run_checked(const std::string& command) {
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
}

inline int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

class Sshd {
public:
  static Sshd& shared() {
    static std::unique_ptr<Sshd> instance(new Sshd());
    return *instance;
  }
  ~Sshd() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      ::waitpid(m_pid, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(m_dir, ignored);
  }

  const std::filesystem::path& dir() const { return m_dir; }
  int port() const { return m_port; }
  std::string host_key() const { return m_host_key; }
  ssh::SshTarget target() const {
    ssh::SshTarget target;
    target.host = "127.0.0.1";
    target.port = m_port;
    target.user = "root";
    target.identity_file = m_dir / "client_key";
    target.host_key = m_host_key;
    target.timeout_ms = 10000;
    return target;
  }
  // A fresh, empty directory for one test's repository.
  std::filesystem::path fresh_root() { return m_dir / fmt::format("repo-{}", ++m_roots); }
  // Generates another key pair (not authorized) and returns the private key's path.
  std::filesystem::path stranger_key() {
    auto path = m_dir / "stranger_key";
    if (!std::filesystem::exists(path)) run_checked(fmt::format("ssh-keygen -q -t ed25519 -N '' -f {}", path.string()));
    return path;
  }

private:
  Sshd() {
    REQUIRE(std::filesystem::exists("/usr/sbin/sshd")); // scripts/install-deps.sh installs openssh-server
    std::filesystem::create_directories("/var/lib/anemone-test");
    std::filesystem::permissions("/var/lib/anemone-test", std::filesystem::perms(0755));
    std::string pattern = "/var/lib/anemone-test/sshd-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    m_dir = pattern;
    std::filesystem::permissions(m_dir, std::filesystem::perms(0755));
    std::filesystem::create_directories("/run/sshd"); // sshd's privilege separation directory
    run_checked(fmt::format("ssh-keygen -q -t ed25519 -N '' -f {}/host_key", m_dir.string()));
    run_checked(fmt::format("ssh-keygen -q -t ed25519 -N '' -f {}/client_key", m_dir.string()));
    std::filesystem::copy_file(m_dir / "client_key.pub", m_dir / "authorized_keys");
    std::filesystem::permissions(m_dir / "authorized_keys", std::filesystem::perms(0600));
    m_host_key = read_all(m_dir / "host_key.pub");
    while (!m_host_key.empty() && m_host_key.back() == '\n') m_host_key.pop_back();
    m_port = free_loopback_port();
    std::ofstream config(m_dir / "sshd_config");
    config << fmt::format("Port {}\nListenAddress 127.0.0.1\nHostKey {}/host_key\nPidFile {}/sshd.pid\n"
                          "AuthorizedKeysFile {}/authorized_keys\nPasswordAuthentication no\n"
                          "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
                          "PermitRootLogin prohibit-password\nUsePAM no\nStrictModes yes\n"
                          "Subsystem sftp internal-sftp\nLogLevel ERROR\n",
                          m_port, m_dir.string(), m_dir.string(), m_dir.string());
    config.close();
    m_pid = ::fork();
    REQUIRE(m_pid >= 0);
    if (m_pid == 0) {
      std::string config_path = (m_dir / "sshd_config").string();
      ::execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", config_path.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Bounded wait for the port to accept connections.
    for (int attempt = 0; attempt < 100; ++attempt) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(static_cast<uint16_t>(m_port));
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
      ::close(fd);
      if (up) return;
      int status = 0;
      REQUIRE(::waitpid(m_pid, &status, WNOHANG) == 0); // sshd must not have exited
      ::usleep(100000);
    }
    FAIL("sshd did not start listening on 127.0.0.1:" << m_port);
  }

  std::filesystem::path m_dir;
  std::string m_host_key;
  int m_port = 0;
  pid_t m_pid = -1;
  int m_roots = 0;
};

} // namespace anemone::test
