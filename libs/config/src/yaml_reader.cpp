#include "yaml_reader.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdint>
#include <sstream>

#include <fmt/format.h>

#include "anemone/core/fs.hpp"
#include <yaml-cpp/eventhandler.h>

namespace anemone::config::detail {

namespace {

constexpr size_t k_max_quoted_chars = 64;

std::string expectation_for_range(int min, int max) {
  if (min == 0 && max == INT_MAX) return "a non-negative integer";
  if (max == INT_MAX) return fmt::format("an integer of at least {}", min);
  return fmt::format("an integer from {} to {}", min, max);
}

// Notes whether each document's root is empty and where it starts; nothing else is kept.
class DocumentRoots final : public YAML::EventHandler {
public:
  bool root_is_null() const { return m_root_is_null; }
  const YAML::Mark& root_mark() const { return m_root_mark; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    m_depth = 0;
    m_seen_root = false;
    m_root_is_null = true;
    m_root_mark = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark, true); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark, false); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    node(mark, false);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark, false);
    ++m_depth;
  }
  void OnSequenceEnd() override { --m_depth; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark, false);
    ++m_depth;
  }
  void OnMapEnd() override { --m_depth; }

private:
  void node(const YAML::Mark& mark, bool is_null) {
    if (m_depth != 0 || m_seen_root) return;
    m_seen_root = true;
    m_root_is_null = is_null;
    m_root_mark = mark;
  }

  int m_depth = 0;
  bool m_seen_root = false;
  bool m_root_is_null = true;
  YAML::Mark m_root_mark;
};

} // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rolling rows: the transposition case looks two rows back.
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        current[j] = std::min(current[j], before[j - 2] + 1);
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string_view> closest_match(std::string_view word, std::span<const std::string_view> candidates) {
  // Two edits turn most 3-letter words into each other; only suggest what is plausibly a typo.
  size_t reach = word.size() <= 3 ? 1 : 2;
  std::optional<std::string_view> best;
  size_t best_distance = reach + 1;
  for (std::string_view candidate : candidates) {
    size_t distance = edit_distance(word, candidate);
    // An edit as long as the word itself ("r" -> "dr") makes a different word, not a typo.
    if (distance >= std::min(word.size(), candidate.size())) continue;
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

YAML::Mark Field::mark() const {
  if (is_null() || node.Mark().is_null()) return key_mark;
  return node.Mark();
}

std::string quote(std::string_view value) {
  std::string out = "\"";
  size_t shown = 0;
  for (char c : value) {
    if (shown == k_max_quoted_chars) {
      out += "...";
      break;
    }
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += c;
    }
    ++shown;
  }
  out += '"';
  return out;
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "an empty value";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return quote(node.Scalar());
}

std::string child_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

core::Error Reader::error(const YAML::Mark& mark, std::string_view path, std::string_view problem) const {
  std::string_view shown_path = path.empty() ? std::string_view("(top level)") : path;
  return located(mark, fmt::format("{}: {}", shown_path, problem));
}

core::Error Reader::located(const YAML::Mark& mark, std::string_view message) const {
  // yaml-cpp counts from 0; editors count from 1. A null mark (empty document) points at the start.
  int line = mark.is_null() ? 1 : mark.line + 1;
  int column = mark.is_null() ? 1 : mark.column + 1;
  return core::Error(core::Errc::config, fmt::format("{}:{}:{}: {}", m_file_name, line, column, message));
}

core::Result<YAML::Node> Reader::load(std::string_view text) const {
  // yaml-cpp 0.7's LoadAll loops forever, allocating, when a document starts with a stray ','
  // (jbeder/yaml-cpp#1040): the parser reports an empty document without consuming the token.
  // A first pass over the events catches that before LoadAll runs, and counts the documents.
  std::istringstream stream{std::string(text)};
  YAML::Parser parser(stream);
  DocumentRoots roots;
  std::optional<int> previous_empty_at;
  size_t with_content = 0;
  for (size_t documents = 0; parser.HandleNextDocument(roots); ++documents) {
    const YAML::Mark& mark = roots.root_mark();
    // Every real document consumes at least one byte, so the cap only trips on a stuck parser.
    if (documents > text.size() || (roots.root_is_null() && previous_empty_at == mark.pos)) {
      bool inside = mark.pos >= 0 && static_cast<size_t>(mark.pos) < text.size();
      std::string what = inside ? quote(text.substr(static_cast<size_t>(mark.pos), 1)) : "token";
      return tl::unexpected(located(mark, fmt::format("invalid YAML: unexpected {}", what)));
    }
    if (roots.root_is_null()) {
      previous_empty_at = mark.pos;
      continue;
    }
    previous_empty_at.reset();
    if (++with_content > 1) return tl::unexpected(located(mark, "expected one YAML document, found a second one"));
  }

  // A stray "---" adds empty documents; the one with content is the config.
  for (const YAML::Node& document : YAML::LoadAll(std::string(text)))
    if (!document.IsNull()) return document;
  return YAML::Node();
}

core::Result<MapReader> Reader::map(const Field& field, std::span<const std::string_view> keys,
                                    std::span<const std::string_view> reserved) const {
  if (!field.node.IsMap())
    return tl::unexpected(error(field.mark(), field.path, fmt::format("expected a map, got {}", describe(field.node))));

  MapReader reader(*this, field);
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    // Copies: the iterator hands out a temporary pair, so references into it would dangle.
    YAML::Node key_node = it->first;
    YAML::Node value = it->second;
    if (!key_node.IsScalar())
      return tl::unexpected(
          error(key_node.Mark(), field.path, fmt::format("expected a key name, got {}", describe(key_node))));
    const std::string& key = key_node.Scalar();
    std::string path = child_path(field.path, key);

    bool known = std::find(keys.begin(), keys.end(), key) != keys.end();
    bool is_reserved = std::find(reserved.begin(), reserved.end(), key) != reserved.end();
    if (!known && !is_reserved) {
      std::vector<std::string_view> all(keys.begin(), keys.end());
      all.insert(all.end(), reserved.begin(), reserved.end());
      if (auto guess = closest_match(key, all))
        return tl::unexpected(error(key_node.Mark(), path, fmt::format("unknown key (did you mean {}?)", *guess)));
      return tl::unexpected(
          error(key_node.Mark(), path, fmt::format("unknown key (expected one of: {})", fmt::join(keys, ", "))));
    }
    // yaml-cpp keeps both copies of a repeated key; the second would silently lose.
    if (const Field* first = reader.find(key))
      return tl::unexpected(
          error(key_node.Mark(), path, fmt::format("duplicate key (first at line {})", first->key_mark.line + 1)));
    reader.m_entries.push_back({key, Field{value, std::move(path), key_node.Mark()}});
  }
  return reader;
}

