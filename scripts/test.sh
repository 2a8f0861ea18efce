#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through CTest (unit and integration, in
# parallel), then the sanitizer and fuzz stage. Extra arguments go to ctest and skip that stage,
# e.g. `scripts/test.sh -L unit` or `scripts/test.sh -R crash`.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
scripts/install-deps.sh
scripts/build.sh
jobs=$(nproc 2>/dev/null || echo 2)
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j"$jobs" "$@")
if [ $# -eq 0 ]; then
  # The unit tests under AddressSanitizer and UBSan (clang), and every fuzz target for a bounded
  # time: a second build, run once the main suite has passed.
  "$top/scripts/sanitize-and-fuzz.sh"
fi
