#pragma once
// caddy-sync's client for Caddy's admin API: load a whole config, read the running one. One libcurl
// easy handle per client, so consecutive requests reuse the connection; not thread-safe.
//
// Caddy 2.6.2's admin API, as checked on this machine:
// - POST /load needs Content-Type application/json; without it Caddy answers 400 "unrecognized
//   config adapter 'x-www-form-urlencoded'".
// - The Host header must name the admin listener (curl sends "127.0.0.1:2019" for that URL;
//   "localhost:2019" passes too); any other host gets 403 "host not allowed: ...". An Origin
//   header is not needed, and a foreign one is not refused, unless admin.enforce_origin is set.
// - A config Caddy cannot load gets 400 {"error": "loading config: ..."} and the running config
//   stays; a load of an identical config is a no-op.
// - The admin API sends no Server header, Caddy's sites send "Server: Caddy": an answer with one
//   came from a site sharing the admin address, and is an error rather than a silent "loaded".
#include <string>
#include <string_view>
#include <utility>

#include "anemone/core/error.hpp"
#include "anemone/platform/curl_handles.hpp"

namespace anemone::platform {

class CaddyAdmin {
public:
  // admin_url is http://HOST:PORT (admin_listen_address); nothing is contacted yet.
  static core::Result<CaddyAdmin> open(std::string admin_url);

  // POST /load. A config Caddy refuses is an error carrying Caddy's message and the HTTP status;
  // Caddy then keeps running the previous config.
  core::Result<void> load(const std::string& config_json);
  // GET /config/: the running config as Caddy prints it ("null" when it has none).
  core::Result<std::string> current_config();

  const std::string& url() const { return m_url; }

private:
  enum class Method { get, post };
  struct Response {
    long status = 0;
    std::string body;
  };

  CaddyAdmin(std::string url, CurlEasy easy) : m_url(std::move(url)), m_easy(std::move(easy)) {}
  core::Result<Response> request(Method method, std::string_view path, const std::string& body);

  std::string m_url; // without a trailing '/'
  CurlEasy m_easy;
};

} // namespace anemone::platform
