#include "anemone/platform/prober.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>

#include <fmt/format.h>

namespace anemone::platform {

using core::Errc;

namespace {

std::string lower_first(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// The Host a proxied request carries: the service's first domain that is a real name.
std::string host_for(const config::ServiceSpec& service) {
  for (const auto& domain : service.domains)
    if (domain.rfind("*.", 0) != 0) return domain;
  return {};
}

size_t discard_body(char*, size_t size, size_t count, void* userdata) {
  *static_cast<uint64_t*>(userdata) += size * count;
  return size * count;
}

} // namespace

ProbeRequest probe_request(const config::BackendSpec& backend, const config::ServiceSpec& service) {
  ProbeRequest request;
  request.addr = backend.addr;
  request.port = backend.port;
  request.tls = backend.tls;
  request.path = service.health.path.empty() ? "/" : service.health.path;
  request.host_header = host_for(service);
  request.timeout_ms = service.health.timeout_ms;
  request.expect_status = service.health.expect_status;
  return request;
}

std::string probe_url(const ProbeRequest& request) {
  bool v6 = request.addr.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}{}", request.tls ? "https" : "http", v6 ? "[" : "", request.addr, v6 ? "]" : "",
                     request.port, request.path);
}

struct Prober::Transfer {
  uint64_t id = 0;
  CurlHeaders headers; // declared first, so it outlives the handle that points to it
  CurlEasy easy;
  std::string url;
  std::string addr;
  int64_t timeout_ms = 0;
  int expect_status = 200;
  uint64_t body_bytes = 0;
  char error[CURL_ERROR_SIZE] = {};
};

namespace {

// What went wrong, in the words an operator greps for: "connection refused", "no response within
// 2000 ms", "HTTP 500 (expected 200)".
std::string describe_failure(CURLcode code, CURL* easy, const char* error_buffer, const std::string& addr,
                             int64_t timeout_ms) {
  long os_errno = 0;
  curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
  switch (code) {
  case CURLE_OPERATION_TIMEDOUT: {
    curl_off_t connected_us = 0;
    curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected_us);
    if (connected_us == 0) return fmt::format("connect timed out after {} ms", timeout_ms);
    return fmt::format("no response within {} ms", timeout_ms);
  }
  case CURLE_COULDNT_CONNECT:
    if (os_errno != 0) return lower_first(std::strerror(static_cast<int>(os_errno)));
    break;
  case CURLE_COULDNT_RESOLVE_HOST: return fmt::format("cannot resolve {}", addr);
  case CURLE_GOT_NOTHING: return "connection closed without a response";
  case CURLE_SSL_CONNECT_ERROR:
    return fmt::format("TLS handshake failed: {}", error_buffer[0] ? error_buffer : curl_easy_strerror(code));
  default: break;
  }
  if (error_buffer[0]) return lower_first(error_buffer);
  return lower_first(curl_easy_strerror(code));
}

} // namespace

Prober::Prober(CurlMulti multi, size_t max_in_flight) : m_multi(std::move(multi)), m_max_in_flight(max_in_flight) {}
Prober::Prober(Prober&&) noexcept = default;

Prober::~Prober() {
  // Handles leave the multi handle before either is cleaned up.
  for (auto& [id, transfer] : m_transfers)
    if (m_multi && transfer->easy) curl_multi_remove_handle(m_multi.get(), transfer->easy.get());
}

core::Result<Prober> Prober::create(size_t max_in_flight) {
  ensure_curl_initialised();
  CurlMulti multi(curl_multi_init());
  if (!multi) return core::fail(Errc::failed, "curl_multi_init failed");
  return Prober(std::move(multi), std::max<size_t>(max_in_flight, 1));
}

CurlEasy Prober::take_handle() {
  if (m_idle_handles.empty()) return CurlEasy(curl_easy_init());
  CurlEasy handle = std::move(m_idle_handles.back());
  m_idle_handles.pop_back();
  return handle;
}

