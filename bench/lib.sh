#!/usr/bin/env bash
# Shared by the benchmarks (sourced): logging, timing under /usr/bin/time, result records.
# The caller sets BENCH_NAME and the globals these use (TOOLS, REPOS, LOGDIR, RESULTS, CAN_DROP,
# SECS, KIB, FAILED, ANY_FAIL).

die() { echo "$BENCH_NAME: error: $*" >&2; exit 2; }
log() { echo "==> $*" >&2; }
has_tool() { local t; for t in "${TOOLS[@]}"; do [[ "$t" == "$1" ]] && return 0; done; return 1; }
# need_peer TOOL PACKAGE — the peers are Debian packages; install one when it is missing (root).
need_peer() {
  has_tool "$1" || return 0
  command -v "$1" >/dev/null && return 0
  log "installing $2 (apt-get)"
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1; } || true
  fi
  command -v "$1" >/dev/null || die "$1 not found in PATH (apt-get install $2), or drop it with --only"
}
drop_caches() {
  sync
  if [[ $CAN_DROP -eq 1 ]]; then echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; fi
}
repo_of() { echo "$REPOS/$1"; }
repo_bytes() { if [[ -e "$1" ]]; then du -sb "$1" | cut -f1; else echo 0; fi; }
# run_logged KEY CWD CMD...  — unmeasured helper command (init), output to log.
run_logged() {
  local key=$1 cwd=$2; shift 2
  if ! (cd "$cwd" && exec "$@") >"$LOGDIR/$key.log" 2>&1; then
    echo "$BENCH_NAME: '$*' failed; last lines of $LOGDIR/$key.log:" >&2
    tail -n 20 "$LOGDIR/$key.log" >&2
    return 1
  fi
}
# measure KEY CWD CMD...  — runs CMD under /usr/bin/time; sets SECS[KEY], KIB[KEY].
measure() {
  local key=$1 cwd=$2; shift 2
  local tf="$LOGDIR/$key.time"
  drop_caches
  if ! (cd "$cwd" && exec /usr/bin/time -f '%e %M' -o "$tf" "$@") >"$LOGDIR/$key.log" 2>&1; then
    echo "$BENCH_NAME: '$*' failed; last lines of $LOGDIR/$key.log:" >&2
    tail -n 20 "$LOGDIR/$key.log" >&2
    return 1
  fi
  local s k
  read -r s k < <(tail -n 1 "$tf")
  SECS[$key]=$s
  KIB[$key]=$k
}
record() { # tool phase secs kib added status
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"
}
fail_tool() { # tool phase
  FAILED[$1]=1
  ANY_FAIL=1
  record "$1" "$2" - - - FAILED
}
first_line() { "$@" 2>&1 | head -n 1 || true; }
