#!/usr/bin/env bash
# A second build with clang, AddressSanitizer and UBSan: runs the unit tests under the sanitizers,
# then every libFuzzer target from its seed corpus. By default a fixed seed and a fixed number of
# runs (FUZZ_RUNS, 150000 per target), so CI repeats exactly what a developer ran; FUZZ_SECONDS=N
# explores for N seconds with a random seed instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh clang libclang-rt-14-dev  # libFuzzer and the sanitizer runtimes
build_dir=${SANITIZE_BUILD_DIR:-build-sanitize}
runs=${FUZZ_RUNS:-150000}
if [ -n "${FUZZ_SECONDS:-}" ]; then budget=(-max_total_time="$FUZZ_SECONDS"); else budget=(-seed=1 -runs="$runs"); fi
jobs=$(nproc 2>/dev/null || echo 2)
CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DANEMONE_FUZZ=ON >/dev/null
cmake --build "$build_dir" -j"$jobs" --target unit_tests fuzz_repo_parsers fuzz_config fuzz_mesh_codes fuzz_config_backup
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd "$build_dir" && ctest --output-on-failure -j"$jobs" -L unit)
for target in fuzz_repo_parsers fuzz_config fuzz_mesh_codes fuzz_config_backup; do
  corpus=$(mktemp -d)
  cp tests/fuzz/corpus/$target/* "$corpus/"
  echo "fuzzing $target (${budget[*]})"
  "$build_dir/bin/$target" "${budget[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "$corpus" 2>&1 | tail -n 12
  rm -rf "$corpus"
done
echo "sanitizers and fuzzers: no findings"