void Prober::give_back(CurlEasy handle) {
  if (!handle || m_idle_handles.size() >= m_max_in_flight) return;
  curl_easy_reset(handle.get());
  m_idle_handles.push_back(std::move(handle));
}

core::Result<void> Prober::start(uint64_t id, const ProbeRequest& request) {
  if (!can_start()) return core::fail(Errc::failed, "{} probes are in flight already", m_transfers.size());
  if (m_transfers.count(id)) return core::fail(Errc::failed, "probe {} is in flight already", id);
  auto transfer = std::make_unique<Transfer>();
  transfer->id = id;
  transfer->easy = take_handle();
  if (!transfer->easy) return core::fail(Errc::failed, "curl_easy_init failed");
  transfer->url = probe_url(request);
  transfer->addr = request.addr;
  transfer->timeout_ms = request.timeout_ms;
  transfer->expect_status = request.expect_status;

  curl_slist* headers = nullptr;
  auto append = [&headers](const std::string& line) {
    if (curl_slist* longer = curl_slist_append(headers, line.c_str())) headers = longer;
  };
  if (!request.host_header.empty()) append("Host: " + request.host_header);
  append("Connection: close");
  transfer->headers.reset(headers);

  CURL* easy = transfer->easy.get();
  long timeout = static_cast<long>(std::clamp<int64_t>(request.timeout_ms, 1, LONG_MAX));
  CURLcode rc = CURLE_OK;
  auto set = [&rc](CURLcode code) {
    if (rc == CURLE_OK) rc = code;
  };
  set(curl_easy_setopt(easy, CURLOPT_URL, transfer->url.c_str()));
  set(curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https"));
  set(curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L));
  set(curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1)));
  set(curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers.get()));
  set(curl_easy_setopt(easy, CURLOPT_USERAGENT, "anemone-health-checker"));
  set(curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(easy, CURLOPT_PROXY, ""));
  set(curl_easy_setopt(easy, CURLOPT_NOPROXY, "*"));
  set(curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L));
  set(curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout));
  set(curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout));
  // libcurl 7.88 caches even IP literals and scans its whole DNS cache on every lookup: with one
  // entry per backend that scan was the biggest cost of a probe. Names are resolved afresh.
  set(curl_easy_setopt(easy, CURLOPT_DNS_CACHE_TIMEOUT, 0L));
  set(curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L));
  set(curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L));
  set(curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body));
  set(curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer->body_bytes));
  set(curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error));
  set(curl_easy_setopt(easy, CURLOPT_PRIVATE, static_cast<void*>(transfer.get())));
  if (request.tls) {
    set(curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L));
    set(curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L));
  }
  if (rc != CURLE_OK) {
    give_back(std::move(transfer->easy));
    return core::fail(Errc::failed, "probe {}: {}", transfer->url, curl_easy_strerror(rc));
  }
  if (CURLMcode mc = curl_multi_add_handle(m_multi.get(), easy); mc != CURLM_OK) {
    give_back(std::move(transfer->easy));
    return core::fail(Errc::failed, "probe {}: {}", transfer->url, curl_multi_strerror(mc));
  }
  m_transfers.emplace(id, std::move(transfer));
  return {};
}

void Prober::cancel(uint64_t id) {
  auto found = m_transfers.find(id);
  if (found == m_transfers.end()) return;
  curl_multi_remove_handle(m_multi.get(), found->second->easy.get());
  give_back(std::move(found->second->easy));
  m_transfers.erase(found);
}

