#include "anemone/crypto/secret.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include <sodium.h>

#include "anemone/core/fs.hpp"

namespace anemone::crypto {

core::Result<void> init_sodium() {
  if (sodium_init() < 0) return core::fail(core::Errc::failed, "libsodium failed to initialise");
  return {};
}

SecretBytes::SecretBytes(size_t size) : m_size(size) {
  if (size == 0) return;
  m_data = static_cast<uint8_t*>(sodium_malloc(size));
  if (!m_data) throw std::bad_alloc();
  sodium_memzero(m_data, size);
}

SecretBytes SecretBytes::random(size_t size) {
  SecretBytes secret(size);
  randombytes_buf(secret.data(), size);
  return secret;
}

SecretBytes SecretBytes::copy_of(core::ByteView data) {
  SecretBytes secret(data.size());
  if (!data.empty()) std::copy(data.begin(), data.end(), secret.data());
  return secret;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    if (m_data) sodium_free(m_data);
    m_data = std::exchange(other.m_data, nullptr);
    m_size = std::exchange(other.m_size, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() {
  if (m_data) sodium_free(m_data);
}

bool SecretBytes::equals(const SecretBytes& other) const {
  return m_size == other.m_size && (m_size == 0 || sodium_memcmp(m_data, other.m_data, m_size) == 0);
}

core::Result<SecretBytes> read_secret_file(const std::string& path) {
  core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return core::fail_errno(fmt::format("open secret file {}", path), errno);
  SecretBytes buffer(4097); // one byte more than allowed, to tell "too large" apart
  size_t used = 0;
  while (used < buffer.size()) {
    ssize_t n = ::read(fd.get(), buffer.data() + used, buffer.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return core::fail_errno(fmt::format("read secret file {}", path), errno);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used == buffer.size()) return core::fail(core::Errc::config, "secret file {} is larger than 4 KiB", path);
  if (used > 0 && buffer.data()[used - 1] == '\n') --used;
  if (used > 0 && buffer.data()[used - 1] == '\r') --used;
  if (used == 0) return core::fail(core::Errc::config, "secret file {} is empty", path);
  return SecretBytes::copy_of({buffer.data(), used});
}

} // namespace anemone::crypto
