#pragma once
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace anemone::backup {

inline void print_json(const nlohmann::json& value) {
  std::string text = value.dump(2) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

template <typename... Args> void print_line(fmt::format_string<Args...> f, Args&&... args) {
  fmt::print(stdout, f, std::forward<Args>(args)...);
  std::fputc('\n', stdout);
}

// Bytes of a path for JSON: nlohmann::json rejects invalid UTF-8, so such names are escaped.
std::string printable_path(const std::string& path);

} // namespace anemone::backup
