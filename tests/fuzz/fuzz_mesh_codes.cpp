// libFuzzer target for the invitation and reply decoders: any text is a validated code or a clear
// error, never a crash, a hang, or a code whose fields were not checked.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <sodium.h>

#include "anemone/mesh/codes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool ready = sodium_init() >= 0;
  (void)ready;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)anemone::mesh::decode_invitation(text);
  (void)anemone::mesh::decode_reply(text);
  return 0;
}
