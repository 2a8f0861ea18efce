#include "anemone/core/error.hpp"

#include <cerrno>
#include <cstring>

namespace anemone::core {

ExitCode exit_code_for(Errc code) {
  switch (code) {
  case Errc::usage:
  case Errc::config: return ExitCode::usage;
  case Errc::partial:
  case Errc::quota_exceeded: return ExitCode::partial;
  case Errc::repo_missing: return ExitCode::repo_missing;
  case Errc::locked: return ExitCode::locked;
  case Errc::wrong_passphrase:
  case Errc::auth: return ExitCode::auth;
  case Errc::interrupted: return ExitCode::interrupted;
  default: return ExitCode::failed;
  }
}

std::string_view errc_name(Errc code) {
  switch (code) {
  case Errc::failed: return "failed";
  case Errc::usage: return "usage";
  case Errc::config: return "config";
  case Errc::io: return "io";
  case Errc::no_space: return "no_space";
  case Errc::not_found: return "not_found";
  case Errc::already_exists: return "already_exists";
  case Errc::corrupt: return "corrupt";
  case Errc::repo_missing: return "repo_missing";
  case Errc::locked: return "locked";
  case Errc::wrong_passphrase: return "wrong_passphrase";
  case Errc::auth: return "auth";
  case Errc::partial: return "partial";
  case Errc::quota_exceeded: return "quota_exceeded";
  case Errc::interrupted: return "interrupted";
  }
  return "failed";
}

tl::unexpected<Error> fail_errno(std::string_view what, int error_number) {
  Errc code = Errc::io;
  if (error_number == ENOSPC || error_number == EDQUOT) code = Errc::no_space;
  else if (error_number == ENOENT) code = Errc::not_found;
  else if (error_number == EEXIST) code = Errc::already_exists;
  return fail(code, fmt::format("{}: {}", what, std::strerror(error_number)));
}

} // namespace anemone::core
