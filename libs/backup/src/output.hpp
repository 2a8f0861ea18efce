#pragma once
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "anemone/core/output.hpp"

namespace anemone::backup {

inline void print_json(const nlohmann::json& value) { core::print_json(value); }
using core::print_line;

// Bytes of a path for JSON: nlohmann::json rejects invalid UTF-8, so such names are escaped.
std::string printable_path(const std::string& path);

} // namespace anemone::backup
