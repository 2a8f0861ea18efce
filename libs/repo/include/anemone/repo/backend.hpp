#pragma once
// Where repository files live. Implementations: local directory (now), SFTP (issue 3). Every
// implementation passes the conformance suite in tests/unit/repo/backend_conformance.hpp.
//
// Contracts:
// - save() is atomic: a reader sees the whole file under its final name or nothing; the names are
//   content-addressed, so save() of an existing name may fail with Errc::already_exists.
// - remove() of a missing file succeeds (idempotent).
// - load() with length 0 reads to the end of the file.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anemone/core/bytes.hpp"
#include "anemone/core/error.hpp"
#include "anemone/ssh/sftp_session.hpp"

namespace anemone::repo {

enum class FileType { config, key, pack, index, snapshot, lock };
std::string_view file_type_name(FileType type);

struct FileInfo {
  std::string name;
  uint64_t size = 0;
};

class Backend {
public:
  virtual ~Backend() = default;
  // "local:/srv/anemone/repo", for messages.
  virtual std::string location() const = 0;
  // Creates the directory layout. Fails with already_exists when a repository config is there.
  virtual core::Result<void> create_layout() = 0;
  virtual core::Result<void> save(FileType type, const std::string& name, core::ByteView data) = 0;
  virtual core::Result<core::Bytes> load(FileType type, const std::string& name, uint64_t offset = 0,
                                         uint64_t length = 0) = 0;
  // Errc::not_found when missing.
  virtual core::Result<uint64_t> size(FileType type, const std::string& name) = 0;
  virtual core::Result<void> remove(FileType type, const std::string& name) = 0;
  virtual core::Result<std::vector<FileInfo>> list(FileType type) = 0;
  // Removes temporary files left by writers that died. `all` also removes those of live writers
  // (only under an exclusive lock).
  enum class Leftovers { dead_writers, all };
  virtual core::Result<size_t> remove_leftovers(Leftovers which) = 0;
};

std::unique_ptr<Backend> make_local_backend(const std::string& path);

// A repository under `root` on an SFTP server, over up to `connections` sessions opened on demand.
// A session whose transport fails is dropped and replaced on next use.
std::unique_ptr<Backend> make_sftp_backend(ssh::SshTarget target, std::string root, size_t connections);

// Decorator: retries operations that failed with Errc::io (a dropped connection, a timeout) with
// exponential backoff, `attempts` times in all. A save whose earlier attempt may have landed counts
// as done when the file is there with the right size. After one operation used up its attempts, the
// others fail at their first I/O error until something succeeds again (the peer is gone).
struct RetryPolicy {
  int attempts = 5;
  int first_delay_ms = 500;
};
std::unique_ptr<Backend> with_retries(std::unique_ptr<Backend> inner, RetryPolicy policy);

} // namespace anemone::repo
