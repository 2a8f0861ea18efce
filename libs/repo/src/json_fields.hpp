#pragma once
// Typed reads of JSON numbers from repository metadata. nlohmann's get<T>() on a float or an
// out-of-range value is undefined behaviour (found by fuzzing); these say "corrupt" instead.
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "anemone/core/error.hpp"

namespace anemone::repo {

template <typename T>
core::Result<T> number_field(const nlohmann::json& object, const char* key, std::optional<T> fallback = std::nullopt) {
  if (!object.is_object() || !object.contains(key)) {
    if (fallback) return *fallback;
    return core::fail(core::Errc::corrupt, "field '{}' is missing", key);
  }
  const auto& value = object[key];
  if (value.is_number_unsigned()) {
    auto n = value.get<uint64_t>();
    if (n <= static_cast<uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(n);
  } else if (value.is_number_integer()) {
    auto n = value.get<int64_t>();
    if (n >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
        (n < 0 || static_cast<uint64_t>(n) <= static_cast<uint64_t>(std::numeric_limits<T>::max())))
      return static_cast<T>(n);
  }
  return core::fail(core::Errc::corrupt, "field '{}' is not an integer in range: {}", key, value.dump());
}

} // namespace anemone::repo
