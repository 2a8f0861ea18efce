#pragma once
// One authenticated SFTP session over SSH (libssh2): key authentication only, and the server's host
// key always checked against a pinned one before anything is sent. The session owns its socket; the
// library guard outlives every session.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "anemone/core/bytes.hpp"
#include "anemone/core/error.hpp"

struct _LIBSSH2_SFTP_HANDLE; // libssh2.h stays out of this header
typedef struct _LIBSSH2_SFTP_HANDLE LIBSSH2_SFTP_HANDLE;

namespace anemone::ssh {

struct SshTarget {
  std::string host;
  int port = 22;
  std::string user;
  std::filesystem::path identity_file; // OpenSSH private key (ed25519), no passphrase
  std::string host_key;                // "ssh-ed25519 AAAA…" (the public key line, optional comment)
  int timeout_ms = 30000;
  // Instead of identity_file: the private key's OpenSSH text in memory (a key derived on the spot,
  // never written to disk). Only a view: the caller's buffer must outlive connect().
  core::ByteView identity_key{};
  std::string describe() const; // "site-a@10.8.0.2:22222"
};

struct RemoteEntry {
  std::string name;
  uint64_t size = 0;
  bool regular = false;
  bool directory = false;
};

class SftpSession {
public:
  // Errc::auth for a host key mismatch or refused authentication; Errc::io when unreachable.
  static core::Result<std::unique_ptr<SftpSession>> connect(const SshTarget& target);
  ~SftpSession();
  SftpSession(const SftpSession&) = delete;
  SftpSession& operator=(const SftpSession&) = delete;

  // Creates `path` exclusively, writes `data` in large pieces (libssh2 pipelines big buffers),
  // fsyncs when the server offers fsync@openssh.com, closes.
  core::Result<void> write_new_file(const std::string& path, core::ByteView data);
  // length 0: to the end of the file. A range past the end is an error (Errc::corrupt).
  core::Result<core::Bytes> read_file(const std::string& path, uint64_t offset, uint64_t length);
  core::Result<uint64_t> file_size(const std::string& path);
  core::Result<void> remove_file(const std::string& path);
  // Fails (Errc::already_exists) when `to` exists: SFTP v3 rename never overwrites.
  core::Result<void> rename(const std::string& from, const std::string& to);
  core::Result<void> make_directory(const std::string& path);
  core::Result<std::vector<RemoteEntry>> list_directory(const std::string& path);
  // True when the transport failed (the session must be replaced); false after file-level errors.
  bool broken() const { return m_broken; }
  const SshTarget& target() const { return m_target; }

private:
  struct Handles;
  friend core::Result<std::string> fetch_host_key(const std::string& host, int port, int timeout_ms);
  SftpSession(SshTarget target, std::unique_ptr<Handles> handles);
  core::Error error(std::string_view what);
  void close_unless_dead(LIBSSH2_SFTP_HANDLE* handle);
  SshTarget m_target;
  std::unique_ptr<Handles> m_handles;
  bool m_broken = false;
  bool m_fsync_supported = true;
};

// Connects and completes the SSH handshake only, to learn the key a server offers (for a person to
// confirm before trusting it): "ssh-ed25519 AAAA…". Nothing is authenticated or sent.
core::Result<std::string> fetch_host_key(const std::string& host, int port, int timeout_ms = 15000);

// The key blob of an OpenSSH public key line "<type> <base64> [comment]" (Errc::usage when the line is
// not of that shape or the base64 is invalid).
core::Result<core::Bytes> public_key_blob(const std::string& line);

// The SHA256 fingerprint OpenSSH prints for a public key blob: "SHA256:…".
std::string fingerprint(core::ByteView key_blob);

} // namespace anemone::ssh