core::Result<PollOutcome> Prober::poll(int64_t timeout_ms, int wake_fd) {
  PollOutcome outcome;
  curl_waitfd extra{};
  extra.fd = wake_fd;
  extra.events = CURL_WAIT_POLLIN;
  int timeout = static_cast<int>(std::clamp<int64_t>(timeout_ms, 0, INT_MAX));
  CURLMcode mc = curl_multi_poll(m_multi.get(), wake_fd >= 0 ? &extra : nullptr, wake_fd >= 0 ? 1U : 0U, timeout,
                                 nullptr);
  if (mc != CURLM_OK) return core::fail(Errc::failed, "curl_multi_poll: {}", curl_multi_strerror(mc));
  outcome.woken = wake_fd >= 0 && (extra.revents & CURL_WAIT_POLLIN) != 0;

  int running = 0;
  mc = curl_multi_perform(m_multi.get(), &running);
  if (mc != CURLM_OK) return core::fail(Errc::failed, "curl_multi_perform: {}", curl_multi_strerror(mc));

  // Collected first, removed after: removing a handle while curl_multi_info_read walks its queue
  // is allowed, but this keeps the walk obviously safe.
  std::vector<std::pair<CURL*, CURLcode>> done;
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(m_multi.get(), &left))
    if (message->msg == CURLMSG_DONE) done.emplace_back(message->easy_handle, message->data.result);

  for (auto [easy, code] : done) {
    char* owner = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &owner);
    if (!owner) continue;
    auto found = m_transfers.find(static_cast<Transfer*>(static_cast<void*>(owner))->id);
    if (found == m_transfers.end() || found->second->easy.get() != easy) continue;
    Transfer& transfer = *found->second;
    ProbeCompletion completion;
    completion.id = transfer.id;
    completion.body_bytes = transfer.body_bytes;
    curl_off_t total_us = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
    completion.result.latency_ms = static_cast<double>(total_us) / 1000.0;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status > 0) completion.result.status = static_cast<int>(status);
    if (code == CURLE_OK) {
      completion.result.passed = status == transfer.expect_status;
      if (!completion.result.passed)
        completion.result.error = fmt::format("HTTP {} (expected {})", status, transfer.expect_status);
    } else {
      completion.result.error = describe_failure(code, easy, transfer.error, transfer.addr, transfer.timeout_ms);
      // A status followed by a failure (a body cut short or too slow) is still a failure; say so.
      if (status > 0) completion.result.error += fmt::format(" (after HTTP {})", status);
    }
    curl_multi_remove_handle(m_multi.get(), easy);
    give_back(std::move(transfer.easy));
    m_transfers.erase(found);
    outcome.finished.push_back(std::move(completion));
  }
  return outcome;
}

// ---- the schedule ---------------------------------------------------------------------------------

void ProbeSchedule::set(uint64_t id, int64_t due_ms) {
  uint64_t stamp = m_next_stamp++;
  m_current[id] = {due_ms, stamp};
  m_heap.push({due_ms, stamp, id});
  // Superseded entries wait in the heap until they surface; rebuild when they outnumber the rest.
  if (m_heap.size() > 2 * m_current.size() + 64) {
    decltype(m_heap) fresh;
    for (const auto& [entry_id, current] : m_current) fresh.push({current.first, current.second, entry_id});
    m_heap = std::move(fresh);
  }
}

void ProbeSchedule::erase(uint64_t id) { m_current.erase(id); }

std::optional<int64_t> ProbeSchedule::due_of(uint64_t id) const {
  auto found = m_current.find(id);
  if (found == m_current.end()) return std::nullopt;
  return found->second.first;
}

void ProbeSchedule::drop_stale() {
  while (!m_heap.empty()) {
    const Entry& top = m_heap.top();
    auto found = m_current.find(top.id);
    if (found != m_current.end() && found->second.second == top.stamp) return;
    m_heap.pop();
  }
}

std::optional<int64_t> ProbeSchedule::next_due() {
  drop_stale();
  if (m_heap.empty()) return std::nullopt;
  return m_heap.top().due_ms;
}

std::optional<uint64_t> ProbeSchedule::pop_due(int64_t now_ms) {
  drop_stale();
  if (m_heap.empty() || m_heap.top().due_ms > now_ms) return std::nullopt;
  uint64_t id = m_heap.top().id;
  m_heap.pop();
  m_current.erase(id);
  return id;
}

} // namespace anemone::platform
