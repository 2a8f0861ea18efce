// libFuzzer target for the config parser: any text gets a Config or a located error, never a crash
// or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "anemone/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)anemone::config::parse_config(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  return 0;
}
