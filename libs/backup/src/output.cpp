#include "output.hpp"

#include "anemone/core/bytes.hpp"

namespace anemone::backup {

std::string printable_path(const std::string& path) {
  try {
    (void)nlohmann::json(path).dump();
    return path;
  } catch (const nlohmann::json::exception&) {
    std::string out;
    for (unsigned char c : path) {
      if (c < 0x80) out.push_back(static_cast<char>(c));
      else out += fmt::format("\\x{:02x}", c);
    }
    return out;
  }
}

} // namespace anemone::backup
