#include "anemone/dr/naming.hpp"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace anemone::dr {

std::string config_backup_name(std::string_view site, int64_t time_ns) {
  std::time_t seconds = static_cast<std::time_t>(time_ns / 1000000000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  return fmt::format("{}.{:04}{:02}{:02}T{:02}{:02}{:02}Z{}", site, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, k_config_backup_suffix);
}

std::optional<NamedBackup> parse_config_backup_name(std::string_view file) {
  if (!file.ends_with(k_config_backup_suffix)) return std::nullopt;
  std::string_view stem = file.substr(0, file.size() - k_config_backup_suffix.size());
  size_t dot = stem.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  std::string_view id = stem.substr(dot + 1);
  if (id.size() != 16 || id[8] != 'T' || id[15] != 'Z') return std::nullopt;
  std::tm tm{};
  auto digits = [&](size_t at, size_t count, int& out) {
    out = 0;
    for (size_t i = at; i < at + count; ++i) {
      if (id[i] < '0' || id[i] > '9') return false;
      out = out * 10 + (id[i] - '0');
    }
    return true;
  };
  int year = 0, month = 0;
  if (!digits(0, 4, year) || !digits(4, 2, month) || !digits(6, 2, tm.tm_mday) || !digits(9, 2, tm.tm_hour) ||
      !digits(11, 2, tm.tm_min) || !digits(13, 2, tm.tm_sec) || month < 1 || month > 12)
    return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  NamedBackup named;
  named.file = std::string(file);
  named.site = std::string(stem.substr(0, dot));
  named.id = std::string(id);
  named.time_ns = static_cast<int64_t>(::timegm(&tm)) * 1000000000;
  return named;
}

std::vector<NamedBackup> backups_of_site(const std::vector<std::pair<std::string, uint64_t>>& names_and_sizes,
                                         std::string_view site) {
  std::vector<NamedBackup> found;
  for (const auto& [name, size] : names_and_sizes) {
    auto named = parse_config_backup_name(name);
    if (!named || named->site != site) continue;
    named->size = size;
    found.push_back(std::move(*named));
  }
  std::sort(found.begin(), found.end(), [](const NamedBackup& a, const NamedBackup& b) { return a.file < b.file; });
  return found;
}

std::optional<NamedBackup> choose_backup(const std::vector<NamedBackup>& backups, const std::optional<std::string>& id) {
  if (backups.empty()) return std::nullopt;
  if (!id) return backups.back();
  for (const auto& backup : backups)
    if (backup.id == *id || backup.file == *id) return backup;
  return std::nullopt;
}

} // namespace anemone::dr
