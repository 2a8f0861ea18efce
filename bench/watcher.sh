#!/usr/bin/env bash
# Anemone live-mode benchmark: the watcher (`watcher run`, mode live) vs inotifywait, the peer the
# old shell scripts used (`inotifywait -m -r -e create,delete,modify,close_write,move,attrib DIR`).
#
# Builds a tree of N directories (default 100 000) and, for each tool in turn on that same tree:
#   setup  time until every directory is watched (watcher: `status --json` shows N+1 watched
#          directories and its initial backup run has finished; inotifywait: "Watches established.")
#   idle   CPU time (utime+stime) over --idle-seconds with nothing changing: shows no busy loop
#   burst  10 000 empty files created, spread over the tree: CPU for the events, and for the
#          watcher the number of backup runs it started for them
# and prints peak (VmHWM) and steady (VmRSS) memory and the anemone/inotifywait ratios.
# Run `bench/watcher.sh --help` for options.
set -euo pipefail
BENCH_NAME=watcher.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
CMDLINE="bench/watcher.sh${*:+ $*}"

DIRS=100000
IDLE_SECONDS=60
WORKDIR=/var/tmp/anemone-bench-watcher
BIN_DIR="$REPO_ROOT/build/bin"
KEEP=0
BURST_FILES=10000
DEBOUNCE_SECONDS=5
MAX_DELAY_SECONDS=60
SETTLE_SECONDS=2        # after the burst: both tools have read its events by then
SETUP_TIMEOUT=1800      # seconds; a setup (or the watcher's initial run) that takes longer fails
MARKER=.anemone-bench-watcher
INOTIFY_EVENTS=create,delete,modify,close_write,move,attrib

