// `health-checker self`: the verdicts from facts (supervisorctl's output, snapshot ages, free space,
// interface flags, SSH banners), the report's text and JSON, and the probes that need no system
// service: sysfs flags from a scratch tree, the state file, free space, and the SSH probe against a
// loopback listener opened here.
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "anemone/core/fs.hpp"
#include "anemone/health/checks.hpp"
#include "anemone/health/probes.hpp"
#include "anemone/state/runs.hpp"
#include "../scratch.hpp"

using namespace anemone;
using anemone::test::ScratchDir;

namespace {

constexpr int64_t k_hour_ms = 3600 * 1000;
constexpr int64_t k_ms_ns = 1'000'000;

// A TCP socket bound to a free loopback port; listening only when asked.
struct LoopbackPort {
  core::UniqueFd fd;
  int port = 0;

  explicit LoopbackPort(bool listening) : fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t size = sizeof address;
    REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &size) == 0);
    port = ntohs(address.sin_port);
    if (listening) REQUIRE(::listen(fd.get(), 1) == 0);
  }
};

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

health::SupervisorFacts reachable(std::vector<health::ProgramStatus> programs) {
  health::SupervisorFacts facts;
  facts.server_url = "unix:///run/anemone/supervisor.sock";
  facts.reachable = true;
  facts.programs = std::move(programs);
  return facts;
}

} // namespace

