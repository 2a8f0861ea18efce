#include "anemone/repo/walker.hpp"

namespace anemone::repo {

core::Result<void> walk_tree(Repository& repo, const BlobId& tree_id, const std::string& prefix,
                             const NodeVisitor& visit, std::unordered_set<BlobId, BlobIdHash>* seen) {
  if (seen && !seen->insert(tree_id).second) return {};
  auto tree = TRY_CTX(repo.load_tree(tree_id), prefix.empty() ? std::string("/") : prefix);
  for (const auto& node : tree.nodes) {
    std::string path = prefix.empty() ? node.name : prefix + "/" + node.name;
    TRY(visit(path, node));
    if (node.type == NodeType::dir && node.subtree) TRY(walk_tree(repo, *node.subtree, path, visit, seen));
  }
  return {};
}

core::Result<std::unordered_set<BlobId, BlobIdHash>> used_blobs(Repository& repo,
                                                                const std::vector<Snapshot>& snapshots) {
  std::unordered_set<BlobId, BlobIdHash> used;
  std::unordered_set<BlobId, BlobIdHash> seen_trees;
  for (const auto& snapshot : snapshots) {
    used.insert(snapshot.tree);
    TRY_CTX(walk_tree(repo, snapshot.tree, "",
                      [&](const std::string&, const Node& node) -> core::Result<void> {
                        if (node.subtree) used.insert(*node.subtree);
                        for (const auto& id : node.content) used.insert(id);
                        return {};
                      },
                      &seen_trees),
            fmt::format("snapshot {}", snapshot.id.substr(0, 8)));
  }
  return used;
}

} // namespace anemone::repo
