#include <cstdlib>
#include "anemone/cli/tool.hpp"

#include <cstdio>
#include <malloc.h>

#include "anemone/core/log.hpp"
#include "anemone/core/system.hpp"
#include "anemone/crypto/secret.hpp"

namespace anemone::cli {

namespace {
// The action that ran, and its outcome; set by set_action's callback.
std::function<core::Result<void>()>* g_pending = nullptr;
std::optional<core::Error> g_error;
std::string g_tool;

int report(const core::Error& error) {
  std::fprintf(stderr, "%s: error: %s\n", g_tool.c_str(), error.message().c_str());
  return static_cast<int>(core::exit_code_for(error.code()));
}
} // namespace

core::Result<config::Config> ToolContext::load_config() const {
  return config::load_config(config::resolve_config_path(config_option));
}

void set_action(CLI::App* command, std::function<core::Result<void>()> action) {
  command->callback([action = std::move(action)]() {
    auto result = action();
    if (!result) g_error = result.error();
  });
}

int run_tool(int argc, char** argv, const std::string& name, const std::string& description, const ToolSetup& setup) {
  g_tool = name;
  // Buffers of a pack's size are mapped and unmapped, never left in the heap (a fixed threshold
  // also stops glibc from raising it after the first free).
  ::mallopt(M_MMAP_THRESHOLD, 4 << 20);
  if (auto ok = crypto::init_sodium(); !ok) return report(ok.error());
  // ANEMONE_LOG_LEVEL=debug shows why optional steps were skipped (e.g. no quota read from a peer).
  const char* level = std::getenv("ANEMONE_LOG_LEVEL");
  core::log_init(name, level && std::string_view(level) == "debug" ? core::LogLevel::debug : core::LogLevel::info);
  core::install_interrupt_handlers();
  CLI::App app(description, name);
  app.footer(std::string(core::k_exit_code_table));
  app.set_version_flag("--version", fmt::format("{} (anemone) {}", name, k_version));
  app.require_subcommand(1);
  app.fallthrough();
  ToolContext context;
  app.add_option("--config", context.config_option,
                 "configuration file (default: $ANEMONE_CONFIG, else /config/config.yaml)");
  try {
    setup(app, context);
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? 0 : static_cast<int>(core::ExitCode::usage);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: internal error: %s\n", name.c_str(), error.what());
    return static_cast<int>(core::ExitCode::failed);
  }
  (void)g_pending;
  if (g_error) return report(*g_error);
  return 0;
}

} // namespace anemone::cli
