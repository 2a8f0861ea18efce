#pragma once
// One scratch directory per test under the build tree's tmp; kept when the test fails so the
// evidence stays, removed when it passes.
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace anemone::test {

class ScratchDir {
public:
  ScratchDir() {
    std::string name = Catch::getResultCapture().getCurrentTestName();
    for (auto& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    auto base = std::filesystem::temp_directory_path() / "anemone-unit";
    std::filesystem::create_directories(base);
    std::string pattern = (base / (name.substr(0, 60) + "-XXXXXX")).string();
    m_path = mkdtemp(pattern.data());
  }
  ~ScratchDir() {
    // A failed REQUIRE unwinds through here; a failed CHECK leaves lastAssertionPassed() false.
    if (std::uncaught_exceptions() > 0 || !Catch::getResultCapture().lastAssertionPassed()) return;
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

private:
  std::filesystem::path m_path;
};

// The pid of a process that has exited and been reaped: what a lock or temp file of a killed
// writer names.
inline int dead_pid() {
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  return static_cast<int>(child);
}

} // namespace anemone::test
