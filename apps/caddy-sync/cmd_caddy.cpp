#include "anemone/platform/caddy_sync.hpp"
#include "commands.hpp"

namespace anemone::caddy_sync {

void set_caddy_commands(CLI::App& app, cli::ToolContext& context) {
  auto* render = app.add_subcommand("render", "print the Caddy config the registry and health give now");
  cli::set_action(render, [&context]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return platform::cmd_render(config);
  });

  auto sync_json = std::make_shared<bool>(false);
  auto* sync = app.add_subcommand("sync", "render and load into Caddy once (only if Caddy runs something else)");
  sync->add_flag("--json", *sync_json, "print JSON");
  cli::set_action(sync, [&context, sync_json]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return platform::cmd_sync(config, *sync_json);
  });

  auto* watch = app.add_subcommand("watch", "reload Caddy on every registry or health change (foreground; the "
                                            "supervisord program)");
  cli::set_action(watch, [&context]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return platform::run_caddy_watch(config, {});
  });

  auto status_json = std::make_shared<bool>(false);
  auto* status = app.add_subcommand("status", "whether Caddy runs the registry's config, the last load");
  status->add_flag("--json", *status_json, "print JSON");
  cli::set_action(status, [&context, status_json]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return platform::cmd_caddy_status(config, *status_json);
  });

  auto limit = std::make_shared<int>(20);
  auto history_json = std::make_shared<bool>(false);
  auto* history = app.add_subcommand("history", "the configs loaded into Caddy (and those it rejected), newest first");
  history->add_option("--limit", *limit, "how many (default 20)")->check(CLI::Range(1, 100000));
  history->add_flag("--json", *history_json, "print JSON");
  cli::set_action(history, [&context, limit, history_json]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return platform::cmd_history(config, *limit, *history_json);
  });

  auto id = std::make_shared<int64_t>(0);
  auto rollback_json = std::make_shared<bool>(false);
  auto* rollback = app.add_subcommand("rollback", "load an earlier config from history (default: the previous one)");
  rollback->add_option("id", *id, "the history id");
  rollback->add_flag("--json", *rollback_json, "print JSON");
  cli::set_action(rollback, [&context, id, rollback_json]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return platform::cmd_rollback(config, *id > 0 ? std::optional<int64_t>(*id) : std::nullopt, *rollback_json);
  });
}

} // namespace anemone::caddy_sync