core::Result<std::vector<Field>> Reader::list(const Field& field) const {
  std::vector<Field> items;
  if (field.is_null()) return items;
  if (!field.node.IsSequence())
    return tl::unexpected(
        error(field.mark(), field.path, fmt::format("expected a list, got {}", describe(field.node))));
  size_t index = 0;
  for (YAML::Node item : field.node) {
    // An empty item ("- " alone) has no useful position of its own; point at the list.
    YAML::Mark mark = item.IsNull() || item.Mark().is_null() ? field.mark() : item.Mark();
    items.push_back(Field{item, fmt::format("{}[{}]", field.path, index), mark});
    ++index;
  }
  return items;
}

core::Result<std::string> Reader::string(const Field& field) const {
  if (!field.node.IsScalar())
    return tl::unexpected(
        error(field.mark(), field.path, fmt::format("expected a string, got {}", describe(field.node))));
  return field.node.Scalar();
}

core::Result<int> Reader::integer(const Field& field, int min, int max) const {
  auto failure = [&] {
    return tl::unexpected(
        error(field.mark(), field.path,
              fmt::format("expected {}, got {}", expectation_for_range(min, max), describe(field.node))));
  };
  if (!field.node.IsScalar()) return failure();
  const std::string& text = field.node.Scalar();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return failure();
  if (value < min || value > max) return failure();
  return static_cast<int>(value);
}

std::optional<Field> MapReader::optional(std::string_view key) const {
  const Field* field = find(key);
  if (field == nullptr || field->is_null()) return std::nullopt;
  return *field;
}

core::Result<Field> MapReader::required(std::string_view key) const {
  const Field* field = find(key);
  std::string path = child_path(m_self.path, key);
  // A missing key has no position; the map that should hold it does.
  if (field == nullptr) return tl::unexpected(m_reader->error(m_self.mark(), path, "required key is missing"));
  if (field->is_null()) return tl::unexpected(m_reader->error(field->mark(), path, "required value is empty"));
  return *field;
}

const Field* MapReader::find(std::string_view key) const {
  for (const Entry& entry : m_entries)
    if (entry.key == key) return &entry.value;
  return nullptr;
}

core::Result<std::string> read_small_file(const std::filesystem::path& file, std::string_view what) {
  constexpr size_t k_max_bytes = 1024 * 1024;
  auto failure = [&](std::string_view why) {
    return core::fail(core::Errc::config, "cannot read {} {}: {}", what, file.string(), why);
  };
  core::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return failure(std::strerror(errno));
  std::string text;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure(std::strerror(errno));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > k_max_bytes) return failure(fmt::format("larger than {} bytes; is this the right file?", k_max_bytes));
  }
  return text;
}

} // namespace anemone::config::detail
