#pragma once
// Runs a system tool (ip, wg, wireguard-go, useradd, ssh-keygen) without a shell: argv goes to
// execvp as is, so no argument is ever parsed by a shell. Arguments must be validated names and
// addresses, never secrets: a command line is visible to every user of the machine (secrets go
// through `input`, the child's stdin, or a 0600 file).
#include <string>
#include <string_view>
#include <vector>

#include "anemone/core/error.hpp"

namespace anemone::core {

struct CommandOutput {
  int exit_code = 0; // 128 + signal when killed by one; 127 when it could not be started
  std::string out;
  std::string err;
};

Result<CommandOutput> run_command(const std::vector<std::string>& argv, std::string_view input = {});

// As run_command, but a non-zero exit is an error: "ip address add … failed (exit 2): <stderr>".
Result<std::string> run_checked(const std::vector<std::string>& argv, std::string_view input = {});

} // namespace anemone::core
