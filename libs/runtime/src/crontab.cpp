#include "anemone/runtime/crontab.hpp"

#include <cctype>

namespace anemone::runtime {

using core::Errc;

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// Splits off the first whitespace-separated token.
std::string_view next_token(std::string_view& text) {
  text = trim(text);
  size_t end = 0;
  while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
  std::string_view token = text.substr(0, end);
  text.remove_prefix(end);
  return token;
}

// NAME=value, as cron takes it: the name a shell identifier, the value optionally quoted.
bool parse_assignment(std::string_view line, std::pair<std::string, std::string>& out) {
  size_t equals = line.find('=');
  if (equals == std::string_view::npos) return false;
  std::string_view name = trim(line.substr(0, equals));
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  std::string_view value = trim(line.substr(equals + 1));
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
    value = value.substr(1, value.size() - 2);
  out = {std::string(name), std::string(value)};
  return true;
}

} // namespace

core::Result<Crontab> parse_crontab(std::string_view text, const std::string& file_name) {
  Crontab crontab;
  int number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    std::pair<std::string, std::string> assignment;
    if (line.front() != '@' && !std::isdigit(static_cast<unsigned char>(line.front())) && line.front() != '*' &&
        parse_assignment(line, assignment)) {
      crontab.environment.push_back(std::move(assignment));
      continue;
    }
    std::string_view rest = line;
    std::string spec;
    int fields = line.front() == '@' ? 1 : 5;
    for (int i = 0; i < fields; ++i) {
      std::string_view token = next_token(rest);
      if (token.empty())
        return core::fail(Errc::config, "{}:{}: expected five schedule fields and a command, got \"{}\"", file_name,
                          number, line);
      if (!spec.empty()) spec += ' ';
      spec += token;
    }
    auto schedule = core::CronSchedule::parse(spec);
    if (!schedule) return core::fail(Errc::config, "{}:{}: {}", file_name, number, schedule.error().message());
    std::string_view command = trim(rest);
    if (command.empty()) return core::fail(Errc::config, "{}:{}: no command after \"{}\"", file_name, number, spec);
    crontab.jobs.push_back(CronJob{number, std::move(*schedule), std::string(command)});
  }
  return crontab;
}

} // namespace anemone::runtime
