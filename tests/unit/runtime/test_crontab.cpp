// The suite's crontab: schedules, commands and environment lines as crontab(5) writes them, and
// errors that name the line.
#include <catch2/catch.hpp>

#include <fstream>

#include "anemone/runtime/cron_daemon.hpp"
#include "anemone/runtime/crontab.hpp"
#include "../scratch.hpp"

using namespace anemone;

TEST_CASE("a crontab's jobs and environment lines", "[runtime]") {
  auto crontab = runtime::parse_crontab("# weekly maintenance\n"
                                        "MAILTO=\"\"\n"
                                        "RETRIES = 3\n"
                                        "\n"
                                        "30 4 * * sun  backup-sender forget --prune --wait >> \"$ANEMONE_LOGS/cron-prune.log\" 2>&1\n"
                                        "@daily echo a=b\n",
                                        "crontab");
  if (!crontab) FAIL(crontab.error().message());
  REQUIRE(crontab->environment.size() == 2);
  CHECK(crontab->environment[0] == std::pair<std::string, std::string>("MAILTO", ""));
  CHECK(crontab->environment[1] == std::pair<std::string, std::string>("RETRIES", "3"));
  REQUIRE(crontab->jobs.size() == 2);
  CHECK(crontab->jobs[0].line == 5);
  CHECK(crontab->jobs[0].schedule.text() == "30 4 * * sun");
  CHECK(crontab->jobs[0].command == "backup-sender forget --prune --wait >> \"$ANEMONE_LOGS/cron-prune.log\" 2>&1");
  CHECK(crontab->jobs[1].schedule.text() == "@daily");
  CHECK(crontab->jobs[1].command == "echo a=b");
}

TEST_CASE("crontab errors name the file, the line and the field", "[runtime]") {
  auto error = [](const char* text) {
    auto parsed = runtime::parse_crontab(text, "config/crontab");
    REQUIRE_FALSE(parsed);
    return parsed.error().message();
  };
  CHECK(error("# ok\n0 25 * * * echo\n") == "config/crontab:2: hour: 25 is outside 0-23");
  CHECK(error("0 3 * *\n") == "config/crontab:1: expected five schedule fields and a command, got \"0 3 * *\"");
  CHECK(error("0 3 * * *   \n") == "config/crontab:1: no command after \"0 3 * * *\"");
  CHECK(error("@fortnightly echo\n").starts_with("config/crontab:1: "));
}

TEST_CASE("cron logs over the size limit are rotated, keeping three", "[runtime]") {
  test::ScratchDir dir;
  auto write = [&](const std::string& name, size_t size) { std::ofstream(dir / name) << std::string(size, 'x'); };
  write("cron-prune.log", 2000);
  write("cron-prune.log.1", 10);
  write("cron-prune.log.3", 30);
  write("cron-check.log", 100);
  write("watcher.log", 5000); // supervisord's, not ours
  runtime::rotate_cron_logs(dir.path(), 1000, 3);
  CHECK_FALSE(std::filesystem::exists(dir / "cron-prune.log"));
  CHECK(std::filesystem::file_size(dir / "cron-prune.log.1") == 2000);
  CHECK(std::filesystem::file_size(dir / "cron-prune.log.2") == 10);
  CHECK_FALSE(std::filesystem::exists(dir / "cron-prune.log.3")); // the oldest is dropped
  CHECK(std::filesystem::file_size(dir / "cron-check.log") == 100);
  CHECK(std::filesystem::file_size(dir / "watcher.log") == 5000);
}

TEST_CASE("the shipped crontab parses and runs prune, check and the daily config backup", "[runtime]") {
  std::ifstream in(std::string(ANEMONE_SOURCE_DIR) + "/config/crontab");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto crontab = runtime::parse_crontab(text, "config/crontab");
  if (!crontab) FAIL(crontab.error().message());
  std::vector<std::string> found;
  for (const auto& job : crontab->jobs) found.push_back(job.schedule.text() + " " + job.command.substr(0, job.command.find(" >>")));
  CHECK(found == std::vector<std::string>{"30 4 * * 0 backup-sender forget --prune --wait",
                                          "30 4 * * 3 backup-sender check --read-data-subset 5",
                                          "0 2 * * * backup-sender config-backup"});
}
