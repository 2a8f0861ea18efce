#include "temp_names.hpp"

#include <cstdlib>
#include <unistd.h>

#include <fmt/format.h>
#include <sodium.h>

#include "anemone/core/bytes.hpp"
#include "anemone/core/system.hpp"

namespace anemone::repo {

namespace {
const std::string& host_tag() {
  static const std::string tag = [] {
    auto host = core::host_name();
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const uint8_t*>(host.data()), host.size());
    return core::to_hex({digest, 4});
  }();
  return tag;
}
} // namespace

bool valid_file_name(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string new_temp_name() {
  uint8_t random[6];
  randombytes_buf(random, sizeof random);
  return fmt::format("{}-{}-{}", host_tag(), ::getpid(), core::to_hex(random));
}

bool temp_owner_is_dead(const std::string& name) {
  auto first = name.find('-');
  auto second = name.find('-', first == std::string::npos ? 0 : first + 1);
  if (first == std::string::npos || second == std::string::npos || name.substr(0, first) != host_tag()) return false;
  int pid = std::atoi(name.substr(first + 1, second - first - 1).c_str());
  return !core::process_alive(pid);
}

} // namespace anemone::repo
