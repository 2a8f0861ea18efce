#pragma once
// What commands print for people and scripts: results to stdout (diagnostics go to the log on
// stderr). print_json takes any JSON value with dump() (nlohmann::json), so core needs no JSON library.
#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace anemone::core {

template <typename Json> void print_json(const Json& value) {
  std::string text = value.dump(2) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

template <typename... Args> void print_line(fmt::format_string<Args...> f, Args&&... args) {
  fmt::print(stdout, f, std::forward<Args>(args)...);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

} // namespace anemone::core
