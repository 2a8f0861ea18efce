#pragma once
// Retention as restic and borg users know it: keep the newest `keep_last` snapshots, and the newest
// snapshot of each of the last N hours/days/weeks/months/years that have one (local time, ISO weeks).
// Snapshots are grouped by host and source names; each group is judged on its own. An empty policy
// keeps everything.
#include <string>
#include <vector>

#include "anemone/config/config.hpp"
#include "anemone/repo/tree.hpp"

namespace anemone::repo {

struct RetentionDecision {
  Snapshot snapshot;
  bool keep = false;
  std::vector<std::string> reasons; // "last", "daily", …
};

std::vector<RetentionDecision> apply_retention(const std::vector<Snapshot>& snapshots, const config::Retention& policy);

} // namespace anemone::repo