TEST_CASE("health: ages read as a person would", "[health]") {
  CHECK(health::format_age(0) == "0s");
  CHECK(health::format_age(20'400) == "20s");
  CHECK(health::format_age(45 * 60'000 + 59'000) == "45m");
  CHECK(health::format_age(3 * k_hour_ms + 12 * 60'000 + 5'000) == "3h12m");
  CHECK(health::format_age(30 * k_hour_ms) == "30h");
  CHECK(health::format_age(-5000) == "0s");
}

TEST_CASE("health: wireguard is judged from the interface flags", "[health]") {
  CHECK(health::parse_interface_flags("0x1091\n") == 0x1091u);
  CHECK(health::parse_interface_flags("0x1090") == 0x1090u);
  CHECK_FALSE(health::parse_interface_flags(""));
  CHECK_FALSE(health::parse_interface_flags("0x"));
  CHECK_FALSE(health::parse_interface_flags("up"));
  CHECK_FALSE(health::parse_interface_flags("0x1g"));

  health::InterfaceFacts facts;
  facts.name = "wg0";
  auto missing = health::evaluate_interface(facts);
  CHECK(missing.name == "wireguard");
  CHECK_FALSE(missing.ok);
  CHECK(missing.detail == "wg0 does not exist");

  facts.exists = true;
  facts.flags = 0x1090;
  auto down = health::evaluate_interface(facts);
  CHECK_FALSE(down.ok);
  CHECK(down.detail == "wg0 is down");

  facts.flags = 0x1091;
  auto up = health::evaluate_interface(facts);
  CHECK(up.ok);
  CHECK(up.detail == "wg0 is up");

  facts.flags.reset();
  facts.error = "Permission denied";
  auto unreadable = health::evaluate_interface(facts);
  CHECK_FALSE(unreadable.ok);
  CHECK(unreadable.detail == "wg0: cannot read its flags (Permission denied)");
}

TEST_CASE("health: the interface probe reads <sys>/class/net/<if>/flags", "[health]") {
  ScratchDir dir;
  write_text(dir / "net/wg0/flags", "0x1091\n");
  write_text(dir / "net/wg1/flags", "0x1090\n");
  CHECK(health::evaluate_interface(health::probe_interface("wg0", dir / "net")).detail == "wg0 is up");
  CHECK(health::evaluate_interface(health::probe_interface("wg1", dir / "net")).detail == "wg1 is down");
  CHECK(health::evaluate_interface(health::probe_interface("wg9", dir / "net")).detail == "wg9 does not exist");
}

TEST_CASE("health: sshd is probed on loopback for a wildcard listen address", "[health]") {
  CHECK(health::probe_host_for("0.0.0.0") == "127.0.0.1");
  CHECK(health::probe_host_for("::") == "::1");
  CHECK(health::probe_host_for("10.8.0.1") == "10.8.0.1");
  CHECK(health::clean_banner("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\nrest") == "SSH-2.0-OpenSSH_9.2p1 Debian-2");
  CHECK(health::clean_banner("SSH-2.0-x\x1b[31m") == "SSH-2.0-x?[31m");
  CHECK(health::clean_banner(std::string(300, 'a')).size() == 255);
}

TEST_CASE("health: sshd verdicts name the address and what answered", "[health]") {
  health::SshFacts facts;
  facts.address = "127.0.0.1:22222";
  facts.error = "Connection refused";
  auto refused = health::evaluate_sshd(facts);
  CHECK(refused.name == "sshd");
  CHECK_FALSE(refused.ok);
  CHECK(refused.detail == "nothing listens on 127.0.0.1:22222 (Connection refused)");

  facts.connected = true;
  facts.error = "nothing received within 3s";
  auto silent = health::evaluate_sshd(facts);
  CHECK_FALSE(silent.ok);
  CHECK(silent.detail == "127.0.0.1:22222 accepted a connection but sent no SSH banner (nothing received within 3s)");

  facts.banner = "HTTP/1.1 400 Bad Request";
  auto http = health::evaluate_sshd(facts);
  CHECK_FALSE(http.ok);
  CHECK(http.detail == "127.0.0.1:22222 answers, but not as SSH-2.0: \"HTTP/1.1 400 Bad Request\"");

  facts.banner = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3";
  auto ok = health::evaluate_sshd(facts);
  CHECK(ok.ok);
  CHECK(ok.detail == "sshd answers on 127.0.0.1:22222 (SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3)");
}

TEST_CASE("health: the sshd probe reads the banner of a loopback listener", "[health]") {
  LoopbackPort server(true);
  std::thread answer([&] {
    pollfd waiting{server.fd.get(), POLLIN, 0}; // never blocks the test when the probe does not connect
    if (::poll(&waiting, 1, 5000) != 1) return;
    core::UniqueFd client(::accept(server.fd.get(), nullptr, nullptr));
    if (!client) return;
    const char banner[] = "SSH-2.0-test\r\n";
    (void)::write(client.get(), banner, sizeof banner - 1);
  });
  auto facts = health::probe_ssh("127.0.0.1", server.port, std::chrono::milliseconds(3000));
  answer.join();
  auto check = health::evaluate_sshd(facts);
  CHECK(check.ok);
  CHECK(check.detail == fmt::format("sshd answers on 127.0.0.1:{} (SSH-2.0-test)", server.port));
}

TEST_CASE("health: the sshd probe fails on a closed port", "[health]") {
  LoopbackPort closed(false); // bound, so nobody else takes the port, but not listening
  auto facts = health::probe_ssh("127.0.0.1", closed.port, std::chrono::milliseconds(3000));
  CHECK_FALSE(facts.connected);
  auto check = health::evaluate_sshd(facts);
  CHECK_FALSE(check.ok);
  CHECK(check.detail == fmt::format("nothing listens on 127.0.0.1:{} (Connection refused)", closed.port));
}

TEST_CASE("health: the sshd probe gives up on a silent listener at the deadline", "[health]") {
  LoopbackPort silent(true); // the kernel accepts the connection; nobody ever writes
  auto facts = health::probe_ssh("127.0.0.1", silent.port, std::chrono::milliseconds(200));
  CHECK(facts.connected);
  CHECK_FALSE(facts.banner);
  CHECK(facts.error == "nothing received within 200ms");
  CHECK_FALSE(health::evaluate_sshd(facts).ok);
}

TEST_CASE("health: supervisorctl status lines are parsed", "[health]") {
  const char* output = "cron                             RUNNING   pid 70, uptime 0:12:01\n"
                       "sshd                             STOPPED   Not started\n"
                       "a-program-with-a-very-long-name-indeed   FATAL     Exited too quickly (process log may have "
                       "details)\n"
                       "\n"
                       "group:worker_00                  STARTING  \n"
                       "some unrelated chatter\n";
  auto programs = health::parse_supervisor_status(output);
  REQUIRE(programs.size() == 4);
  CHECK(programs[0].name == "cron");
  CHECK(programs[0].state == "RUNNING");
  CHECK(programs[0].info == "pid 70, uptime 0:12:01");
  CHECK(programs[1].name == "sshd");
  CHECK(programs[1].state == "STOPPED");
  CHECK(programs[1].info == "Not started");
  CHECK(programs[2].name == "a-program-with-a-very-long-name-indeed");
  CHECK(programs[2].state == "FATAL");
  CHECK(programs[2].info == "Exited too quickly (process log may have details)");
  CHECK(programs[3].name == "group:worker_00");
  CHECK(programs[3].state == "STARTING");
  CHECK(programs[3].info.empty());
}

TEST_CASE("health: supervisorctl's exit status tells a stopped program from an unreachable supervisord", "[health]") {
  const std::string url = "unix:///run/anemone/supervisor.sock";
  auto all_running = health::interpret_supervisorctl(url, 0, "sshd  RUNNING  pid 1, uptime 0:00:05\n", "");
  CHECK(all_running.reachable);
  CHECK(all_running.programs.size() == 1);

  // Exit 3: some program is not running; the listing is complete and is what counts.
  auto some_stopped = health::interpret_supervisorctl(
      url, 3, "sshd  STOPPED  Not started\nwatcher  RUNNING  pid 2, uptime 0:00:05\n", "");
  CHECK(some_stopped.reachable);
  auto verdict = health::evaluate_supervisor(some_stopped);
  CHECK_FALSE(verdict.ok);
  CHECK(verdict.detail == "sshd is STOPPED");

  auto no_socket = health::interpret_supervisorctl(url, 4, url + " no such file\n", "");
  CHECK_FALSE(no_socket.reachable);
  CHECK(no_socket.problem == "no such file");
  auto unreachable = health::evaluate_supervisor(no_socket);
  CHECK(unreachable.name == "supervisord");
  CHECK_FALSE(unreachable.ok);
  CHECK(unreachable.detail == "supervisord is not reachable at " + url + " (no such file)");

  auto refused = health::interpret_supervisorctl(url, 4, url + " refused connection\n", "");
  CHECK(refused.problem == "refused connection");

  auto traceback = health::interpret_supervisorctl(
      url, 1, "", "Traceback (most recent call last):\n  ...\nPermissionError: [Errno 13] Permission denied\n");
  CHECK_FALSE(traceback.reachable);
  CHECK(traceback.problem == "PermissionError: [Errno 13] Permission denied");

  // A supervisord.conf without a [supervisorctl] section in supervisorctl's search path.
  auto usage = health::interpret_supervisorctl(
      url, 2, "", "Error: .ini file does not include supervisorctl section\nFor help, use /usr/bin/supervisorctl -h\n");
  CHECK(usage.problem == "Error: .ini file does not include supervisorctl section");

  auto missing = health::interpret_supervisorctl(url, 127, "", "");
  CHECK_FALSE(missing.reachable);
  CHECK(missing.problem == "supervisorctl could not be started; is it installed?");
}

TEST_CASE("health: supervisord is healthy only with programs, all RUNNING", "[health]") {
  auto running = health::evaluate_supervisor(reachable({{"cron", "RUNNING", ""}, {"sshd", "RUNNING", ""},
                                                        {"watcher", "RUNNING", ""}}));
  CHECK(running.ok);
  CHECK(running.detail == "3 programs running");
  CHECK(health::evaluate_supervisor(reachable({{"sshd", "RUNNING", ""}})).detail == "1 program running");

  auto mixed = health::evaluate_supervisor(
      reachable({{"sshd", "STOPPED", "Not started"}, {"cron", "RUNNING", ""}, {"watcher", "BACKOFF", "Exited"}}));
  CHECK_FALSE(mixed.ok);
  CHECK(mixed.detail == "sshd is STOPPED, watcher is BACKOFF");

  auto empty = health::evaluate_supervisor(reachable({}));
  CHECK_FALSE(empty.ok);
  CHECK(empty.detail == "supervisord at unix:///run/anemone/supervisor.sock runs no programs");
}

TEST_CASE("health: a target's last snapshot must be younger than max_backup_age", "[health]") {
  const int64_t now = 1'800'000'000'000'000'000;
  const int64_t max_age = 26 * k_hour_ms;
  health::BackupFacts facts;
  facts.newest_ns["local"] = now - 3 * k_hour_ms * k_ms_ns;
  facts.newest_ns["site-b"] = now - 30 * k_hour_ms * k_ms_ns;
  facts.newest_ns["edge"] = now - max_age * k_ms_ns;

  auto young = health::evaluate_backup("local", facts, now, max_age);
  CHECK(young.name == "backup:local");
  CHECK(young.ok);
  CHECK(young.detail == "last snapshot 3h ago");

  auto old = health::evaluate_backup("site-b", facts, now, max_age);
  CHECK_FALSE(old.ok);
  CHECK(old.detail == "last snapshot 30h ago, older than 26h");

  CHECK_FALSE(health::evaluate_backup("edge", facts, now, max_age).ok);

  auto never = health::evaluate_backup("site-c", facts, now, max_age);
  CHECK(never.name == "backup:site-c");
  CHECK_FALSE(never.ok);
  CHECK(never.detail == "no snapshot yet");

  facts.problem = "state file /config/state/anemone.db: schema version 9 is newer than this program understands (4)";
  auto unreadable = health::evaluate_backup("local", facts, now, max_age);
  CHECK_FALSE(unreadable.ok);
  CHECK(unreadable.detail == facts.problem);
}

TEST_CASE("health: the backup probe reads the newest snapshot per target and never creates the state file",
          "[health]") {
  ScratchDir dir;
  auto missing = health::probe_backups(dir / "state/anemone.db");
  CHECK(missing.problem.empty());
  CHECK(missing.newest_ns.empty());
  CHECK_FALSE(std::filesystem::exists(dir / "state"));

  {
    auto db = state::Db::open(dir / "state/anemone.db");
    REQUIRE(db);
    for (auto [target, id, time] : {std::tuple{"local", "s1", 100}, {"local", "s2", 300}, {"site-b", "s3", 200}}) {
      state::SnapshotSummary summary;
      summary.target = target;
      summary.snapshot_id = id;
      summary.time_ns = time;
      summary.host = "site-a";
      summary.sources = "data";
      REQUIRE(state::record_snapshot(*db, summary));
    }
  }
  auto found = health::probe_backups(dir / "state/anemone.db");
  CHECK(found.problem.empty());
  CHECK(found.newest_ns == std::map<std::string, int64_t>{{"local", 300}, {"site-b", 200}});
}

TEST_CASE("health: a config backup older than max_config_backup_age, or that never arrived, fails", "[health]") {
  const int64_t now = 100 * k_hour_ms * k_ms_ns;
  const int64_t max_age = 50 * k_hour_ms;
  health::ConfigBackupFacts facts;
  facts.records["local"] = {now - 20 * k_hour_ms * k_ms_ns, "ok", "", std::nullopt};
  facts.records["site-b"] = {now - 3 * k_hour_ms * k_ms_ns, "unchanged", "", true};
  facts.records["site-c"] = {now - 60 * k_hour_ms * k_ms_ns, "failed", "site-c: connection refused", true};
  facts.records["site-d"] = {std::nullopt, "failed", "site-d: permission denied", std::nullopt};
  facts.records["site-e"] = {now - 1 * k_hour_ms * k_ms_ns, "ok", "", false};
  facts.records["site-f"] = {now - 30 * k_hour_ms * k_ms_ns, "failed", "site-f: timed out", true};

  auto local = health::evaluate_config_backup("local", facts, now, max_age);
  CHECK(local.name == "config-backup:local");
  CHECK(local.ok);
  CHECK(local.detail == "last config backup 20h ago");
  auto confirmed = health::evaluate_config_backup("site-b", facts, now, max_age);
  CHECK(confirmed.ok);
  CHECK(confirmed.detail == "last config backup 3h ago");

  auto stale = health::evaluate_config_backup("site-c", facts, now, max_age);
  CHECK_FALSE(stale.ok);
  CHECK(stale.detail ==
        "last config backup 60h ago, older than 50h; the last attempt failed: site-c: connection refused");
  auto never = health::evaluate_config_backup("site-d", facts, now, max_age);
  CHECK_FALSE(never.ok);
  CHECK(never.detail == "no config backup has reached it; the last attempt failed: site-d: permission denied");

  // The peer installs the recovery key on its next scan: said, not yet a failure.
  auto no_login = health::evaluate_config_backup("site-e", facts, now, max_age);
  CHECK(no_login.ok);
  CHECK(no_login.detail == "last config backup 1h ago, its recovery login is not accepted yet");
  // One failed night with a young copy still there is not unhealthy, but it is said.
  auto one_failure = health::evaluate_config_backup("site-f", facts, now, max_age);
  CHECK(one_failure.ok);
  CHECK(one_failure.detail == "last config backup 30h ago; the last attempt failed: site-f: timed out");

  auto not_yet = health::evaluate_config_backup("site-g", facts, now, max_age);
  CHECK(not_yet.ok);
  CHECK(not_yet.detail == "no config backup yet (made daily by backup-sender config-backup)");

  facts.problem = "state file /config/state/anemone.db: not a database";
  auto unreadable = health::evaluate_config_backup("local", facts, now, max_age);
  CHECK_FALSE(unreadable.ok);
  CHECK(unreadable.detail == facts.problem);
}

TEST_CASE("health: the config backup probe reads each destination's last good copy from the state file",
          "[health]") {
  ScratchDir dir;
  auto missing = health::probe_config_backups(dir / "state/anemone.db");
  CHECK(missing.problem.empty());
  CHECK(missing.records.empty());
  CHECK_FALSE(std::filesystem::exists(dir / "state"));

  {
    auto db = state::Db::open(dir / "state/anemone.db");
    REQUIRE(db);
    REQUIRE(db->exec("INSERT INTO config_backups(destination, file, digest, stored_ns, attempt_ns, outcome, error, "
                     "recovery_login) VALUES "
                     "('local', 'a.anemone-config', 'd1', 100, 500, 'unchanged', NULL, NULL), "
                     "('site-b', 'a.anemone-config', 'd1', 100, 500, 'failed', 'refused', 1), "
                     "('site-c', NULL, NULL, NULL, 500, 'failed', 'no route', NULL)"));
  }
  auto found = health::probe_config_backups(dir / "state/anemone.db");
  REQUIRE(found.problem.empty());
  REQUIRE(found.records.size() == 3);
  CHECK(found.records.at("local").good_ns == 500); // confirmed unchanged at the last attempt
  CHECK(found.records.at("local").outcome == "unchanged");
  CHECK(found.records.at("site-b").good_ns == 100); // the last attempt failed: the copy stored before
  CHECK(found.records.at("site-b").error == "refused");
  CHECK(found.records.at("site-b").recovery_login == true);
  CHECK_FALSE(found.records.at("site-c").good_ns);
  CHECK_FALSE(found.records.at("site-c").recovery_login);
}

TEST_CASE("health: free space below min_free_space fails, naming both amounts", "[health]") {
  health::SpaceFacts facts;
  facts.path = "/backups";
  facts.free_bytes = (123ull << 30) / 10;
  auto plenty = health::evaluate_space(facts, 1ull << 30);
  CHECK(plenty.name == "space:/backups");
  CHECK(plenty.ok);
  CHECK(plenty.detail == "12.3 GiB free");

  facts.free_bytes = 512ull << 20;
  auto low = health::evaluate_space(facts, 1ull << 30);
  CHECK_FALSE(low.ok);
  CHECK(low.detail == "512.0 MiB free, below 1.0 GiB");

  facts.free_bytes.reset();
  facts.error = "does not exist";
  auto missing = health::evaluate_space(facts, 1ull << 30);
  CHECK_FALSE(missing.ok);
  CHECK(missing.detail == "/backups does not exist");
}

TEST_CASE("health: the space probe checks each file system once and names missing paths", "[health]") {
  ScratchDir dir;
  std::filesystem::create_directories(dir / "data");
  std::filesystem::create_directories(dir / "photos");
  auto found = health::probe_space({dir / "data", dir / "photos", dir / "gone"});
  REQUIRE(found.size() == 2);
  CHECK(found[0].path == (dir / "data").string());
  CHECK(found[0].free_bytes);
  CHECK(found[1].path == (dir / "gone").string());
  CHECK_FALSE(found[1].free_bytes);
  CHECK(found[1].error == "does not exist");
}

TEST_CASE("health: the report is one line per check, then the verdict; JSON has the same", "[health]") {
  health::Report report;
  report.checks = {{"wireguard", true, "wg0 is up"},
                   {"supervisord", false, "sshd is STOPPED"},
                   {"space:/backups", false, "/backups does not exist"}};
  CHECK_FALSE(report.healthy());
  CHECK(health::render_text(report) == "ok    wireguard: wg0 is up\n"
                                       "FAIL  supervisord: sshd is STOPPED\n"
                                       "FAIL  space:/backups: /backups does not exist\n"
                                       "unhealthy: supervisord: sshd is STOPPED; space:/backups: /backups does not exist\n");

  auto json = nlohmann::json::parse(health::render_json(report));
  CHECK(json["healthy"] == false);
  REQUIRE(json["checks"].size() == 3);
  CHECK(json["checks"][0] == nlohmann::json{{"name", "wireguard"}, {"ok", true}, {"detail", "wg0 is up"}});
  CHECK(json["reasons"] == nlohmann::json{"supervisord: sshd is STOPPED", "space:/backups: /backups does not exist"});

  report.checks.resize(1);
  CHECK(report.healthy());
  CHECK(health::render_text(report) == "ok    wireguard: wg0 is up\nhealthy\n");
  CHECK(nlohmann::json::parse(health::render_json(report))["reasons"].empty());

  // A path that is not UTF-8 is printed with a replacement character, not an exception.
  report.checks = {{"space:/data/\xff", false, "/data/\xff does not exist"}};
  CHECK_NOTHROW(nlohmann::json::parse(health::render_json(report)));
}
