#include "anemone/platform/registry_commands.hpp"
#include "commands.hpp"

namespace anemone::caddy_sync {

namespace {

// `list [--json]` under a noun, calling list(config, json).
template <typename List> void add_list(CLI::App* noun, cli::ToolContext& context, const std::string& what, List list) {
  auto json = std::make_shared<bool>(false);
  auto* command = noun->add_subcommand("list", what);
  command->add_flag("--json", *json, "print JSON");
  cli::set_action(command, [&context, json, list]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return list(config, *json);
  });
}

// `remove NAME` under a noun.
template <typename Remove>
void add_remove(CLI::App* noun, cli::ToolContext& context, const std::string& what, Remove remove) {
  auto name = std::make_shared<std::string>();
  auto* command = noun->add_subcommand("remove", what);
  command->add_option("name", *name, "its name")->required();
  cli::set_action(command, [&context, name, remove]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return remove(config, *name);
  });
}

} // namespace

void set_apply_command(CLI::App& app, cli::ToolContext& context) {
  auto options = std::make_shared<platform::ApplyOptions>();
  auto* command = app.add_subcommand("apply", "make the registry match a platform.yaml (prints what changes)");
  command->add_option("file", options->file, "the platform file")->required();
  command->add_flag("--prune", options->prune, "also remove sites, services and backends the file does not declare");
  command->add_flag("--dry-run", options->dry_run, "print the changes, write nothing");
  command->add_flag("--json", options->json, "print JSON");
  cli::set_action(command, [&context, options]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return platform::cmd_apply(config, *options);
  });
}

void set_site_commands(CLI::App& app, cli::ToolContext& context) {
  auto* site = app.add_subcommand("site", "the sites backends run on");
  site->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  auto* add = site->add_subcommand("add", "add a site");
  add->add_option("name", *name, "the site's name")->required();
  cli::set_action(add, [&context, name]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return platform::cmd_site_add(config, *name);
  });
  add_remove(site, context, "remove a site (it must have no backends)", platform::cmd_site_remove);
  add_list(site, context, "list the sites", platform::cmd_site_list);
}

void set_service_commands(CLI::App& app, cli::ToolContext& context) {
  auto* service = app.add_subcommand("service", "the public services (domains) Caddy routes");
  service->require_subcommand(1);
  auto o = std::make_shared<platform::ServiceAddOptions>();
  auto* add = service->add_subcommand("add", "add a service");
  add->add_option("name", o->name, "the service's name")->required();
  add->add_option("--domain", o->domains, "a domain it answers (repeat for several)")->required();
  add->add_option("--policy", o->policy, "round_robin (default), failover, least_conn or ip_hash");
  add->add_option("--health-path", o->health_path, "the path probed on every backend (default /health)");
  add->add_option("--interval", o->interval, "between probes (default 5s)");
  add->add_option("--timeout", o->timeout, "of one probe (default 2s)");
  add->add_option("--rise", o->rise, "passes in a row before a backend is up (default 2)");
  add->add_option("--fall", o->fall, "failures in a row before a backend is down (default 3)");
  add->add_option("--expect-status", o->expect_status, "the HTTP status a healthy backend answers (default 200)");
  cli::set_action(add, [&context, o]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return platform::cmd_service_add(config, *o);
  });
  add_remove(service, context, "remove a service and its backends", platform::cmd_service_remove);
  add_list(service, context, "list the services", platform::cmd_service_list);
}

void set_backend_commands(CLI::App& app, cli::ToolContext& context) {
  auto* backend = app.add_subcommand("backend", "the backends of the services");
  backend->require_subcommand(1);
  auto o = std::make_shared<platform::BackendAddOptions>();
  auto* add = backend->add_subcommand("add", "add a backend to a service");
  add->add_option("service", o->service, "the service")->required();
  add->add_option("--site", o->site, "the site it runs on")->required();
  add->add_option("--addr", o->addr, "its address (IPv4, IPv6 or host name)")->required();
  add->add_option("--port", o->port, "its port")->required();
  add->add_option("--name", o->name, "its name (default SERVICE/ADDR:PORT)");
  add->add_option("--priority", o->priority, "failover order, lowest first (default 1)");
  add->add_option("--weight", o->weight, "share of requests, 1..100 (default 1)");
  add->add_option("--tag", o->tags, "a tag (repeat for several)");
  add->add_flag("--tls", o->tls, "the backend speaks HTTPS");
  cli::set_action(add, [&context, o]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return platform::cmd_backend_add(config, *o);
  });
  add_remove(backend, context, "remove a backend", platform::cmd_backend_remove);

  auto service = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* list = backend->add_subcommand("list", "list the backends");
  list->add_option("--service", *service, "only this service's");
  list->add_flag("--json", *json, "print JSON");
  cli::set_action(list, [&context, service, json]() -> core::Result<void> {
    auto config = TRY(context.load_config());
    return platform::cmd_backend_list(config, *service, *json);
  });

  for (bool drained : {true, false}) {
    auto name = std::make_shared<std::string>();
    auto* command = backend->add_subcommand(drained ? "drain" : "undrain",
                                            drained ? "take a backend out of rotation, keeping it registered"
                                                    : "put a drained backend back in rotation");
    command->add_option("name", *name, "the backend's name")->required();
    cli::set_action(command, [&context, name, drained]() -> core::Result<void> {
      auto config = TRY(context.load_config());
      return platform::cmd_backend_drain(config, *name, drained);
    });
  }
}

} // namespace anemone::caddy_sync
