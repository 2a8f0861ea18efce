#pragma once
// Reads a yaml-cpp tree against a fixed schema. Every error points at the offending key:
// "config.yaml:14:3: backup.targets[1].retention.keep_lst: unknown key (did you mean keep_last?)".
// Private to the config library; the schema itself lives in config.cpp.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "anemone/core/error.hpp"

namespace anemone::config::detail {

// Optimal string alignment distance: Levenshtein plus adjacent transpositions, the commonest typo.
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word` if it is within typo reach (1 edit for short words, else 2).
std::optional<std::string_view> closest_match(std::string_view word, std::span<const std::string_view> candidates);

// A value with the key path and positions an error about it needs.
struct Field {
  YAML::Node node;
  std::string path;    // "backup.targets[1].port"; empty for the document itself
  YAML::Mark key_mark; // the key, or the list item, that introduced the value

  bool is_null() const { return !node.IsDefined() || node.IsNull(); }
  // Where to point: the value itself, except that yaml-cpp places an empty value at the next token,
  // which would send the reader to the wrong line.
  YAML::Mark mark() const;
};

class Reader;

// A map whose keys were checked: all are strings, known (or reserved for a later release), unique.
class MapReader {
public:
  const Field& self() const { return m_self; }
  // Absent and empty (`key:` or `key: ~`) both mean "use the default".
  std::optional<Field> optional(std::string_view key) const;
  core::Result<Field> required(std::string_view key) const;

private:
  friend class Reader;
  MapReader(const Reader& reader, Field self) : m_reader(&reader), m_self(std::move(self)) {}
  const Field* find(std::string_view key) const;

  const Reader* m_reader;
  Field m_self;
  struct Entry {
    std::string key;
    Field value; // key_mark is the key's position
  };
  std::vector<Entry> m_entries;
};

class Reader {
public:
  explicit Reader(std::string file_name) : m_file_name(std::move(file_name)) {}

  // "file:line:col: path: problem"
  core::Error error(const YAML::Mark& mark, std::string_view path, std::string_view problem) const;
  // "file:line:col: message", for errors that belong to no key (YAML syntax).
  core::Error located(const YAML::Mark& mark, std::string_view message) const;

  // The single document in `text`; an empty text is a null node. May throw YAML::Exception for a
  // syntax error, which the caller turns into an error value.
  core::Result<YAML::Node> load(std::string_view text) const;

  // `keys` are read by the caller; `reserved` are accepted and ignored (sections of later releases).
  core::Result<MapReader> map(const Field& field, std::span<const std::string_view> keys,
                              std::span<const std::string_view> reserved = {}) const;
  // A list's items with paths "path[i]"; an empty value is an empty list.
  core::Result<std::vector<Field>> list(const Field& field) const;
  core::Result<std::string> string(const Field& field) const;
  core::Result<int> integer(const Field& field, int min, int max) const;

private:
  std::string m_file_name;
};

// The whole of a small text file (config.yaml, platform.yaml): errors say "cannot read <what>
// FILE: why"; a file over 1 MiB is refused (likely the wrong file).
core::Result<std::string> read_small_file(const std::filesystem::path& file, std::string_view what);

// "a map", "a list", "an empty value" or the scalar quoted, for "expected X, got Y".
std::string describe(const YAML::Node& node);
// The value in double quotes, escaped and shortened so a stray binary blob stays readable.
std::string quote(std::string_view value);
std::string child_path(std::string_view parent, std::string_view key);

} // namespace anemone::config::detail
