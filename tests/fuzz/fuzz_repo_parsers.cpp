// libFuzzer target for every parser of data a peer could hand back: trees, snapshots, index files,
// key files, pack headers and sealed blobs. Each must reject garbage with an error, never crash.
#include <cstddef>
#include <cstdint>

#include <sodium.h>

#include "anemone/repo/blob.hpp"
#include "anemone/repo/index.hpp"
#include "anemone/repo/keys.hpp"
#include "anemone/repo/pack.hpp"
#include "anemone/repo/tree.hpp"

using namespace anemone;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool ready = sodium_init() >= 0;
  if (!ready || size == 0) return 0;
  core::ByteView input(data + 1, size - 1);
  static const auto key = crypto::SecretBytes::random(32);
  switch (data[0] % 6) {
  case 0: (void)repo::parse_tree(input); break;
  case 1: (void)repo::parse_snapshot(input, "fuzz"); break;
  case 2: (void)repo::Index::parse(input); break;
  case 3: (void)repo::describe_key_file(input); break;
  case 4: (void)repo::parse_pack_header(key, input, input.size()); break;
  case 5: (void)repo::decode_blob(key, input); break;
  }
  return 0;
}
