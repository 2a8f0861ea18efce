#pragma once
// The probing engine: HTTP(S) GETs to many backends at once over one libcurl multi handle, in one
// thread (no thread per backend), and the schedule of when each backend is next due.
//
// What a probe is, and why:
// - GET <http|https>://<addr>:<port><path>, with `Host:` set to the service's first (non-wildcard)
//   domain: Caddy passes the client's Host through to the backend by default, so a virtual-hosted
//   backend answers the probe as it answers real traffic. Without a domain, Host is addr:port.
// - A fresh connection per probe (no keep-alive): what is tested is what a new proxied connection
//   meets — the listener, its accept queue and the TLS handshake — not an old connection that may
//   outlive a dead listener. `Connection: close` lets the backend close first, so the TIME_WAIT
//   sockets of 1 000 probes a second pile up on the backends, not here.
// - TLS backends (tls: true) are probed without certificate verification: backends sit on the
//   WireGuard mesh (which already authenticates the sites) and usually carry self-signed
//   certificates or certificates for the public name, not for their VPN address. The probe checks
//   liveness, not identity.
// - A backend named by a DNS name is resolved afresh by every probe (libcurl's DNS cache is off: in
//   7.88 it holds even IP literals and scans every entry on each lookup, which with one entry per
//   backend was the largest cost of a probe).
// - The whole probe, connection included, is bounded by the service's timeout; redirects are not
//   followed (a 301 is a status like any other, compared with expect_status); no proxy from the
//   environment is used; the body is read and discarded (only its size is kept).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "anemone/config/platform.hpp"
#include "anemone/core/error.hpp"
#include "anemone/platform/curl_handles.hpp"
#include "anemone/platform/hysteresis.hpp"

namespace anemone::platform {

struct ProbeRequest {
  std::string addr; // IPv4, IPv6 (no brackets) or a DNS name
  int port = 0;
  bool tls = false;
  std::string path = "/";
  std::string host_header; // empty: none beyond what curl sends (addr:port)
  int64_t timeout_ms = 2000;
  int expect_status = 200;
  bool operator==(const ProbeRequest&) const = default;
};

// The request for a backend of a service (see the top of this file for the Host header).
ProbeRequest probe_request(const config::BackendSpec& backend, const config::ServiceSpec& service);
// "http://10.0.0.1:8080/health", "https://[fd00::1]:8443/health".
std::string probe_url(const ProbeRequest& request);

struct ProbeCompletion {
  uint64_t id = 0;
  ProbeResult result;
  uint64_t body_bytes = 0;
};

struct PollOutcome {
  std::vector<ProbeCompletion> finished;
  bool woken = false; // wake_fd became readable
};

class Prober {
public:
  // max_in_flight bounds the sockets open at once (1 000 backends do not mean 1 000 connections).
  static core::Result<Prober> create(size_t max_in_flight);
  Prober(Prober&&) noexcept;
  Prober& operator=(Prober&&) = delete;
  ~Prober();

  size_t in_flight() const { return m_transfers.size(); }
  bool can_start() const { return m_transfers.size() < m_max_in_flight; }

  // Starts a probe identified by `id` (unique among those in flight); it reports through poll().
  core::Result<void> start(uint64_t id, const ProbeRequest& request);
  // Abandons a probe in flight (its backend was removed or changed); no completion is reported.
  void cancel(uint64_t id);
  // Waits up to timeout_ms for socket activity (libcurl's own timeouts shorten the wait) or for
  // wake_fd (-1: none) to become readable, moves the transfers on, and returns the probes that
  // finished. wake_fd is only polled, never read.
  core::Result<PollOutcome> poll(int64_t timeout_ms, int wake_fd = -1);

private:
  struct Transfer;
  Prober(CurlMulti multi, size_t max_in_flight);
  CurlEasy take_handle();
  void give_back(CurlEasy handle);

  CurlMulti m_multi;
  size_t m_max_in_flight;
  std::unordered_map<uint64_t, std::unique_ptr<Transfer>> m_transfers;
  std::vector<CurlEasy> m_idle_handles; // reset and reused: no allocation churn per probe
};

// When each backend is next due: a min-heap of (due, id). Setting a new due time for an id
// supersedes the old entry, which is skipped when it surfaces.
class ProbeSchedule {
public:
  void set(uint64_t id, int64_t due_ms);
  void erase(uint64_t id);
  bool contains(uint64_t id) const { return m_current.count(id) != 0; }
  std::optional<int64_t> due_of(uint64_t id) const;
  std::optional<int64_t> next_due();
  // The id of the earliest entry due at or before now_ms, removed from the schedule.
  std::optional<uint64_t> pop_due(int64_t now_ms);
  size_t size() const { return m_current.size(); }

private:
  struct Entry {
    int64_t due_ms;
    uint64_t stamp;
    uint64_t id;
    bool operator>(const Entry& other) const {
      return due_ms != other.due_ms ? due_ms > other.due_ms : stamp > other.stamp;
    }
  };
  void drop_stale();
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> m_heap;
  std::unordered_map<uint64_t, std::pair<int64_t, uint64_t>> m_current; // id -> (due, stamp)
  uint64_t m_next_stamp = 0;
};

} // namespace anemone::platform
