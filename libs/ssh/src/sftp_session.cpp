#include "anemone/ssh/sftp_session.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <netdb.h>
#include <algorithm>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <sodium.h>

#include "anemone/core/fs.hpp"

namespace anemone::ssh {

using core::Errc;
using core::fail;

namespace {

// libssh2_init once for the process; libssh2_exit never runs while a session may exist.
bool library_ready() {
  static const bool ready = libssh2_init(0) == 0;
  return ready;
}

// Pieces of this size keep libssh2's SFTP write pipeline full.
constexpr size_t k_write_piece = 4 * 1024 * 1024;
constexpr size_t k_read_piece = 1024 * 1024;

constexpr int k_connect_timeout_ms = 10000;

core::Result<core::UniqueFd> tcp_connect(const SshTarget& target) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(target.port);
  int rc = ::getaddrinfo(target.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) return fail(Errc::io, "{}: cannot resolve {}: {}", target.describe(), target.host, gai_strerror(rc));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(found, ::freeaddrinfo);
  std::string last_error = "no address";
  for (addrinfo* address = found; address; address = address->ai_next) {
    core::UniqueFd fd(::socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, address->ai_protocol));
    if (!fd) continue;
    if (::connect(fd.get(), address->ai_addr, address->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last_error = std::strerror(errno);
      continue;
    }
    // A peer that is up answers a connect within a few round trips; waiting the whole I/O timeout
    // for one that is not only slows every retry (a dead tunnel drops the SYN silently).
    pollfd waiting{fd.get(), POLLOUT, 0};
    int ready = ::poll(&waiting, 1, std::min(target.timeout_ms, k_connect_timeout_ms));
    int socket_error = 0;
    socklen_t length = sizeof socket_error;
    if (ready <= 0) {
      last_error = ready == 0 ? "connection timed out" : std::strerror(errno);
      continue;
    }
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &socket_error, &length);
    if (socket_error != 0) {
      last_error = std::strerror(socket_error);
      continue;
    }
    int flags = ::fcntl(fd.get(), F_GETFL);
    ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    return fd;
  }
  return fail(Errc::io, "{}: cannot connect: {}", target.describe(), last_error);
}

} // namespace

