#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through CTest (unit and integration, in
# parallel). Extra arguments go to ctest, e.g. `scripts/test.sh -L unit` or `-R crash`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
jobs=$(nproc 2>/dev/null || echo 2)
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j"$jobs" "$@"
# The same unit tests under AddressSanitizer and UBSan (clang), and every fuzz target for a bounded
# time: a second build, so it runs after the main suite has passed.
cd ..
scripts/sanitize-and-fuzz.sh
