// libFuzzer target for what config-restore reads from a peer: the config backup's structure
// (magic, header, size, checksum) and, behind the encryption, the bundle's manifest and entries.
// The first byte picks the parser; for the bundle the rest is the plaintext, compressed here, so the
// fuzzer explores the manifest rather than zstd. Any input is a clear error or a checked bundle.
#include <cstddef>
#include <cstdint>

#include <sodium.h>
#include <zstd.h>

#include "anemone/dr/bundle.hpp"
#include "anemone/dr/sealed_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool ready = sodium_init() >= 0;
  (void)ready;
  if (size == 0) return 0;
  anemone::core::ByteView rest(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    (void)anemone::dr::check_config_backup_structure(rest);
  } else {
    anemone::core::Bytes packed(ZSTD_compressBound(rest.size()));
    size_t length = ZSTD_compress(packed.data(), packed.size(), rest.data(), rest.size(), 1);
    if (ZSTD_isError(length)) return 0;
    packed.resize(length);
    if (auto bundle = anemone::dr::unpack_bundle(packed))
      for (const auto& entry : bundle->entries)
        if (!anemone::dr::valid_entry_name(entry.name)) __builtin_trap(); // unpack must have refused it
  }
  return 0;
}
