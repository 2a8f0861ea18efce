#pragma once
// Expected failures travel as values: Result<T> holds either a T or an Error whose code maps onto
// the one exit-code table that all six tools share.
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <tl/expected.hpp>

namespace anemone::core {

enum class Errc {
  failed,           // anything without a more precise code
  usage,            // bad command line
  config,           // bad configuration file or value
  io,               // a read or write failed
  no_space,         // the disk is full
  not_found,        // a file or object does not exist
  already_exists,   // refusing to overwrite
  corrupt,          // data that fails authentication or does not parse
  repo_missing,     // no repository at the target
  locked,           // the repository is locked by another process
  wrong_passphrase, // the passphrase opens no key of the repository
  auth,             // authentication refused (ssh)
  partial,          // some targets failed, others did not
  quota_exceeded,   // a peer refuses more data: its quota is used up
  interrupted,      // SIGINT/SIGTERM
};

enum class ExitCode : int {
  ok = 0,
  failed = 1,
  usage = 2,
  partial = 3,
  repo_missing = 10,
  locked = 11,
  auth = 12,
  interrupted = 130,
};

// The table printed in every tool's --help and in README.
inline constexpr std::string_view k_exit_code_table =
    "Exit codes: 0 ok, 1 failed, 2 usage or config error, 3 partly done (some targets failed),\n"
    "10 repository missing, 11 locked, 12 wrong passphrase or authentication, 130 interrupted.";

ExitCode exit_code_for(Errc code);
std::string_view errc_name(Errc code);

class Error {
public:
  Error(Errc code, std::string message) : m_code(code), m_message(std::move(message)) {}

  Errc code() const { return m_code; }
  const std::string& message() const { return m_message; }

  // Prefixes the message with what was being done: "loading index 3f2a…: read failed".
  Error context(std::string_view what) const& { return Error(m_code, fmt::format("{}: {}", what, m_message)); }
  Error context(std::string_view what) && {
    m_message = fmt::format("{}: {}", what, m_message);
    return std::move(*this);
  }

private:
  Errc m_code;
  std::string m_message;
};

template <typename T> using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Errc code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}
template <typename... Args>
tl::unexpected<Error> fail(Errc code, fmt::format_string<Args...> format, Args&&... args) {
  return tl::unexpected<Error>(Error(code, fmt::format(format, std::forward<Args>(args)...)));
}

// Errno-based failure with the system's message: "open /x: No such file or directory".
tl::unexpected<Error> fail_errno(std::string_view what, int error_number);

namespace detail {
// Yields the value of a Result, or nothing for Result<void> (tl::expected<void> has no value()).
template <typename T> T take_value(tl::expected<T, Error>&& result) { return std::move(result).value(); }
inline void take_value(tl::expected<void, Error>&&) {}
} // namespace detail

} // namespace anemone::core

// TRY(expr): evaluates a Result; returns its error from the calling function, or yields its value.
#define ANEMONE_CONCAT_INNER(a, b) a##b
#define ANEMONE_CONCAT(a, b) ANEMONE_CONCAT_INNER(a, b)
#define TRY(expr)                                                                                  \
  ({                                                                                               \
    auto&& ANEMONE_CONCAT(try_result_, __LINE__) = (expr);                                         \
    if (!ANEMONE_CONCAT(try_result_, __LINE__))                                                    \
      return tl::unexpected<::anemone::core::Error>(                                               \
          std::move(ANEMONE_CONCAT(try_result_, __LINE__)).error());                               \
    ::anemone::core::detail::take_value(std::move(ANEMONE_CONCAT(try_result_, __LINE__)));         \
  })
// TRY_CTX(expr, context): as TRY, adding context to the error.
#define TRY_CTX(expr, ctx)                                                                         \
  ({                                                                                               \
    auto&& ANEMONE_CONCAT(try_result_, __LINE__) = (expr);                                         \
    if (!ANEMONE_CONCAT(try_result_, __LINE__))                                                    \
      return tl::unexpected<::anemone::core::Error>(                                               \
          std::move(ANEMONE_CONCAT(try_result_, __LINE__)).error().context(ctx));                  \
    ::anemone::core::detail::take_value(std::move(ANEMONE_CONCAT(try_result_, __LINE__)));         \
  })
