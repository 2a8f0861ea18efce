#pragma once
#include <string>
#include <vector>

namespace anemone::state {
// Step i brings the schema from version i to i+1. Append only; never edit a released step.
const std::vector<std::string>& migrations();
} // namespace anemone::state