usage() {
  cat <<EOF
Usage: bench/watcher.sh [--dirs N] [--idle-seconds S] [--workdir DIR] [--bin DIR] [--keep]

Benchmarks Anemone's live-mode watcher (watcher run) against inotifywait -m -r
on a tree of N directories: time until all watches are set up, peak and steady
memory, CPU while idle, and CPU and backup runs for a burst of $BURST_FILES file
creations spread over the tree. The tools run one after the other.

Options:
  --dirs N          directories in the tree, besides its root (default: 100000)
  --idle-seconds S  idle period measured after setup (default: 60)
  --workdir DIR     work directory (default: /var/tmp/anemone-bench-watcher): the
                    tree, the watcher's config, state, secrets and local repository,
                    and logs/. Removed at the end unless --keep.
  --bin DIR         directory holding watcher and backup-sender (default: <repo>/build/bin)
  --keep            keep the work directory afterwards
  -h, --help        show this help

Needs root when fs.inotify.max_user_watches is below 2*N (it is raised for the
run and restored at the end) and to install inotify-tools when inotifywait is
missing. The page cache is dropped before each tool starts when
/proc/sys/vm/drop_caches is writable; the report says whether that happened.
The watcher is configured with mode live, debounce_seconds $DEBOUNCE_SECONDS,
max_delay_seconds $MAX_DELAY_SECONDS and one local repository target.
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dirs) [[ $# -ge 2 ]] || die "--dirs needs a value"; DIRS=$2; shift 2 ;;
    --dirs=*) DIRS=${1#*=}; shift ;;
    --idle-seconds) [[ $# -ge 2 ]] || die "--idle-seconds needs a value"; IDLE_SECONDS=$2; shift 2 ;;
    --idle-seconds=*) IDLE_SECONDS=${1#*=}; shift ;;
    --workdir) [[ $# -ge 2 ]] || die "--workdir needs a value"; WORKDIR=$2; shift 2 ;;
    --workdir=*) WORKDIR=${1#*=}; shift ;;
    --bin) [[ $# -ge 2 ]] || die "--bin needs a value"; BIN_DIR=$2; shift 2 ;;
    --bin=*) BIN_DIR=${1#*=}; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ "$DIRS" =~ ^[0-9]+$ && $DIRS -ge 1 && $DIRS -le 10000000 ]] || die "--dirs must be 1..10000000 (got '$DIRS')"
[[ "$IDLE_SECONDS" =~ ^[0-9]+$ && $IDLE_SECONDS -ge 1 ]] || die "--idle-seconds must be a positive integer (got '$IDLE_SECONDS')"

# ------------------------------------------------------------ prerequisites
TOOLS=(anemone inotifywait)
for c in awk xargs find getconf; do command -v "$c" >/dev/null || die "$c not found"; done
[[ "$BIN_DIR" = /* ]] || BIN_DIR="$PWD/$BIN_DIR"
WATCHER="$BIN_DIR/watcher"
SENDER="$BIN_DIR/backup-sender"
for b in "$WATCHER" "$SENDER"; do
  [[ -x "$b" ]] || die "$b not found or not executable.
  Build it first (scripts/build.sh), or pass --bin DIR"
done
need_peer inotifywait inotify-tools
CLK_TCK=$(getconf CLK_TCK)

if [[ -e "$WORKDIR" && ! -e "$WORKDIR/$MARKER" ]] && [[ -n "$(ls -A "$WORKDIR" 2>/dev/null)" ]]; then
  die "$WORKDIR exists, is not empty and was not made by this script; it would be removed at the end: pick another --workdir"
fi
mkdir -p "$WORKDIR"
WORK=$(cd "$WORKDIR" && pwd)
[[ "$WORK" != / ]] || die "--workdir must not be /"
: >"$WORK/$MARKER"
TREE="$WORK/tree"
ASTATE="$WORK/anemone"
CFG="$ASTATE/config.yaml"
PASSFILE="$ASTATE/secrets/repository.pass"
LOGDIR="$WORK/logs"

WATCHER_PID=""
INOTIFY_PID=""
WATCHES_SYSCTL=/proc/sys/fs/inotify/max_user_watches
OLD_WATCHES=""

# alive PID — running and not a zombie (a zombie child keeps its pid until it is waited for).
alive() {
  local stat
  # read, not $(<…): a failed redirection in a command substitution ends the script under set -e.
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}
# stop_pid PID NAME — SIGTERM, up to 60 s to stop, then SIGKILL; always reaped.
stop_pid() {
  local pid=$1 i
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      log "$2 (pid $pid) still running 60 s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  if [[ -n "$WATCHER_PID" ]]; then stop_pid "$WATCHER_PID" watcher; fi
  if [[ -n "$INOTIFY_PID" ]]; then stop_pid "$INOTIFY_PID" inotifywait; fi
  if [[ -n "$OLD_WATCHES" ]]; then
    if echo "$OLD_WATCHES" >"$WATCHES_SYSCTL" 2>/dev/null; then
      log "restored fs.inotify.max_user_watches to $OLD_WATCHES"
    else
      echo "$BENCH_NAME: could not restore fs.inotify.max_user_watches to $OLD_WATCHES" >&2
    fi
  fi
  if [[ $KEEP -eq 0 ]]; then rm -rf "$WORK"; else log "kept $WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ inotify limit
# Each tool holds N+1 watches while it runs (one at a time); 2*N leaves room for other users.
cur_watches=$(<"$WATCHES_SYSCTL")
need_watches=$((DIRS * 2))
WATCHES_NOTE="fs.inotify.max_user_watches $cur_watches (unchanged)"
if [[ $cur_watches -lt $need_watches ]]; then
  echo "$need_watches" >"$WATCHES_SYSCTL" 2>/dev/null ||
    die "fs.inotify.max_user_watches is $cur_watches, below 2*N = $need_watches, and not writable (run as root or raise it)"
  OLD_WATCHES=$cur_watches
  log "raised fs.inotify.max_user_watches from $cur_watches to $need_watches for this run (restored at the end)"
  WATCHES_NOTE="fs.inotify.max_user_watches raised from $cur_watches to $need_watches for the run, then restored"
fi

# ------------------------------------------------------------ page cache
CACHE_NOTE="not dropped (/proc/sys/vm/drop_caches not writable); both tools walked a warm cache"
CAN_DROP=0
sync
if (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
  CAN_DROP=1
  CACHE_NOTE="dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before each tool started"
fi

# ------------------------------------------------------------ helpers
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b - a}'; }
# cpu_ticks PID — utime+stime of the process itself (not of its children), in clock ticks.
cpu_ticks() {
  local stat f
  stat=$(<"/proc/$1/stat")
  read -r -a f <<<"${stat##*) }"
  echo $((f[11] + f[12]))
}
ticks_s() { awk -v t="$1" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", t / hz}'; }
# proc_kib PID FIELD — a /proc/PID/status field in KiB (VmRSS, VmHWM).
proc_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k / 1024}'; }
# inotify_watches PID — watches the process holds, counted from /proc/PID/fdinfo.
inotify_watches() {
  local fd n=0
  for fd in "/proc/$1/fd/"*; do
    [[ $(readlink "$fd" 2>/dev/null) == anon_inode:inotify ]] || continue
    n=$((n + $(grep -c '^inotify wd:' "/proc/$1/fdinfo/${fd##*/}" || true)))
  done
  echo "$n"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == 0) print (a == 0 ? "- (both 0)" : "-"); else printf "%.2f", a / b }'; }

STATUS=""
read_status() { STATUS=$("$WATCHER" --config "$CFG" status --json 2>/dev/null) || STATUS=""; }
# status_num KEY — a number from the last read_status (empty when absent).
status_num() {
  local re="\"$1\": ([0-9]+)"
  if [[ $STATUS =~ $re ]]; then echo "${BASH_REMATCH[1]}"; fi
}
status_idle() { [[ $STATUS == *'"run": null'* ]]; }

# ------------------------------------------------------------ tree
# ceil(sqrt(N)) top-level directories, the rest spread evenly below them: N directories in all.
DIRLIST=()
make_tree() {
  local top=1 i
  while ((top * top < DIRS)); do top=$((top + 1)); done
  for ((i = 0; i < top; i++)); do DIRLIST+=("t$i"); done
  for ((i = 0; i < DIRS - top; i++)); do DIRLIST+=("t$((i % top))/d$i"); done
  rm -rf "$TREE"
  mkdir -p "$TREE"
  # xargs runs its mkdir batches in order, so every top-level directory exists before its children.
  (cd "$TREE" && printf '%s\0' "${DIRLIST[@]}" | xargs -0 mkdir --)
}
BURST_PATHS=()
burst_paths() {
  local i
  for ((i = 0; i < BURST_FILES; i++)); do
    BURST_PATHS+=("$TREE/${DIRLIST[i * DIRS / BURST_FILES]}/burst-$i")
  done
}
# burst — creates every burst file (open, close: IN_CREATE and IN_CLOSE_WRITE each); sets BURST_S.
BURST_S=""
burst() {
  local t0 p
  t0=$(now)
  for p in "${BURST_PATHS[@]}"; do : >"$p"; done
  BURST_S=$(elapsed "$t0" "$(now)")
}
unburst() { printf '%s\0' "${BURST_PATHS[@]}" | xargs -0 rm -f --; }

declare -A R=()   # R[tool.metric]

# ------------------------------------------------------------ anemone (watcher)
write_watcher_config() {
  rm -rf "$ASTATE"
  mkdir -p "$ASTATE/logs" "$ASTATE/state"
  mkdir -m 0700 "$ASTATE/secrets"
  # The passphrase goes straight to a 0600 file: never on a command line.
  (umask 077 && head -c 32 /dev/urandom | base64 >"$PASSFILE")
  cat >"$CFG" <<EOF
server:
  name: bench
paths:
  secrets: $ASTATE/secrets
  logs: $ASTATE/logs
  run: $ASTATE/run
state:
  path: $ASTATE/state/anemone.db
backup:
  passphrase_file: $PASSFILE
  mode: live
  debounce_seconds: $DEBOUNCE_SECONDS
  max_delay_seconds: $MAX_DELAY_SECONDS
  sources:
    - name: tree
      path: $TREE
  targets:
    - name: local
      type: local
      path: $ASTATE/repo
EOF
}

bench_watcher() {
  local start t0 t_watch="" t_ready="" c0 c1 c2 r0 runs pending stable t_end deadline
  write_watcher_config
  run_logged anemone-init "$WORK" "$SENDER" --config "$CFG" init || die "backup-sender init failed"
  drop_caches
  log "watcher: starting on $((DIRS + 1)) directories"
  start=$SECONDS
  t0=$(now)
  "$WATCHER" --config "$CFG" run >"$LOGDIR/watcher.out" 2>"$LOGDIR/watcher.log" &
  WATCHER_PID=$!
  # Ready: every directory watched, and the initial backup run (made at start) has finished.
  while :; do
    alive "$WATCHER_PID" || { tail -n 20 "$LOGDIR/watcher.log" >&2; die "the watcher stopped during setup (log: $LOGDIR/watcher.log)"; }
    read_status
    if [[ "$(status_num watched_dirs)" == "$((DIRS + 1))" ]]; then
      [[ -n "$t_watch" ]] || t_watch=$(now)
      if [[ "$(status_num runs_started)" -ge 1 ]] && status_idle; then t_ready=$(now); break; fi
    fi
    ((SECONDS - start < SETUP_TIMEOUT)) || die "watcher not ready after $SETUP_TIMEOUT s"
    sleep 0.1
  done
  R[anemone.watch_s]=$(elapsed "$t0" "$t_watch")
  R[anemone.setup_s]=$(elapsed "$t0" "$t_ready")
  R[anemone.setup_cpu]=$(ticks_s "$(cpu_ticks "$WATCHER_PID")")
  R[anemone.setup_hwm]=$(proc_kib "$WATCHER_PID" VmHWM)
  R[anemone.watches]=$(inotify_watches "$WATCHER_PID")
  R[anemone.initial_run]=$(sed -n 's/.*backup-sender run finished in \([0-9.]*s\).*/\1/p' "$LOGDIR/watcher.log" | tail -n 1)
  log "watcher: watches set up in ${R[anemone.watch_s]} s, ready (initial run done) in ${R[anemone.setup_s]} s"

  log "watcher: idle for $IDLE_SECONDS s"
  c0=$(cpu_ticks "$WATCHER_PID")
  sleep "$IDLE_SECONDS"
  c1=$(cpu_ticks "$WATCHER_PID")
  R[anemone.idle_cpu]=$(ticks_s $((c1 - c0)))
  R[anemone.steady_rss]=$(proc_kib "$WATCHER_PID" VmRSS)

  read_status
  r0=$(status_num runs_started)
  log "watcher: burst of $BURST_FILES files"
  c0=$(cpu_ticks "$WATCHER_PID")
  burst
  t_end=$(now)
  start=$SECONDS
  sleep "$SETTLE_SECONDS"
  c1=$(cpu_ticks "$WATCHER_PID")
  R[burst_s.anemone]=$BURST_S
  R[anemone.burst_cpu]=$(ticks_s $((c1 - c0)))
  # Its runs: wait until one has started and finished with nothing pending, then a debounce period
  # more (plus a margin) to see that no other run follows.
  deadline=$((MAX_DELAY_SECONDS + SETUP_TIMEOUT))
  stable=0
  while :; do
    alive "$WATCHER_PID" || die "the watcher stopped after the burst (log: $LOGDIR/watcher.log)"
    read_status
    pending=$(status_num pending_changes)
    if [[ "$(status_num runs_started)" -gt "$r0" && "$pending" == 0 ]] && status_idle; then
      [[ -n "${R[anemone.burst_done_s]:-}" ]] || R[anemone.burst_done_s]=$(elapsed "$t_end" "$(now)")
      stable=$((stable + 1))
      [[ $stable -lt $(((DEBOUNCE_SECONDS + 2) * 2)) ]] || break
    else
      stable=0
      R[anemone.burst_done_s]=""
    fi
    ((SECONDS - start < deadline)) || die "the burst's backup run did not finish within $deadline s"
    sleep 0.5
  done
  c2=$(cpu_ticks "$WATCHER_PID")
  runs=$(( $(status_num runs_started) - r0 ))
  R[anemone.burst_runs]=$runs
  R[anemone.burst_cpu_all]=$(ticks_s $((c2 - c0)))
  R[anemone.burst_changes]=$(sed -n 's/.*starting backup-sender run (\([0-9]*\) changes).*/\1/p' "$LOGDIR/watcher.log" | tail -n "$runs" | paste -sd+ -)
  R[anemone.burst_run]=$(sed -n 's/.*backup-sender run finished in \([0-9.]*s\).*/\1/p' "$LOGDIR/watcher.log" | tail -n 1)
  R[anemone.overflows]=$(status_num overflows)
  R[anemone.hwm]=$(proc_kib "$WATCHER_PID" VmHWM)
  R[anemone.rss_end]=$(proc_kib "$WATCHER_PID" VmRSS)
  log "watcher: burst: ${R[anemone.burst_cpu]} s CPU for the events, $runs run(s) started; stopping"
  stop_pid "$WATCHER_PID" watcher
  WATCHER_PID=""
  unburst
}

# ------------------------------------------------------------ inotifywait
bench_inotifywait() {
  local start t0 t_ready c0 c1 l0
  drop_caches
  log "inotifywait: starting on $((DIRS + 1)) directories"
  start=$SECONDS
  t0=$(now)
  # Without -q: "Watches established." on stderr marks the end of the setup.
  inotifywait -m -r -e "$INOTIFY_EVENTS" "$TREE" >"$LOGDIR/inotifywait.out" 2>"$LOGDIR/inotifywait.err" &
  INOTIFY_PID=$!
  while ! grep -q 'Watches established\.' "$LOGDIR/inotifywait.err"; do
    alive "$INOTIFY_PID" || { cat "$LOGDIR/inotifywait.err" >&2; die "inotifywait stopped during setup"; }
    ((SECONDS - start < SETUP_TIMEOUT)) || die "inotifywait not ready after $SETUP_TIMEOUT s"
    sleep 0.02
  done
  t_ready=$(now)
  R[inotifywait.watch_s]=$(elapsed "$t0" "$t_ready")
  R[inotifywait.setup_s]=${R[inotifywait.watch_s]}
  R[inotifywait.setup_cpu]=$(ticks_s "$(cpu_ticks "$INOTIFY_PID")")
  R[inotifywait.setup_hwm]=$(proc_kib "$INOTIFY_PID" VmHWM)
  R[inotifywait.watches]=$(inotify_watches "$INOTIFY_PID")
  log "inotifywait: watches established in ${R[inotifywait.watch_s]} s"

  log "inotifywait: idle for $IDLE_SECONDS s"
  c0=$(cpu_ticks "$INOTIFY_PID")
  sleep "$IDLE_SECONDS"
  c1=$(cpu_ticks "$INOTIFY_PID")
  R[inotifywait.idle_cpu]=$(ticks_s $((c1 - c0)))
  R[inotifywait.steady_rss]=$(proc_kib "$INOTIFY_PID" VmRSS)

  log "inotifywait: burst of $BURST_FILES files"
  l0=$(wc -l <"$LOGDIR/inotifywait.out")
  c0=$(cpu_ticks "$INOTIFY_PID")
  burst
  sleep "$SETTLE_SECONDS"
  c1=$(cpu_ticks "$INOTIFY_PID")
  R[burst_s.inotifywait]=$BURST_S
  R[inotifywait.burst_cpu]=$(ticks_s $((c1 - c0)))
  R[inotifywait.burst_changes]=$(( $(wc -l <"$LOGDIR/inotifywait.out") - l0 ))
  R[inotifywait.overflows]=$(grep -c 'Q_OVERFLOW' "$LOGDIR/inotifywait.out" || true)
  R[inotifywait.hwm]=$(proc_kib "$INOTIFY_PID" VmHWM)
  R[inotifywait.rss_end]=$(proc_kib "$INOTIFY_PID" VmRSS)
  log "inotifywait: burst: ${R[inotifywait.burst_cpu]} s CPU, ${R[inotifywait.burst_changes]} events printed; stopping"
  stop_pid "$INOTIFY_PID" inotifywait
  INOTIFY_PID=""
  unburst
}

# ------------------------------------------------------------ run
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"
log "workdir: $WORK; page cache: $CACHE_NOTE"
log "creating $DIRS directories in $TREE"
t_tree=$(now)
make_tree
burst_paths
log "tree created in $(elapsed "$t_tree" "$(now)") s"
n_dirs=$(find "$TREE" -type d | wc -l)
[[ $n_dirs -eq $((DIRS + 1)) ]] || die "the tree has $n_dirs directories, expected $((DIRS + 1))"

bench_watcher
bench_inotifywait

# ------------------------------------------------------------ report
a_ver=$(first_line "$WATCHER" --version)
i_ver=$(inotifywait --help 2>&1 | head -n 1 || true)
row() { printf '| %s | %s | %s | %s |\n' "$@"; }
{
  echo "- Command: \`$CMDLINE\`"
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- Machine: nproc $(nproc), $(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown)," \
    "$(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)," \
    "workdir on $(df -PT "$WORK" 2>/dev/null | awk 'NR==2{print $2}')"
  echo "- Tree: $DIRS directories + the root ($((DIRS + 1)) watches each; counted in /proc/PID/fdinfo:" \
    "watcher ${R[anemone.watches]}, inotifywait ${R[inotifywait.watches]}), no files; burst: $BURST_FILES empty files" \
    "created evenly over the directories in ${R[burst_s.anemone]} s (watcher) and ${R[burst_s.inotifywait]} s (inotifywait)"
  echo "- Page cache: $CACHE_NOTE; $WATCHES_NOTE"
  echo "- anemone: \`$a_ver\`, mode live, debounce ${DEBOUNCE_SECONDS} s, max delay ${MAX_DELAY_SECONDS} s, one local target"
  echo "- inotifywait: \`$i_ver\`, \`inotifywait -m -r -e $INOTIFY_EVENTS DIR\` (without -q, for \"Watches established.\")"
  echo
  row metric "anemone watcher" inotifywait "anemone/inotifywait"
  row --- --- --- ---
  row "all watches set up, s" "${R[anemone.watch_s]}" "${R[inotifywait.watch_s]}" "$(ratio "${R[anemone.watch_s]}" "${R[inotifywait.watch_s]}")"
  row "ready (watches + the watcher's initial backup run), s" "${R[anemone.setup_s]} (run ${R[anemone.initial_run]:-?})" \
    "${R[inotifywait.setup_s]}" "$(ratio "${R[anemone.setup_s]}" "${R[inotifywait.setup_s]}")"
  row "CPU until ready, s" "${R[anemone.setup_cpu]}" "${R[inotifywait.setup_cpu]}" "$(ratio "${R[anemone.setup_cpu]}" "${R[inotifywait.setup_cpu]}")"
  row "peak RSS after setup (VmHWM), MiB" "$(mib "${R[anemone.setup_hwm]}")" "$(mib "${R[inotifywait.setup_hwm]}")" \
    "$(ratio "${R[anemone.setup_hwm]}" "${R[inotifywait.setup_hwm]}")"
  row "steady RSS after idle (VmRSS), MiB" "$(mib "${R[anemone.steady_rss]}")" "$(mib "${R[inotifywait.steady_rss]}")" \
    "$(ratio "${R[anemone.steady_rss]}" "${R[inotifywait.steady_rss]}")"
  row "peak RSS over the whole run (VmHWM), MiB" "$(mib "${R[anemone.hwm]}")" "$(mib "${R[inotifywait.hwm]}")" \
    "$(ratio "${R[anemone.hwm]}" "${R[inotifywait.hwm]}")"
  row "CPU over ${IDLE_SECONDS} s idle, s" "${R[anemone.idle_cpu]}" "${R[inotifywait.idle_cpu]}" "$(ratio "${R[anemone.idle_cpu]}" "${R[inotifywait.idle_cpu]}")"
  row "CPU for the burst (to ${SETTLE_SECONDS} s after it), s" "${R[anemone.burst_cpu]}" "${R[inotifywait.burst_cpu]}" \
    "$(ratio "${R[anemone.burst_cpu]}" "${R[inotifywait.burst_cpu]}")"
  row "burst events (watcher: changes counted; inotifywait: lines printed)" "${R[anemone.burst_changes]:-?}" "${R[inotifywait.burst_changes]}" -
  row "queue overflows" "${R[anemone.overflows]:-?}" "${R[inotifywait.overflows]}" -
  row "backup runs started for the burst" "${R[anemone.burst_runs]}" - -
  row "burst end → its run finished, s" "${R[anemone.burst_done_s]:-?} (run ${R[anemone.burst_run]:-?})" - -
  row "watcher CPU from the burst to the end of its run, s" "${R[anemone.burst_cpu_all]}" - -
} >"$LOGDIR/results.md"
echo
echo "Markdown (also written to $LOGDIR/results.md; removed with the work directory unless --keep):"
echo
cat "$LOGDIR/results.md"
