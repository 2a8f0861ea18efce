#include "anemone/mesh/identity.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include "anemone/core/command.hpp"
#include "anemone/core/fs.hpp"
#include "anemone/crypto/aead.hpp"
#include "anemone/ssh/sftp_session.hpp"

namespace anemone::mesh {

using core::Errc;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_endpoint_setting = "endpoint";

// Writes base64 of a secret and a newline, 0600; the text copy is wiped after.
core::Result<void> write_secret(const fs::path& path, const crypto::SecretBytes& secret) {
  std::string text = base64_encode(secret.view()) + "\n";
  core::AtomicFile file = TRY(core::AtomicFile::create(path, 0600));
  auto written = file.write(core::as_bytes(text));
  sodium_memzero(text.data(), text.size());
  TRY(written);
  return file.commit();
}

core::Result<crypto::SecretBytes> read_base64_secret(const fs::path& path, size_t size) {
  auto secret = TRY(crypto::read_secret_file(path.string()));
  std::string_view text(reinterpret_cast<const char*>(secret.data()), secret.size());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  auto bytes = base64_decode(text);
  if (!bytes || bytes->size() != size)
    return core::fail(Errc::corrupt, "{} does not hold a {}-byte base64 key", path.string(), size);
  auto out = crypto::SecretBytes::copy_of(*bytes);
  sodium_memzero(bytes->data(), bytes->size());
  return out;
}

core::Result<std::string> read_public_line(const fs::path& path) {
  auto text = TRY(core::read_file(path));
  std::string line(text.begin(), text.end());
  if (auto newline = line.find('\n'); newline != std::string::npos) line.resize(newline);
  // Type and base64 only: the comment is the local host's business.
  auto blob = TRY_CTX(ssh::public_key_blob(line), path.string());
  (void)blob;
  size_t first = line.find(' ');
  size_t second = line.find(' ', first + 1);
  return line.substr(0, second);
}

core::Result<bool> ensure_ssh_key(const fs::path& path, const std::string& comment) {
  if (fs::exists(path)) return false;
  TRY(core::run_checked({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path.string()}));
  ::chmod(path.c_str(), 0600);
  return true;
}

core::Result<std::optional<std::string>> setting(state::Db& db, std::string_view key) {
  auto stmt = TRY(db.prepare("SELECT value FROM mesh_settings WHERE key = ?"));
  stmt.bind(1, key);
  if (!TRY(stmt.step())) return std::optional<std::string>();
  return std::optional<std::string>(stmt.column_text(0));
}

} // namespace

IdentityFiles identity_files(const config::Config& config) {
  return {config.secrets_dir / "wireguard.key", config.secrets_dir / "id_ed25519",
          config.secrets_dir / "ssh_host_ed25519_key", config.secrets_dir / "invite_signing.key"};
}

core::Ipv4 derive_address(const core::Ipv4Net& subnet, std::string_view wg_public_b64) {
  std::string input = "anemone vpn address v1\n" + std::string(wg_public_b64);
  auto hash = crypto::plain_hash(core::as_bytes(input));
  uint64_t number = 0;
  for (int i = 0; i < 8; ++i) number = (number << 8) | hash[i];
  uint64_t hosts = subnet.size() - 2; // without the network and broadcast addresses
  return core::Ipv4{subnet.network.value + static_cast<uint32_t>(1 + number % hosts)};
}

core::Result<InitReport> init_identity(const config::Config& config, state::Db& db,
                                       const std::optional<std::string>& endpoint) {
  InitReport report;
  auto files = identity_files(config);
  TRY(core::make_directories(config.secrets_dir, 0700));
  if (!fs::exists(files.wireguard_key)) {
    auto key = generate_wireguard_private();
    TRY(write_secret(files.wireguard_key, key));
    report.created.push_back("WireGuard key " + files.wireguard_key.string());
  }
  if (TRY(ensure_ssh_key(files.ssh_user_key, config.server_name)))
    report.created.push_back("SSH user key " + files.ssh_user_key.string());
  if (TRY(ensure_ssh_key(files.ssh_host_key, config.server_name)))
    report.created.push_back("SSH host key " + files.ssh_host_key.string());
  if (!fs::exists(files.signing_key)) {
    auto key = generate_signing_key();
    TRY(write_secret(files.signing_key, key.seed));
    report.created.push_back("invitation signing key " + files.signing_key.string());
  }
  if (endpoint) {
    auto parsed = TRY(core::parse_endpoint(*endpoint));
    auto stmt = TRY(db.prepare("INSERT INTO mesh_settings(key, value) VALUES(?, ?) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
    stmt.bind(1, k_endpoint_setting).bind(2, parsed.str());
    TRY(stmt.run());
    report.created.push_back("endpoint " + parsed.str());
  }
  return report;
}

core::Result<Identity> load_identity(const config::Config& config, state::Db& db) {
  auto files = identity_files(config);
  for (const auto& path : {files.wireguard_key, files.ssh_user_key, files.ssh_host_key, files.signing_key})
    if (!fs::exists(path))
      return core::fail(Errc::not_found, "{} is missing; run `wg-peer-manager init` first", path.string());
  Identity identity;
  identity.name = config.server_name;
  identity.wg_private = TRY(read_base64_secret(files.wireguard_key, k_key_bytes));
  identity.wg_public = wireguard_public(identity.wg_private);
  identity.ssh_user_key = TRY(read_public_line(fs::path(files.ssh_user_key.string() + ".pub")));
  identity.ssh_user_key_file = files.ssh_user_key;
  identity.ssh_host_key = TRY(read_public_line(fs::path(files.ssh_host_key.string() + ".pub")));
  auto seed = TRY(read_base64_secret(files.signing_key, k_key_bytes));
  identity.signing = TRY(signing_key_from_seed(std::move(seed)));
  identity.subnet = TRY(core::parse_ipv4_net(config.wireguard.subnet));
  identity.address = config.wireguard.address ? *core::parse_ipv4(*config.wireguard.address)
                                              : derive_address(identity.subnet, identity.wg_public);
  identity.endpoint = config.wireguard.endpoint;
  if (auto stored = TRY(setting(db, k_endpoint_setting))) identity.endpoint = *stored;
  identity.sftp_port = config.sftp.port;
  return identity;
}

} // namespace anemone::mesh
