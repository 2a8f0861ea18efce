#include "anemone/repo/tree.hpp"

#include <set>

#include <nlohmann/json.hpp>

#include "anemone/core/time.hpp"
#include "json_fields.hpp"

namespace anemone::repo {

using nlohmann::json;

std::string_view node_type_name(NodeType type) {
  switch (type) {
  case NodeType::file: return "file";
  case NodeType::dir: return "dir";
  case NodeType::symlink: return "symlink";
  case NodeType::fifo: return "fifo";
  case NodeType::chardev: return "chardev";
  case NodeType::blockdev: return "blockdev";
  }
  return "file";
}

namespace {
std::optional<NodeType> parse_node_type(const std::string& text) {
  for (auto type : {NodeType::file, NodeType::dir, NodeType::symlink, NodeType::fifo, NodeType::chardev,
                    NodeType::blockdev})
    if (node_type_name(type) == text) return type;
  return std::nullopt;
}

// Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF): what nlohmann::json accepts.
bool valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t code_point = 0;
    if ((c >> 5) == 0x6) extra = 1, code_point = c & 0x1fu;
    else if ((c >> 4) == 0xe) extra = 2, code_point = c & 0x0fu;
    else if ((c >> 3) == 0x1e) extra = 3, code_point = c & 0x07u;
    else return false;
    if (i + extra >= text.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next >> 6) != 0x2) return false;
      code_point = code_point << 6 | (next & 0x3fu);
    }
    static constexpr uint32_t k_smallest[] = {0, 0x80, 0x800, 0x10000};
    if (code_point < k_smallest[extra] || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff))
      return false;
    i += extra + 1;
  }
  return true;
}

void put_bytes_field(json& out, const char* plain_key, const char* hex_key, const std::string& value) {
  if (valid_utf8(value)) out[plain_key] = value;
  else out[hex_key] = core::to_hex(core::as_bytes(value));
}

core::Result<std::string> get_bytes_field(const json& in, const char* plain_key, const char* hex_key) {
  if (in.contains(plain_key)) return in[plain_key].get<std::string>();
  if (in.contains(hex_key)) {
    auto bytes = core::from_hex(in[hex_key].get<std::string>());
    if (!bytes) return core::fail(core::Errc::corrupt, "bad hex in '{}'", hex_key);
    return std::string(bytes->begin(), bytes->end());
  }
  return std::string();
}
} // namespace

bool valid_node_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

core::Bytes serialize_tree(const Tree& tree) {
  json nodes = json::array();
  for (const auto& node : tree.nodes) {
    json n = json::object();
    put_bytes_field(n, "name", "name_hex", node.name);
    n["type"] = node_type_name(node.type);
    n["mode"] = node.mode;
    n["uid"] = node.uid;
    n["gid"] = node.gid;
    n["mtime_ns"] = node.mtime_ns;
    n["inode"] = node.inode;
    n["device"] = node.device;
    if (node.links > 1) n["links"] = node.links;
    if (node.type == NodeType::file) {
      n["size"] = node.size;
      json content = json::array();
      for (const auto& id : node.content) content.push_back(id_hex(id));
      n["content"] = std::move(content);
    }
    if (node.type == NodeType::symlink) put_bytes_field(n, "target", "target_hex", node.link_target);
    if (node.type == NodeType::chardev || node.type == NodeType::blockdev) n["rdev"] = node.rdev;
    if (node.subtree) n["subtree"] = id_hex(*node.subtree);
    nodes.push_back(std::move(n));
  }
  std::string text = json{{"nodes", std::move(nodes)}}.dump();
  return core::Bytes(text.begin(), text.end());
}

