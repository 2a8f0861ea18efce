#pragma once
// Names of repository files and of uploads in progress, shared by every backend.
#include <string>

namespace anemone::repo {

// Hex ids only: nothing that could climb out of the repository directory.
bool valid_file_name(const std::string& name);
// "<host tag>-<pid>-<random>": a later run can tell a dead writer's leftovers from a live upload.
std::string new_temp_name();
// Whether a temporary file was left by a process of this host that no longer runs.
bool temp_owner_is_dead(const std::string& name);

} // namespace anemone::repo
