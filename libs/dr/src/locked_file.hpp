#pragma once
// Reading a whole file into locked memory: key files, config, the state's copy.
#include <cstdint>
#include <filesystem>

#include "anemone/core/error.hpp"
#include "anemone/crypto/secret.hpp"

namespace anemone::dr {

struct LockedFile {
  crypto::SecretBytes bytes;
  uint32_t mode = 0; // permission bits
};
// A regular file only, never through a symlink; Errc::failed when larger than `limit`.
core::Result<LockedFile> read_locked_file(const std::filesystem::path& path, uint64_t limit);

} // namespace anemone::dr
