#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace anemone::core {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}
inline std::string_view as_chars(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string to_hex(ByteView bytes);
std::optional<Bytes> from_hex(std::string_view hex);

// "1.5 GiB", "512 B".
std::string format_bytes(uint64_t bytes);
// "50G", "10GiB", "512M", "100K", "1T", "123" (bytes): binary units.
std::optional<uint64_t> parse_size(std::string_view text);

void put_u32le(Bytes& out, uint32_t value);
void put_u64le(Bytes& out, uint64_t value);
uint32_t get_u32le(const uint8_t* p);
uint64_t get_u64le(const uint8_t* p);

} // namespace anemone::core
