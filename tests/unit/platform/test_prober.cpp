// The probing engine against a real HTTP server on 127.0.0.1 (a thread of this test): statuses,
// refused connections, timeouts, the Host header, and many probes through few slots.
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include "anemone/core/fs.hpp"
#include "anemone/platform/prober.hpp"

namespace platform = anemone::platform;
using anemone::core::UniqueFd;

namespace {

// Answers every request with `status` (0: accepts and never answers), one connection at a time;
// remembers the request heads it read.
class LoopbackServer {
public:
  explicit LoopbackServer(int status) : m_status(status) {
    m_listener = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(m_listener);
    int one = 1;
    ::setsockopt(m_listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(m_listener.get(), 128) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(m_listener.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
    m_port = ntohs(address.sin_port);
    m_stop = UniqueFd(::eventfd(0, EFD_CLOEXEC));
    REQUIRE(m_stop);
    m_thread = std::thread([this] { serve(); });
  }
  ~LoopbackServer() {
    uint64_t one = 1;
    (void)!::write(m_stop.get(), &one, sizeof one);
    m_thread.join();
  }
  int port() const { return m_port; }
  std::vector<std::string> requests() {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }

private:
  void serve() {
    std::vector<UniqueFd> held; // status 0: connections left unanswered until the end
    while (true) {
      pollfd fds[2] = {{m_listener.get(), POLLIN, 0}, {m_stop.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents) return;
      if (!(fds[0].revents & POLLIN)) continue;
      UniqueFd client(::accept4(m_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!client) continue;
      if (m_status == 0) {
        held.push_back(std::move(client));
        continue;
      }
      std::string head;
      char buffer[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        pollfd in{client.get(), POLLIN, 0};
        if (::poll(&in, 1, 2000) <= 0) break;
        ssize_t got = ::read(client.get(), buffer, sizeof buffer);
        if (got <= 0) break;
        head.append(buffer, static_cast<size_t>(got));
      }
      {
        std::lock_guard lock(m_mutex);
        m_requests.push_back(head);
      }
      std::string body = "ok\n";
      std::string response = "HTTP/1.1 " + std::to_string(m_status) + " Whatever\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\nLocation: /elsewhere\r\nConnection: close\r\n\r\n" + body;
      (void)!::write(client.get(), response.data(), response.size());
    }
  }

  int m_status;
  int m_port = 0;
  UniqueFd m_listener;
  UniqueFd m_stop;
  std::mutex m_mutex;
  std::vector<std::string> m_requests;
  std::thread m_thread;
};

platform::ProbeRequest request_for(int port, int64_t timeout_ms = 2000) {
  platform::ProbeRequest request;
  request.addr = "127.0.0.1";
  request.port = port;
  request.path = "/health?deep=1";
  request.timeout_ms = timeout_ms;
  request.expect_status = 200;
  return request;
}

// Runs the probes to completion (10 s at most), by id.
std::map<uint64_t, platform::ProbeCompletion> run_all(platform::Prober& prober,
                                                      std::vector<std::pair<uint64_t, platform::ProbeRequest>> queue) {
  std::map<uint64_t, platform::ProbeCompletion> done;
  size_t total = queue.size();
  size_t next = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (done.size() < total && std::chrono::steady_clock::now() < deadline) {
    while (next < queue.size() && prober.can_start()) {
      REQUIRE(prober.start(queue[next].first, queue[next].second));
      ++next;
    }
    auto polled = prober.poll(100);
    REQUIRE(polled);
    for (auto& completion : polled->finished) done.emplace(completion.id, std::move(completion));
  }
  return done;
}

// A loopback port with nothing listening: bound, then closed.
int closed_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
  return ntohs(address.sin_port);
}

} // namespace

TEST_CASE("probe requests and URLs follow the backend and its service", "[platform]") {
  anemone::config::ServiceSpec service;
  service.name = "api";
  service.domains = {"*.example.org", "api.example.org"};
  service.health.path = "/healthz";
  service.health.timeout_ms = 700;
  service.health.expect_status = 204;
  anemone::config::BackendSpec backend;
  backend.name = "api/fd00::1:8443";
  backend.addr = "fd00::1";
  backend.port = 8443;
  backend.tls = true;
  auto request = platform::probe_request(backend, service);
  CHECK(request.host_header == "api.example.org"); // the first domain that is a real name
  CHECK(request.timeout_ms == 700);
  CHECK(request.expect_status == 204);
  CHECK(platform::probe_url(request) == "https://[fd00::1]:8443/healthz");
  backend.addr = "10.0.0.1";
  backend.tls = false;
  CHECK(platform::probe_url(platform::probe_request(backend, service)) == "http://10.0.0.1:8443/healthz");
}

TEST_CASE("a probe passes on the expected status and fails on another", "[platform]") {
  LoopbackServer ok(200);
  LoopbackServer broken(500);
  LoopbackServer moved(301);
  auto prober = platform::Prober::create(16);
  REQUIRE(prober);
  auto with_host = request_for(ok.port());
  with_host.host_header = "api.example.org";
  auto done = run_all(*prober, {{1, with_host}, {2, request_for(broken.port())}, {3, request_for(moved.port())}});
  REQUIRE(done.size() == 3);

  const auto& passed = done.at(1).result;
  CHECK(passed.passed);
  CHECK(passed.status == 200);
  CHECK(passed.error.empty());
  CHECK(passed.latency_ms > 0);
  CHECK(done.at(1).body_bytes == 3);
  auto heads = ok.requests();
  REQUIRE(heads.size() == 1);
  CHECK(heads[0].rfind("GET /health?deep=1 HTTP/1.1\r\n", 0) == 0);
  CHECK(heads[0].find("\r\nHost: api.example.org\r\n") != std::string::npos);

  CHECK_FALSE(done.at(2).result.passed);
  CHECK(done.at(2).result.status == 500);
  CHECK(done.at(2).result.error == "HTTP 500 (expected 200)");

  // Redirects are not followed: a 301 is compared like any status.
  CHECK_FALSE(done.at(3).result.passed);
  CHECK(done.at(3).result.error == "HTTP 301 (expected 200)");
  CHECK(moved.requests().size() == 1);
}

TEST_CASE("a refused connection and a silent backend fail with their reason", "[platform]") {
  LoopbackServer silent(0);
  auto prober = platform::Prober::create(16);
  REQUIRE(prober);
  auto started = std::chrono::steady_clock::now();
  auto done = run_all(*prober, {{1, request_for(closed_port())}, {2, request_for(silent.port(), 300)}});
  auto elapsed = std::chrono::steady_clock::now() - started;
  REQUIRE(done.size() == 2);
  CHECK_FALSE(done.at(1).result.passed);
  CHECK_FALSE(done.at(1).result.status);
  CHECK(done.at(1).result.error == "connection refused");
  CHECK_FALSE(done.at(2).result.passed);
  CHECK(done.at(2).result.error == "no response within 300 ms");
  CHECK(elapsed < std::chrono::seconds(3)); // bounded by the timeout, not by the server
}

TEST_CASE("many probes go through a few slots", "[platform]") {
  LoopbackServer ok(200);
  auto prober = platform::Prober::create(4);
  REQUIRE(prober);
  std::vector<std::pair<uint64_t, platform::ProbeRequest>> queue;
  for (uint64_t id = 100; id < 140; ++id) queue.emplace_back(id, request_for(ok.port()));
  auto done = run_all(*prober, queue);
  CHECK(done.size() == 40);
  for (const auto& [id, completion] : done) CHECK(completion.result.passed);
  CHECK(prober->in_flight() == 0);
  CHECK(ok.requests().size() == 40); // a fresh connection each, no keep-alive
}

TEST_CASE("a cancelled probe reports nothing, and poll wakes on its fd", "[platform]") {
  LoopbackServer silent(0);
  auto prober = platform::Prober::create(2);
  REQUIRE(prober);
  REQUIRE(prober->start(7, request_for(silent.port(), 5000)));
  CHECK_FALSE(prober->start(7, request_for(silent.port(), 5000))); // one probe per id
  REQUIRE(prober->start(8, request_for(silent.port(), 5000)));
  CHECK_FALSE(prober->can_start());
  prober->cancel(7);
  CHECK(prober->in_flight() == 1);

  UniqueFd wake(::eventfd(1, EFD_CLOEXEC)); // readable already
  auto started = std::chrono::steady_clock::now();
  auto polled = prober->poll(3000, wake.get());
  REQUIRE(polled);
  CHECK(polled->woken);
  CHECK(polled->finished.empty());
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
}
