#pragma once
// Directory listings (trees) and snapshots. A tree is a JSON document of nodes sorted by name; a
// name or link target that is not valid UTF-8 is stored hex-encoded under "name_hex"/"target_hex", so
// any byte string except '/' and NUL round-trips.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "anemone/core/bytes.hpp"
#include "anemone/core/error.hpp"
#include "anemone/repo/blob.hpp"

namespace anemone::repo {

enum class NodeType { file, dir, symlink, fifo, chardev, blockdev };
std::string_view node_type_name(NodeType type);

struct Node {
  std::string name; // raw bytes
  NodeType type = NodeType::file;
  uint32_t mode = 0; // permission bits incl. setuid/setgid/sticky
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_ns = 0;
  uint64_t size = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  uint64_t links = 1;
  uint64_t rdev = 0;
  std::string link_target;     // symlink
  std::vector<BlobId> content; // file
  std::optional<BlobId> subtree;
};

struct Tree {
  std::vector<Node> nodes;
};

core::Bytes serialize_tree(const Tree& tree);
// Rejects names that could escape a restore ("", ".", "..", containing '/' or NUL) and duplicates.
core::Result<Tree> parse_tree(core::ByteView body);
bool valid_node_name(std::string_view name);

struct SnapshotSource {
  std::string name;
  std::string path;
};

struct Snapshot {
  std::string id; // file name in the repository (not stored inside)
  int64_t time_ns = 0;
  std::string host;     // server.name
  std::string hostname; // machine
  std::vector<SnapshotSource> sources;
  BlobId tree{}; // root tree: one directory node per source
  std::optional<std::string> parent;
  uint64_t files = 0;
  uint64_t dirs = 0;
  uint64_t bytes = 0;
};

core::Bytes serialize_snapshot(const Snapshot& snapshot);
core::Result<Snapshot> parse_snapshot(core::ByteView body, std::string id);

} // namespace anemone::repo
