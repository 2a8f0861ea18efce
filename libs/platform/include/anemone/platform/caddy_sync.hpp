#pragma once
// caddy-sync's Caddy side: render the config from the registry and the health state, load it
// through the admin API only when Caddy runs something else, keep every loaded (or rejected)
// config in the state file, and `watch` for changes as a supervisord program.
#include <cstdint>
#include <optional>
#include <string>

#include "anemone/config/config.hpp"
#include "anemone/core/error.hpp"

namespace anemone::platform {

// A short fingerprint of a config's text (BLAKE2b-128, hex): what history shows and compares.
std::string config_hash(std::string_view config_json);

core::Result<void> cmd_render(const config::Config& config);
// Applies once. Exit 0 when Caddy runs the rendered config (loaded now or already), 1 when Caddy
// rejected it (the previous config stays live; the rejection is in `history`).
core::Result<void> cmd_sync(const config::Config& config, bool json);
core::Result<void> cmd_history(const config::Config& config, int limit, bool json);
// Loads a config from history (default: the applied one before the newest applied).
core::Result<void> cmd_rollback(const config::Config& config, std::optional<int64_t> id, bool json);
core::Result<void> cmd_caddy_status(const config::Config& config, bool json);

struct WatchOptions {
  int64_t poll_ms = 200;          // how often the registry's generation is read
  int64_t settle_ms = 250;        // changes within this window become one reload
  int64_t verify_every_ms = 10000; // re-read Caddy's config: a restarted Caddy gets ours again
};
// Foreground until SIGTERM/SIGINT (exit 0). Reloads within about a second of a change; while
// reloads keep coming the gap between them grows (1 s, 5 s, then 15 s) so a flapping site cannot
// cause a reload storm (every reload of Caddy 2.6 closes WebSockets).
core::Result<void> run_caddy_watch(const config::Config& config, const WatchOptions& options);

} // namespace anemone::platform
