#pragma once
// Names of config backup files: "<site>.<YYYYMMDDTHHMMSSZ>.anemone-config". The name tells site and
// time (UTC) and sorts by time; the id a person types is the time part.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace anemone::dr {

inline constexpr std::string_view k_config_backup_suffix = ".anemone-config";
inline constexpr std::string_view k_recovery_key_file = "recovery.pub"; // in the site's /config/ on a peer

struct NamedBackup {
  std::string file; // the whole name
  std::string site;
  std::string id;   // 20261202T020000Z
  int64_t time_ns = 0;
  uint64_t size = 0;
};

std::string config_backup_name(std::string_view site, int64_t time_ns);
std::optional<NamedBackup> parse_config_backup_name(std::string_view file);

// This site's backups among `names`, oldest first.
std::vector<NamedBackup> backups_of_site(const std::vector<std::pair<std::string, uint64_t>>& names_and_sizes,
                                         std::string_view site);

// The one chosen by --id (the time part, or the whole file name), or the newest; nullopt when none.
std::optional<NamedBackup> choose_backup(const std::vector<NamedBackup>& backups, const std::optional<std::string>& id);

} // namespace anemone::dr
