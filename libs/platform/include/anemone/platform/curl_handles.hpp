#pragma once
// libcurl behind RAII: the global init once per process, easy and multi handles that clean up.
#include <memory>

#include <curl/curl.h>

namespace anemone::platform {

// curl_global_init is not thread-safe; every user of libcurl calls this first (idempotent).
void ensure_curl_initialised();

struct CurlEasyCleanup {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct CurlMultiCleanup {
  void operator()(CURLM* handle) const { curl_multi_cleanup(handle); }
};
struct CurlSlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyCleanup>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiCleanup>;
using CurlHeaders = std::unique_ptr<curl_slist, CurlSlistFree>;

} // namespace anemone::platform
