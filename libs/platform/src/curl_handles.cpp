#include "anemone/platform/curl_handles.hpp"

#include <mutex>

namespace anemone::platform {

void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

} // namespace anemone::platform
