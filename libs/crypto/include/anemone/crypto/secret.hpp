#pragma once
// Secret material lives in sodium_malloc'd, locked, guarded memory and is wiped on release. It is
// never formatted: fmt prints it as "(hidden)".
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "anemone/core/bytes.hpp"
#include "anemone/core/error.hpp"

namespace anemone::crypto {

// Must run once before any other function here (each tool's main does it).
core::Result<void> init_sodium();

class SecretBytes {
public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size);
  static SecretBytes random(size_t size);
  static SecretBytes copy_of(core::ByteView data);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  uint8_t* data() { return m_data; }
  const uint8_t* data() const { return m_data; }
  size_t size() const { return m_size; }
  bool empty() const { return m_size == 0; }
  core::ByteView view() const { return {m_data, m_size}; }
  // Constant-time comparison.
  bool equals(const SecretBytes& other) const;

private:
  uint8_t* m_data = nullptr;
  size_t m_size = 0;
};

// A passphrase from a file (one trailing newline stripped). Errors never quote the content.
core::Result<SecretBytes> read_secret_file(const std::string& path);

} // namespace anemone::crypto

template <> struct fmt::formatter<anemone::crypto::SecretBytes> : fmt::formatter<std::string_view> {
  auto format(const anemone::crypto::SecretBytes&, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format("(hidden)", ctx);
  }
};
