#include "anemone/backup/targets.hpp"

#include <cstdlib>
#include <cstring>
#include <termios.h>
#include <unistd.h>

#include <fmt/ranges.h>

#include "anemone/core/log.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/mesh/store.hpp"

namespace anemone::backup {

using core::Errc;
using core::fail;

core::Result<crypto::SecretBytes> prompt_secret(const char* question) {
  if (::isatty(STDIN_FILENO) != 1) return fail(Errc::config, "no terminal to ask for a passphrase");
  std::fputs(question, stderr);
  std::fflush(stderr);
  termios old_mode{};
  bool restore = ::tcgetattr(STDIN_FILENO, &old_mode) == 0;
  if (restore) {
    termios silent = old_mode;
    silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent);
  }
  crypto::SecretBytes buffer(1024);
  size_t used = 0;
  char c = 0;
  while (used < buffer.size() && ::read(STDIN_FILENO, &c, 1) == 1 && c != '\n') buffer.data()[used++] = static_cast<uint8_t>(c);
  if (restore) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_mode);
  std::fputs("\n", stderr);
  if (used == 0) return fail(Errc::config, "empty passphrase");
  return crypto::SecretBytes::copy_of({buffer.data(), used});
}

core::Result<crypto::SecretBytes> resolve_passphrase_without_config(const std::string& file_option) {
  if (const char* value = std::getenv("ANEMONE_PASSPHRASE"); value && *value)
    return crypto::SecretBytes::copy_of(core::as_bytes(value));
  if (const char* file = std::getenv("ANEMONE_PASSPHRASE_FILE"); file && *file)
    return TRY_CTX(crypto::read_secret_file(file), "ANEMONE_PASSPHRASE_FILE");
  if (!file_option.empty()) return TRY_CTX(crypto::read_secret_file(file_option), "--passphrase-file");
  if (::isatty(STDIN_FILENO) == 1) return prompt_secret("Repository passphrase: ");
  return fail(Errc::usage, "no passphrase: pass --passphrase-file, or set ANEMONE_PASSPHRASE_FILE or ANEMONE_PASSPHRASE");
}

core::Result<crypto::SecretBytes> resolve_passphrase(const config::Config& config) {
  if (const char* value = std::getenv("ANEMONE_PASSPHRASE"); value && *value)
    return crypto::SecretBytes::copy_of(core::as_bytes(value));
  if (const char* file = std::getenv("ANEMONE_PASSPHRASE_FILE"); file && *file)
    return TRY_CTX(crypto::read_secret_file(file), "ANEMONE_PASSPHRASE_FILE");
  if (config.passphrase_file)
    return TRY_CTX(crypto::read_secret_file(config.passphrase_file->string()), "backup.passphrase_file");
  if (::isatty(STDIN_FILENO) == 1) return prompt_secret("Repository passphrase: ");
  return fail(Errc::config,
              "no passphrase: set backup.passphrase_file in {}, or ANEMONE_PASSPHRASE_FILE or ANEMONE_PASSPHRASE",
              config.file.string());
}

core::Result<crypto::SecretBytes> resolve_new_passphrase(const std::string& file_option) {
  if (const char* file = std::getenv("ANEMONE_NEW_PASSPHRASE_FILE"); file && *file)
    return TRY_CTX(crypto::read_secret_file(file), "ANEMONE_NEW_PASSPHRASE_FILE");
  if (!file_option.empty()) return TRY_CTX(crypto::read_secret_file(file_option), "--new-passphrase-file");
  auto first = TRY(prompt_secret("New passphrase: "));
  auto second = TRY(prompt_secret("New passphrase again: "));
  if (!first.equals(second)) return fail(Errc::usage, "the two passphrases differ");
  return first;
}

core::Result<std::vector<const config::Target*>> select_targets(const config::Config& config,
                                                                const std::optional<std::string>& name) {
  std::vector<const config::Target*> targets;
  std::vector<std::string> names;
  for (const auto& target : config.targets) {
    names.push_back(target.name);
    if (!name || target.name == *name) targets.push_back(&target);
  }
  if (name && targets.empty())
    return fail(Errc::usage, "no target named '{}' in {} (targets: {})", *name, config.file.string(),
                names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")));
  if (targets.empty()) return fail(Errc::config, "{} declares no backup.targets", config.file.string());
  return targets;
}

core::Result<const config::Target*> single_target(const config::Config& config, const std::optional<std::string>& name) {
  auto targets = TRY(select_targets(config, name));
  if (targets.size() > 1) return fail(Errc::usage, "several targets are configured: choose one with --target");
  return targets.front();
}

core::Result<std::unique_ptr<repo::Backend>> open_backend(const config::Target& target) {
  switch (target.type) {
  case config::TargetType::local: return repo::make_local_backend(target.path.string());
  case config::TargetType::sftp: {
    ssh::SshTarget peer;
    peer.host = target.host;
    peer.port = target.port;
    peer.user = target.user;
    peer.identity_file = target.identity_file;
    peer.host_key = target.host_key;
    // A dropped connection is retried with backoff; packs already stored are not sent again
    // (their names are in the index or they are found on the retried save).
    return repo::with_retries(repo::make_sftp_backend(std::move(peer), target.path.string(),
                                                      static_cast<size_t>(target.connections)),
                              {});
  }
  }
  return fail(Errc::config, "target {}: unknown type", target.name);
}

core::Result<std::unique_ptr<repo::Repository>> open_repository(const config::Target& target,
                                                                const crypto::SecretBytes& passphrase) {
  auto backend = TRY(open_backend(target));
  auto repository = TRY_CTX(repo::Repository::open(std::move(backend), passphrase), target.name);
  if (target.type == config::TargetType::sftp) repository->set_upload_threads(static_cast<size_t>(target.connections));
  return repository;
}

core::Result<OpenTarget> open_single_target(const config::Config& config, const std::optional<std::string>& name,
                                            IndexLoad index) {
  OpenTarget opened;
  opened.target = TRY(single_target(config, name));
  auto passphrase = TRY(resolve_passphrase(config));
  opened.repository = TRY(open_repository(*opened.target, passphrase));
  if (index == IndexLoad::yes) TRY_CTX(opened.repository->load_index(), opened.target->name);
  return opened;
}

core::Result<config::Config> with_peer_targets(core::Result<config::Config> loaded) {
  auto config = TRY(std::move(loaded));
  for (auto& target : TRY(mesh::peer_targets(config))) {
    if (config.find_target(target.name))
      return fail(Errc::config, "{}: target '{}' has the name of a mesh peer; rename the target", config.file.string(),
                  target.name);
    config.targets.push_back(std::move(target));
  }
  return config;
}

core::Result<core::FileLock> lock_site(const config::Config& config, bool wait) {
  if (config.state_path.has_parent_path()) TRY(core::make_directories(config.state_path.parent_path(), 0700));
  std::string path = config.state_path.string() + ".run.lock";
  auto lock = core::FileLock::acquire(path, core::FileLock::Wait::no);
  if (!lock && lock.error().code() == Errc::locked && wait) {
    core::log_info("another backup-sender run holds this site; waiting for it to finish");
    lock = core::FileLock::acquire(path, core::FileLock::Wait::yes);
  }
  if (!lock && lock.error().code() == Errc::locked)
    return core::fail(Errc::locked, "another backup-sender run is in progress on this site ({}); "
                                    "use --wait to wait for it", lock.error().message());
  return lock;
}

} // namespace anemone::backup
