#include "anemone/health/checks.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "anemone/core/bytes.hpp"
#include "anemone/core/time.hpp"

namespace anemone::health {

namespace {

constexpr std::array<std::string_view, 8> k_supervisor_states = {"STOPPED", "STARTING", "RUNNING", "BACKOFF",
                                                                 "STOPPING", "EXITED",   "FATAL",   "UNKNOWN"};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// The next whitespace-separated word of `text`, which is advanced past it.
std::string_view next_word(std::string_view& text) {
  text = trim(text);
  size_t end = 0;
  while (end < text.size() && !is_space(text[end])) ++end;
  std::string_view word = text.substr(0, end);
  text.remove_prefix(end);
  return word;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

Check make_check(std::string name, bool ok, std::string detail) { return Check{std::move(name), ok, std::move(detail)}; }

} // namespace

std::string format_age(int64_t ms) {
  ms = std::max<int64_t>(ms, 0);
  if (ms < 60'000) return core::format_duration_ms(ms / 1000 * 1000);
  return core::format_duration_ms(ms / 60'000 * 60'000);
}

std::optional<uint32_t> parse_interface_flags(std::string_view text) {
  text = trim(text);
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Check evaluate_interface(const InterfaceFacts& facts) {
  if (!facts.exists) return make_check("wireguard", false, fmt::format("{} does not exist", facts.name));
  if (!facts.flags)
    return make_check("wireguard", false, fmt::format("{}: cannot read its flags ({})", facts.name, facts.error));
  bool up = (*facts.flags & k_iff_up) != 0;
  return make_check("wireguard", up, fmt::format("{} is {}", facts.name, up ? "up" : "down"));
}

std::string probe_host_for(std::string_view listen) {
  if (listen.empty() || listen == "0.0.0.0") return "127.0.0.1";
  if (listen == "::" || listen == "[::]") return "::1";
  return std::string(listen);
}

std::string clean_banner(std::string_view line) {
  constexpr size_t k_max_banner = 255; // RFC 4253's limit for the version line
  line = line.substr(0, line.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string clean(line.substr(0, k_max_banner));
  for (auto& c : clean)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return clean;
}

Check evaluate_sshd(const SshFacts& facts) {
  if (!facts.connected)
    return make_check("sshd", false, fmt::format("nothing listens on {} ({})", facts.address, facts.error));
  if (!facts.banner)
    return make_check("sshd", false,
                      fmt::format("{} accepted a connection but sent no SSH banner ({})", facts.address, facts.error));
  if (!facts.banner->starts_with("SSH-2.0-"))
    return make_check("sshd", false, fmt::format("{} answers, but not as SSH-2.0: \"{}\"", facts.address, *facts.banner));
  return make_check("sshd", true, fmt::format("sshd answers on {} ({})", facts.address, *facts.banner));
}

std::vector<ProgramStatus> parse_supervisor_status(std::string_view text) {
  std::vector<ProgramStatus> programs;
  for (std::string_view line : lines_of(text)) {
    std::string_view rest = line;
    std::string_view name = next_word(rest);
    std::string_view state = next_word(rest);
    if (name.empty() || std::find(k_supervisor_states.begin(), k_supervisor_states.end(), state) ==
                            k_supervisor_states.end())
      continue;
    programs.push_back(ProgramStatus{std::string(name), std::string(state), std::string(trim(rest))});
  }
  return programs;
}

SupervisorFacts interpret_supervisorctl(std::string server_url, int exit_code, std::string_view out,
                                        std::string_view err) {
  constexpr int k_not_running = 3; // LSB status: some program is not running; the listing is complete
  SupervisorFacts facts;
  facts.server_url = std::move(server_url);
  facts.programs = parse_supervisor_status(out);
  facts.reachable = exit_code == 0 || exit_code == k_not_running;
  if (facts.reachable) return facts;
  // "unix:///run/anemone/supervisor.sock no such file" on stdout; on stderr a usage error ("Error:
  // .ini file does not include supervisorctl section", then a help hint) or a Python traceback,
  // whose last line says what went wrong.
  std::string_view said;
  for (std::string_view line : lines_of(out))
    if (!trim(line).empty()) {
      said = trim(line);
      break;
    }
  if (said.empty())
    for (std::string_view line : lines_of(err)) {
      if (trim(line).empty()) continue;
      said = trim(line);
      if (said.starts_with("Error:")) break;
    }
  if (said.starts_with(facts.server_url)) said = trim(said.substr(facts.server_url.size()));
  if (!said.empty()) facts.problem = std::string(said);
  else if (exit_code == 127) facts.problem = "supervisorctl could not be started; is it installed?";
  else facts.problem = fmt::format("supervisorctl exited with status {}", exit_code);
  return facts;
}

Check evaluate_supervisor(const SupervisorFacts& facts) {
  if (!facts.reachable)
    return make_check("supervisord", false,
                      fmt::format("supervisord is not reachable at {} ({})", facts.server_url, facts.problem));
  if (facts.programs.empty())
    return make_check("supervisord", false, fmt::format("supervisord at {} runs no programs", facts.server_url));
  std::vector<std::string> stopped;
  for (const auto& program : facts.programs)
    if (program.state != "RUNNING") stopped.push_back(fmt::format("{} is {}", program.name, program.state));
  if (!stopped.empty()) return make_check("supervisord", false, fmt::format("{}", fmt::join(stopped, ", ")));
  return make_check("supervisord", true,
                    fmt::format("{} program{} running", facts.programs.size(), facts.programs.size() == 1 ? "" : "s"));
}

Check evaluate_backup(const std::string& target, const BackupFacts& facts, int64_t now_ns, int64_t max_age_ms) {
  std::string name = "backup:" + target;
  if (!facts.problem.empty()) return make_check(name, false, facts.problem);
  auto found = facts.newest_ns.find(target);
  if (found == facts.newest_ns.end()) return make_check(name, false, "no snapshot yet");
  int64_t age_ms = std::max<int64_t>(now_ns - found->second, 0) / 1'000'000;
  if (age_ms >= max_age_ms)
    return make_check(name, false,
                      fmt::format("last snapshot {} ago, older than {}", format_age(age_ms),
                                  core::format_duration_ms(max_age_ms)));
  return make_check(name, true, fmt::format("last snapshot {} ago", format_age(age_ms)));
}

Check evaluate_config_backup(const std::string& destination, const ConfigBackupFacts& facts, int64_t now_ns,
                             int64_t max_age_ms) {
  std::string name = "config-backup:" + destination;
  if (!facts.problem.empty()) return make_check(name, false, facts.problem);
  auto found = facts.records.find(destination);
  // The daily job (02:00) has not run since this site or peer appeared: not yet a failure.
  if (found == facts.records.end())
    return make_check(name, true, "no config backup yet (made daily by backup-sender config-backup)");
  const ConfigBackupRecord& record = found->second;
  std::string last_failure = record.outcome == "failed" ? fmt::format("; the last attempt failed: {}", record.error) : "";
  if (!record.good_ns) return make_check(name, false, "no config backup has reached it" + last_failure);
  int64_t age_ms = std::max<int64_t>(now_ns - *record.good_ns, 0) / 1'000'000;
  if (age_ms >= max_age_ms)
    return make_check(name, false,
                      fmt::format("last config backup {} ago, older than {}{}", format_age(age_ms),
                                  core::format_duration_ms(max_age_ms), last_failure));
  std::string login = record.recovery_login == false ? ", its recovery login is not accepted yet" : "";
  return make_check(name, true, fmt::format("last config backup {} ago{}{}", format_age(age_ms), login, last_failure));
}

Check evaluate_space(const SpaceFacts& facts, uint64_t min_free) {
  std::string name = "space:" + facts.path;
  if (!facts.free_bytes) return make_check(name, false, fmt::format("{} {}", facts.path, facts.error));
  if (*facts.free_bytes < min_free)
    return make_check(name, false,
                      fmt::format("{} free, below {}", core::format_bytes(*facts.free_bytes), core::format_bytes(min_free)));
  return make_check(name, true, fmt::format("{} free", core::format_bytes(*facts.free_bytes)));
}

bool Report::healthy() const {
  return std::all_of(checks.begin(), checks.end(), [](const Check& check) { return check.ok; });
}

std::vector<std::string> Report::reasons() const {
  std::vector<std::string> reasons;
  for (const auto& check : checks)
    if (!check.ok) reasons.push_back(fmt::format("{}: {}", check.name, check.detail));
  return reasons;
}

std::string render_text(const Report& report) {
  std::string text;
  for (const auto& check : report.checks)
    text += fmt::format("{:<6}{}: {}\n", check.ok ? "ok" : "FAIL", check.name, check.detail);
  if (report.healthy()) text += "healthy\n";
  else text += fmt::format("unhealthy: {}\n", fmt::join(report.reasons(), "; "));
  return text;
}

std::string render_json(const Report& report) {
  auto checks = nlohmann::json::array();
  for (const auto& check : report.checks)
    checks.push_back({{"name", check.name}, {"ok", check.ok}, {"detail", check.detail}});
  nlohmann::json value = {{"healthy", report.healthy()}, {"checks", checks}, {"reasons", report.reasons()}};
  // Paths come from the config and may hold bytes that are not UTF-8: replaced, never a throw.
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace anemone::health
