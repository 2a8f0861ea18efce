#include "anemone/platform/caddy_admin.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "anemone/platform/caddy_config.hpp"

namespace anemone::platform {
namespace {

constexpr long k_connect_timeout_ms = 2000;
constexpr long k_total_timeout_ms = 30000;
// A running config is a few hundred KiB at most; anything far larger is not Caddy talking.
constexpr size_t k_max_response_bytes = size_t{64} << 20;
// How much of a non-JSON error body goes into a message.
constexpr size_t k_max_error_text = 500;

size_t append_body(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  size_t bytes = size * count;
  if (body->size() + bytes > k_max_response_bytes) return 0; // makes curl fail with CURLE_WRITE_ERROR
  body->append(data, bytes);
  return bytes;
}

// Caddy's sites send "Server: Caddy"; its admin API (2.6) sends no Server header at all.
size_t note_server_header(char* data, size_t size, size_t count, void* user) {
  size_t bytes = size * count;
  std::string_view line(data, bytes);
  constexpr std::string_view name = "server:";
  if (line.size() >= name.size() &&
      std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); }))
    *static_cast<bool*>(user) = true;
  return bytes;
}

// Caddy answers an error with {"error": "..."}; anything else is quoted, shortened, on one line.
std::string error_text(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string())
    return parsed["error"].get<std::string>();
  std::string text = body.substr(0, k_max_error_text);
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.empty()) return "(empty response)";
  return body.size() > k_max_error_text ? text + "…" : text;
}

} // namespace

core::Result<CaddyAdmin> CaddyAdmin::open(std::string admin_url) {
  auto host_port = TRY(admin_listen_address(admin_url));
  ensure_curl_initialised();
  CurlEasy easy(curl_easy_init());
  if (!easy) return core::fail(core::Errc::failed, "caddy admin {}: curl_easy_init failed", admin_url);
  return CaddyAdmin("http://" + host_port, std::move(easy));
}

core::Result<CaddyAdmin::Response> CaddyAdmin::request(Method method, std::string_view path,
                                                       const std::string& body) {
  CURL* easy = m_easy.get();
  curl_easy_reset(easy); // keeps the open connection, drops the previous request's options
  std::string url = m_url + std::string(path);
  std::string target = fmt::format("{} {}", method == Method::post ? "POST" : "GET", url);
  Response response;
  char curl_error[CURL_ERROR_SIZE] = {};

  CurlHeaders headers;
  auto add_header = [&](const char* line) -> core::Result<void> {
    curl_slist* extended = curl_slist_append(headers.get(), line);
    if (extended == nullptr) return core::fail(core::Errc::failed, "{}: out of memory building headers", target);
    static_cast<void>(headers.release());
    headers.reset(extended);
    return {};
  };
  TRY(add_header("Accept: application/json"));
  if (method == Method::post) {
    TRY(add_header("Content-Type: application/json"));
    TRY(add_header("Expect:")); // no 100-continue round trip for a large config
  }

  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, curl_error);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L); // timeouts without SIGALRM, safe in threads
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, k_connect_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, k_total_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_PROXY, ""); // never through an http_proxy from the environment
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &response.body);
  bool server_header = false;
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, note_server_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &server_header);
  if (method == Method::post) {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }

  CURLcode code = curl_easy_perform(easy);
  // The buffer and the header list die with this frame: unhook them before returning.
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
  if (code == CURLE_WRITE_ERROR)
    return core::fail(core::Errc::io, "{}: the response is larger than {} MiB", target, k_max_response_bytes >> 20);
  if (code != CURLE_OK)
    return core::fail(core::Errc::io, "{}: {}", target, curl_error[0] != '\0' ? curl_error : curl_easy_strerror(code));
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response.status);
  // Seen on 2.6.2: with a site listening on the admin address, Caddy splits the connections
  // between both listeners, and the site answers POST /load with an empty 200 that looks like
  // success while nothing was loaded.
  if (server_header)
    return core::fail(core::Errc::failed,
                      "{}: a Caddy site answered (HTTP {}), not the admin API: is an http_listen address the "
                      "admin address?",
                      target, response.status);
  return response;
}

core::Result<void> CaddyAdmin::load(const std::string& config_json) {
  auto response = TRY(request(Method::post, "/load", config_json));
  // Caddy 2.6 answers 400 for a config it cannot load (it keeps the running one); other statuses
  // are about the request itself, e.g. 403 for a Host header that is not the admin listener.
  if (response.status == 400)
    return core::fail(core::Errc::failed, "Caddy at {} rejected the config (HTTP 400): {}", m_url,
                      error_text(response.body));
  if (response.status != 200)
    return core::fail(core::Errc::failed, "POST {}/load: HTTP {}: {}", m_url, response.status,
                      error_text(response.body));
  return {};
}

core::Result<std::string> CaddyAdmin::current_config() {
  auto response = TRY(request(Method::get, "/config/", {}));
  if (response.status != 200)
    return core::fail(core::Errc::failed, "GET {}/config/: HTTP {}: {}", m_url, response.status,
                      error_text(response.body));
  return std::move(response.body);
}

} // namespace anemone::platform
