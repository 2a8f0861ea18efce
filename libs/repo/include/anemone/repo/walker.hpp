#pragma once
// Walks the trees of snapshots: used by check, prune, ls, diff and stats.
#include <functional>
#include <string>
#include <unordered_set>

#include "anemone/core/error.hpp"
#include "anemone/repo/repository.hpp"

namespace anemone::repo {

// Calls `visit(path, node)` for every node below `tree` in depth-first, name order. Paths have no
// leading '/': "data/docs/a.txt". Trees in `seen` are not entered again (pass nullptr to enter all).
using NodeVisitor = std::function<core::Result<void>(const std::string& path, const Node& node)>;
core::Result<void> walk_tree(Repository& repo, const BlobId& tree, const std::string& prefix, const NodeVisitor& visit,
                             std::unordered_set<BlobId, BlobIdHash>* seen = nullptr);

// Every blob (trees and data) that the given snapshots reference. Fails when a tree cannot be read:
// prune must never delete data on the strength of a damaged listing.
core::Result<std::unordered_set<BlobId, BlobIdHash>> used_blobs(Repository& repo, const std::vector<Snapshot>& snapshots);

} // namespace anemone::repo