core::Result<Tree> parse_tree(core::ByteView body) {
  json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("nodes") || !doc["nodes"].is_array())
    return core::fail(core::Errc::corrupt, "tree is not a JSON object with nodes");
  Tree tree;
  std::set<std::string> seen;
  try {
    for (const auto& n : doc["nodes"]) {
      Node node;
      node.name = TRY(get_bytes_field(n, "name", "name_hex"));
      if (!valid_node_name(node.name))
        return core::fail(core::Errc::corrupt, "tree holds an unsafe name '{}'", node.name);
      if (!seen.insert(node.name).second)
        return core::fail(core::Errc::corrupt, "tree holds '{}' twice", node.name);
      auto type = parse_node_type(n.at("type").get<std::string>());
      if (!type) return core::fail(core::Errc::corrupt, "unknown node type {}", n.at("type").dump());
      node.type = *type;
      node.mode = TRY(number_field<uint32_t>(n, "mode"));
      if (node.mode > 07777) return core::fail(core::Errc::corrupt, "node mode {} out of range", node.mode);
      node.uid = TRY(number_field<uint32_t>(n, "uid"));
      node.gid = TRY(number_field<uint32_t>(n, "gid"));
      node.mtime_ns = TRY(number_field<int64_t>(n, "mtime_ns"));
      node.inode = TRY(number_field<uint64_t>(n, "inode", uint64_t{0}));
      node.device = TRY(number_field<uint64_t>(n, "device", uint64_t{0}));
      node.links = TRY(number_field<uint64_t>(n, "links", uint64_t{1}));
      node.size = TRY(number_field<uint64_t>(n, "size", uint64_t{0}));
      node.rdev = TRY(number_field<uint64_t>(n, "rdev", uint64_t{0}));
      if (n.contains("content"))
        for (const auto& id : n["content"]) node.content.push_back(TRY(parse_id(id.get<std::string>())));
      if (node.type == NodeType::symlink) node.link_target = TRY(get_bytes_field(n, "target", "target_hex"));
      if (n.contains("subtree")) node.subtree = TRY(parse_id(n["subtree"].get<std::string>()));
      if (node.type == NodeType::dir && !node.subtree)
        return core::fail(core::Errc::corrupt, "directory '{}' has no subtree", node.name);
      tree.nodes.push_back(std::move(node));
    }
  } catch (const json::exception& error) {
    return core::fail(core::Errc::corrupt, "tree: {}", error.what());
  }
  return tree;
}

core::Bytes serialize_snapshot(const Snapshot& s) {
  json sources = json::array();
  for (const auto& source : s.sources) {
    json entry = {{"name", source.name}};
    put_bytes_field(entry, "path", "path_hex", source.path);
    sources.push_back(std::move(entry));
  }
  json doc = {{"version", 1},
              {"time", core::format_utc_precise(s.time_ns)},
              {"host", s.host},
              {"hostname", s.hostname},
              {"sources", std::move(sources)},
              {"tree", id_hex(s.tree)},
              {"summary", {{"files", s.files}, {"dirs", s.dirs}, {"bytes", s.bytes}}}};
  if (s.parent) doc["parent"] = *s.parent;
  std::string text = doc.dump(2);
  return core::Bytes(text.begin(), text.end());
}

core::Result<Snapshot> parse_snapshot(core::ByteView body, std::string id) {
  json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("version") || doc["version"] != 1)
    return core::fail(core::Errc::corrupt, "snapshot {} is not a version 1 snapshot", id);
  Snapshot s;
  s.id = std::move(id);
  try {
    auto time = core::parse_utc(doc.at("time").get<std::string>());
    if (!time) return core::fail(core::Errc::corrupt, "snapshot {}: bad time", s.id);
    s.time_ns = *time;
    s.host = doc.at("host").get<std::string>();
    s.hostname = doc.value("hostname", "");
    for (const auto& source : doc.at("sources"))
      s.sources.push_back({source.at("name").get<std::string>(), TRY(get_bytes_field(source, "path", "path_hex"))});
    s.tree = TRY(parse_id(doc.at("tree").get<std::string>()));
    if (doc.contains("parent")) s.parent = doc["parent"].get<std::string>();
    const auto& summary = doc.at("summary");
    s.files = TRY(number_field<uint64_t>(summary, "files", uint64_t{0}));
    s.dirs = TRY(number_field<uint64_t>(summary, "dirs", uint64_t{0}));
    s.bytes = TRY(number_field<uint64_t>(summary, "bytes", uint64_t{0}));
  } catch (const json::exception& error) {
    return core::fail(core::Errc::corrupt, "snapshot {}: {}", s.id, error.what());
  }
  return s;
}

} // namespace anemone::repo