core::Result<core::Bytes> public_key_blob(const std::string& line) {
  auto first_space = line.find(' ');
  if (first_space == std::string::npos) return fail(Errc::usage, "not an OpenSSH public key ('<type> <base64>')");
  std::string rest = line.substr(first_space + 1);
  std::string base64 = rest.substr(0, rest.find(' '));
  core::Bytes blob(base64.size());
  size_t length = 0;
  if (sodium_base642bin(blob.data(), blob.size(), base64.c_str(), base64.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return fail(Errc::usage, "the public key's base64 is not valid");
  blob.resize(length);
  return blob;
}

std::string SshTarget::describe() const { return fmt::format("{}@{}:{}", user, host, port); }

std::string fingerprint(core::ByteView key_blob) {
  uint8_t digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, key_blob.data(), key_blob.size());
  char text[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
  sodium_bin2base64(text, sizeof text, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  return std::string("SHA256:") + text;
}

struct SftpSession::Handles {
  core::UniqueFd socket;
  LIBSSH2_SESSION* session = nullptr;
  LIBSSH2_SFTP* sftp = nullptr;
  bool transport_dead = false;
  ~Handles() {
    // A goodbye over a dead transport would block for the whole timeout, twice: skip it and free.
    if (sftp && !transport_dead) libssh2_sftp_shutdown(sftp);
    if (session) {
      if (!transport_dead) libssh2_session_disconnect(session, "bye");
      libssh2_session_free(session);
    }
  }
};

SftpSession::SftpSession(SshTarget target, std::unique_ptr<Handles> handles)
    : m_target(std::move(target)), m_handles(std::move(handles)) {}
SftpSession::~SftpSession() = default;

core::Result<std::unique_ptr<SftpSession>> SftpSession::connect(const SshTarget& target) {
  if (!library_ready()) return fail(Errc::failed, "libssh2 failed to initialise");
  auto pinned = public_key_blob(target.host_key);
  if (!pinned) return fail(Errc::config, "{}: host_key: {}", target.describe(), pinned.error().message());
  auto handles = std::make_unique<Handles>();
  handles->socket = TRY(tcp_connect(target));
  handles->session = libssh2_session_init();
  if (!handles->session) return fail(Errc::failed, "libssh2_session_init failed");
  libssh2_session_set_blocking(handles->session, 1);
  libssh2_session_set_timeout(handles->session, target.timeout_ms);
  if (libssh2_session_handshake(handles->session, handles->socket.get()) != 0) {
    char* message = nullptr;
    libssh2_session_last_error(handles->session, &message, nullptr, 0);
    return fail(Errc::io, "{}: SSH handshake failed: {}", target.describe(), message ? message : "?");
  }
  // The host key is checked before authenticating: nothing of ours reaches a wrong server.
  size_t key_length = 0;
  int key_type = 0;
  const char* key = libssh2_session_hostkey(handles->session, &key_length, &key_type);
  core::ByteView offered(reinterpret_cast<const uint8_t*>(key), key ? key_length : 0);
  if (!key || offered.size() != pinned->size() || sodium_memcmp(offered.data(), pinned->data(), pinned->size()) != 0)
    return fail(Errc::auth, "{}: host key mismatch: the server offered {}, the pinned key is {}; refusing to connect",
                target.describe(), key ? fingerprint(offered) : "none", fingerprint(*pinned));
  std::string identity = target.identity_key.empty() ? target.identity_file.string() : "a key held in memory";
  int auth = target.identity_key.empty()
                 ? libssh2_userauth_publickey_fromfile_ex(handles->session, target.user.c_str(),
                                                          static_cast<unsigned>(target.user.size()), nullptr,
                                                          identity.c_str(), nullptr)
                 : libssh2_userauth_publickey_frommemory(
                       handles->session, target.user.c_str(), target.user.size(), nullptr, 0,
                       reinterpret_cast<const char*>(target.identity_key.data()), target.identity_key.size(),
                       ""); // libssh2 1.10 takes strlen of this one even when the key has no passphrase
  if (auth != 0) {
    char* message = nullptr;
    libssh2_session_last_error(handles->session, &message, nullptr, 0);
    return fail(Errc::auth, "{}: key authentication with {} refused: {}", target.describe(), identity,
                message ? message : "?");
  }
  handles->sftp = libssh2_sftp_init(handles->session);
  if (!handles->sftp)
    return fail(Errc::io, "{}: the server refused the SFTP subsystem", target.describe());
  return std::unique_ptr<SftpSession>(new SftpSession(target, std::move(handles)));
}

core::Result<std::string> fetch_host_key(const std::string& host, int port, int timeout_ms) {
  if (!library_ready()) return fail(Errc::failed, "libssh2 failed to initialise");
  SshTarget target;
  target.host = host;
  target.port = port;
  target.user = "(host key only)";
  target.timeout_ms = timeout_ms;
  auto handles = std::make_unique<SftpSession::Handles>();
  handles->socket = TRY(tcp_connect(target));
  handles->session = libssh2_session_init();
  if (!handles->session) return fail(Errc::failed, "libssh2_session_init failed");
  libssh2_session_set_blocking(handles->session, 1);
  libssh2_session_set_timeout(handles->session, timeout_ms);
  // Only the key type our receivers have, so the key seen here is the one a session pins.
  libssh2_session_method_pref(handles->session, LIBSSH2_METHOD_HOSTKEY, "ssh-ed25519");
  if (libssh2_session_handshake(handles->session, handles->socket.get()) != 0) {
    char* message = nullptr;
    libssh2_session_last_error(handles->session, &message, nullptr, 0);
    return fail(Errc::io, "{}:{}: SSH handshake failed: {}", host, port, message ? message : "?");
  }
  size_t key_length = 0;
  int key_type = 0;
  const char* key = libssh2_session_hostkey(handles->session, &key_length, &key_type);
  if (!key || key_type != LIBSSH2_HOSTKEY_TYPE_ED25519)
    return fail(Errc::auth, "{}:{} offers no ed25519 host key", host, port);
  char text[sodium_base64_ENCODED_LEN(256, sodium_base64_VARIANT_ORIGINAL)];
  if (key_length > 256) return fail(Errc::auth, "{}:{}: the host key is too long", host, port);
  sodium_bin2base64(text, sizeof text, reinterpret_cast<const unsigned char*>(key), key_length,
                    sodium_base64_VARIANT_ORIGINAL);
  return std::string("ssh-ed25519 ") + text;
}

// Closing a handle over a dead transport would wait out the timeout for nothing; the session is
// freed without ceremony then (see Handles).
void SftpSession::close_unless_dead(LIBSSH2_SFTP_HANDLE* handle) {
  if (!m_handles->transport_dead) libssh2_sftp_close_handle(handle);
}

core::Error SftpSession::error(std::string_view what) {
  int session_error = libssh2_session_last_errno(m_handles->session);
  if (session_error == LIBSSH2_ERROR_SFTP_PROTOCOL) {
    unsigned long status = libssh2_sftp_last_error(m_handles->sftp);
    switch (status) {
    case LIBSSH2_FX_NO_SUCH_FILE: return core::Error(Errc::not_found, fmt::format("{}: no such file", what));
    case LIBSSH2_FX_FILE_ALREADY_EXISTS: return core::Error(Errc::already_exists, fmt::format("{}: already exists", what));
    case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
    case LIBSSH2_FX_QUOTA_EXCEEDED: return core::Error(Errc::no_space, fmt::format("{}: no space left on the peer", what));
    // Not transient: retrying a refused write (a peer over quota) only delays the answer.
    case LIBSSH2_FX_PERMISSION_DENIED: return core::Error(Errc::failed, fmt::format("{}: permission denied", what));
    default: return core::Error(Errc::io, fmt::format("{}: SFTP status {}", what, status));
    }
  }
  char* message = nullptr;
  libssh2_session_last_error(m_handles->session, &message, nullptr, 0);
  m_broken = true; // anything but an SFTP status means the transport is gone
  m_handles->transport_dead = true;
  return core::Error(Errc::io, fmt::format("{}: connection to {} failed: {}", what, m_target.describe(),
                                           message ? message : "?"));
}

core::Result<void> SftpSession::write_new_file(const std::string& path, core::ByteView data) {
  LIBSSH2_SFTP_HANDLE* handle =
      libssh2_sftp_open_ex(m_handles->sftp, path.c_str(), static_cast<unsigned>(path.size()),
                           LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL, 0600, LIBSSH2_SFTP_OPENFILE);
  if (!handle) return tl::unexpected(error("create " + path));
  size_t done = 0;
  while (done < data.size()) {
    size_t piece = std::min(k_write_piece, data.size() - done);
    ssize_t written = libssh2_sftp_write(handle, reinterpret_cast<const char*>(data.data() + done), piece);
    if (written < 0) {
      auto failure = error("write " + path);
      close_unless_dead(handle);
      return tl::unexpected(failure);
    }
    done += static_cast<size_t>(written);
  }
  if (m_fsync_supported && libssh2_sftp_fsync(handle) != 0) {
    bool unsupported = libssh2_session_last_errno(m_handles->session) == LIBSSH2_ERROR_SFTP_PROTOCOL &&
                       libssh2_sftp_last_error(m_handles->sftp) == LIBSSH2_FX_OP_UNSUPPORTED;
    if (unsupported) {
      m_fsync_supported = false; // the server lacks fsync@openssh.com: the rename still orders writes
    } else {
      auto failure = error("fsync " + path);
      close_unless_dead(handle);
      return tl::unexpected(failure);
    }
  }
  if (libssh2_sftp_close_handle(handle) != 0) return tl::unexpected(error("close " + path));
  return {};
}

core::Result<core::Bytes> SftpSession::read_file(const std::string& path, uint64_t offset, uint64_t length) {
  LIBSSH2_SFTP_HANDLE* handle = libssh2_sftp_open_ex(m_handles->sftp, path.c_str(), static_cast<unsigned>(path.size()),
                                                     LIBSSH2_FXF_READ, 0, LIBSSH2_SFTP_OPENFILE);
  if (!handle) return tl::unexpected(error("open " + path));
  auto close = [this](LIBSSH2_SFTP_HANDLE* h) { close_unless_dead(h); };
  std::unique_ptr<LIBSSH2_SFTP_HANDLE, decltype(close)> guard(handle, close);
  if (length == 0) {
    LIBSSH2_SFTP_ATTRIBUTES attributes{};
    if (libssh2_sftp_fstat_ex(handle, &attributes, 0) != 0) return tl::unexpected(error("stat " + path));
    if (attributes.filesize < offset) return fail(Errc::corrupt, "{}: offset {} past the end", path, offset);
    length = attributes.filesize - offset;
  }
  libssh2_sftp_seek64(handle, offset);
  core::Bytes out(length);
  size_t done = 0;
  while (done < length) {
    ssize_t n = libssh2_sftp_read(handle, reinterpret_cast<char*>(out.data() + done), std::min(k_read_piece, length - done));
    if (n < 0) return tl::unexpected(error("read " + path));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  if (done != length)
    return fail(Errc::corrupt, "{}: short read ({} of {} bytes at offset {})", path, done, length, offset);
  return out;
}

core::Result<uint64_t> SftpSession::file_size(const std::string& path) {
  LIBSSH2_SFTP_ATTRIBUTES attributes{};
  if (libssh2_sftp_stat_ex(m_handles->sftp, path.c_str(), static_cast<unsigned>(path.size()), LIBSSH2_SFTP_STAT,
                           &attributes) != 0)
    return tl::unexpected(error("stat " + path));
  return static_cast<uint64_t>(attributes.filesize);
}

core::Result<void> SftpSession::remove_file(const std::string& path) {
  if (libssh2_sftp_unlink_ex(m_handles->sftp, path.c_str(), static_cast<unsigned>(path.size())) != 0)
    return tl::unexpected(error("remove " + path));
  return {};
}

core::Result<void> SftpSession::rename(const std::string& from, const std::string& to) {
  // No OVERWRITE flag: the final name is content-addressed and must not exist yet.
  if (libssh2_sftp_rename_ex(m_handles->sftp, from.c_str(), static_cast<unsigned>(from.size()), to.c_str(),
                             static_cast<unsigned>(to.size()), LIBSSH2_SFTP_RENAME_ATOMIC | LIBSSH2_SFTP_RENAME_NATIVE) != 0)
    return tl::unexpected(error("rename " + from + " to " + to));
  return {};
}

core::Result<void> SftpSession::make_directory(const std::string& path) {
  if (libssh2_sftp_mkdir_ex(m_handles->sftp, path.c_str(), static_cast<unsigned>(path.size()), 0700) != 0) {
    auto failure = error("create directory " + path);
    // Servers report an existing directory as a plain failure; look before calling it an error.
    LIBSSH2_SFTP_ATTRIBUTES attributes{};
    if (!m_broken && libssh2_sftp_stat_ex(m_handles->sftp, path.c_str(), static_cast<unsigned>(path.size()),
                                          LIBSSH2_SFTP_STAT, &attributes) == 0 &&
        LIBSSH2_SFTP_S_ISDIR(attributes.permissions))
      return {};
    return tl::unexpected(failure);
  }
  return {};
}

core::Result<std::vector<RemoteEntry>> SftpSession::list_directory(const std::string& path) {
  LIBSSH2_SFTP_HANDLE* handle = libssh2_sftp_open_ex(m_handles->sftp, path.c_str(), static_cast<unsigned>(path.size()),
                                                     0, 0, LIBSSH2_SFTP_OPENDIR);
  if (!handle) return tl::unexpected(error("list " + path));
  auto close = [this](LIBSSH2_SFTP_HANDLE* h) { close_unless_dead(h); };
  std::unique_ptr<LIBSSH2_SFTP_HANDLE, decltype(close)> guard(handle, close);
  std::vector<RemoteEntry> entries;
  char name[1024];
  while (true) {
    LIBSSH2_SFTP_ATTRIBUTES attributes{};
    int n = libssh2_sftp_readdir_ex(handle, name, sizeof name, nullptr, 0, &attributes);
    if (n < 0) return tl::unexpected(error("list " + path));
    if (n == 0) break;
    std::string entry_name(name, static_cast<size_t>(n));
    if (entry_name == "." || entry_name == "..") continue;
    RemoteEntry entry;
    entry.name = std::move(entry_name);
    entry.size = attributes.filesize;
    entry.regular = LIBSSH2_SFTP_S_ISREG(attributes.permissions);
    entry.directory = LIBSSH2_SFTP_S_ISDIR(attributes.permissions);
    entries.push_back(std::move(entry));
  }
  return entries;
}

} // namespace anemone::ssh
