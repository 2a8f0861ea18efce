#!/usr/bin/env bash
# Anemone backup-engine benchmark: anemone (backup-sender) vs restic vs borg.
#
# Generates (and caches) a deterministic data set, then runs for every tool,
# on local repositories:
#   backup1  first backup
#   backup2  unchanged re-backup
#   backup3  re-backup after inserting 100 bytes in the middle of the large file
#   restore  full restore of the latest snapshot (verified against the source)
# and prints wall time, peak RSS and repository growth per phase, plus the
# anemone/restic and anemone/borg ratios beside the project's goals.
# Run `bench/engine.sh --help` for options.
set -euo pipefail
BENCH_NAME=engine.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
DATASET_PY="$SCRIPT_DIR/make-dataset.py"
REPORT_PY="$SCRIPT_DIR/report.py"
CMDLINE="bench/engine.sh${*:+ $*}"

SIZE_GIB=1
WORKDIR=/var/tmp/anemone-bench
BIN_DIR="$REPO_ROOT/build/bin"
KEEP=0
ONLY="anemone,restic,borg"

usage() {
  cat <<EOF
Usage: bench/engine.sh [--size-gib N] [--workdir DIR] [--bin DIR] [--only LIST] [--keep]

Benchmarks the Anemone backup engine (backup-sender) against restic and borg
on local repositories: first backup, unchanged re-backup, re-backup after an
insertion in the middle of the large file, and a verified full restore.

Options:
  --size-gib N   data set size scale, fractional allowed (default: 1 → ~1.16 GiB:
                 300 MiB text, 300 MiB random, ~100 MiB duplicates,
                 50 000 small files, one 256 MiB file; every part scales with N,
                 with at least 500 small files)
  --workdir DIR  work directory (default: /var/tmp/anemone-bench). The data set
                 is cached in DIR/data and regenerated only when missing or
                 when --size-gib changes. Results go to DIR/results.md,
                 command logs to DIR/logs/.
  --bin DIR      directory holding backup-sender (default: <repo>/build/bin)
  --only LIST    comma-separated tools to run: anemone,restic,borg (default: all)
  --keep         keep repositories, tool caches and restored trees afterwards
                 (default: delete them; the data set is always kept)
  -h, --help     show this help

The page cache is dropped before every measured command when
/proc/sys/vm/drop_caches is writable (i.e. as root outside a restricted
container); the report says whether that happened.
EOF
}


while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-gib) [[ $# -ge 2 ]] || die "--size-gib needs a value"; SIZE_GIB=$2; shift 2 ;;
    --size-gib=*) SIZE_GIB=${1#*=}; shift ;;
    --workdir) [[ $# -ge 2 ]] || die "--workdir needs a value"; WORKDIR=$2; shift 2 ;;
    --workdir=*) WORKDIR=${1#*=}; shift ;;
    --bin) [[ $# -ge 2 ]] || die "--bin needs a value"; BIN_DIR=$2; shift 2 ;;
    --bin=*) BIN_DIR=${1#*=}; shift ;;
    --only) [[ $# -ge 2 ]] || die "--only needs a value"; ONLY=$2; shift 2 ;;
    --only=*) ONLY=${1#*=}; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

if ! [[ "$SIZE_GIB" =~ ^[0-9]*\.?[0-9]+$ ]] || ! awk -v v="$SIZE_GIB" 'BEGIN{exit !(v>0)}'; then
  die "--size-gib must be a positive number (got '$SIZE_GIB')"
fi

# Tools, in the fixed order anemone, restic, borg.
TOOLS=()
IFS=',' read -r -a _only <<<"$ONLY"
for t in "${_only[@]}"; do
  case "$t" in anemone|restic|borg) ;; "") continue ;; *) die "--only: unknown tool '$t' (expected anemone, restic, borg)" ;; esac
done
for t in anemone restic borg; do
  for o in "${_only[@]}"; do [[ "$o" == "$t" ]] && { TOOLS+=("$t"); break; }; done
done
[[ ${#TOOLS[@]} -gt 0 ]] || die "--only selects no tool"

# ------------------------------------------------------------ prerequisites
command -v python3 >/dev/null || die "python3 not found (needed to generate the data set)"
for c in du diff awk find sync; do command -v "$c" >/dev/null || die "$c not found"; done
[[ -f "$DATASET_PY" && -f "$REPORT_PY" ]] || die "missing helper scripts in $SCRIPT_DIR"

if [[ ! -x /usr/bin/time ]]; then
  log "GNU time (/usr/bin/time) missing; installing the 'time' package"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "/usr/bin/time missing and not root: install the 'time' package"
    SUDO=sudo
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq time >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq time >/dev/null; } \
    || die "could not install the 'time' package"
  [[ -x /usr/bin/time ]] || die "/usr/bin/time still missing after installing 'time'"
fi

ANEMONE=""
if has_tool anemone; then
  [[ "$BIN_DIR" = /* ]] || BIN_DIR="$PWD/$BIN_DIR"
  ANEMONE="$BIN_DIR/backup-sender"
  [[ -x "$ANEMONE" ]] || die "$ANEMONE not found or not executable.
  Build it first (cmake -S . -B build && cmake --build build), pass --bin DIR,
  or benchmark only the others with --only restic,borg"
fi
need_peer restic restic
need_peer borg borgbackup

mkdir -p "$WORKDIR"
WORK=$(cd "$WORKDIR" && pwd)
DATA="$WORK/data"
REPOS="$WORK/repos"
RESTORES="$WORK/restore"
CACHES="$WORK/cache"
LOGDIR="$WORK/logs"
RESULTS="$WORK/results.tsv"
INFO="$WORK/info.tsv"
MD="$WORK/results.md"
CFG="$WORK/anemone.yaml"

export RESTIC_PASSWORD=bench
export RESTIC_CACHE_DIR="$CACHES/restic"
export BORG_PASSPHRASE=bench
export BORG_BASE_DIR="$CACHES/borg"
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export ANEMONE_PASSPHRASE=bench

cleanup() {
  local rc=$?
  # Leave the cached data set pristine (undo the insertion) for the next run.
  if [[ -d "$DATA" ]]; then python3 "$DATASET_PY" revert "$DATA" >/dev/null 2>&1 || true; fi
  if [[ $KEEP -eq 0 ]]; then
    rm -rf "$REPOS" "$RESTORES" "$CACHES" "$WORK/anemone"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ data set
if python3 "$DATASET_PY" check "$DATA" --size-gib "$SIZE_GIB"; then
  log "using cached data set in $DATA"
  python3 "$DATASET_PY" revert "$DATA" >&2
else
  log "generating data set (--size-gib $SIZE_GIB) in $DATA"
  rm -rf "$DATA" "$DATA.partial" "$DATA.bench-dataset.json"
  t0=$(date +%s)
  python3 "$DATASET_PY" generate "$DATA" --size-gib "$SIZE_GIB" >&2
  log "data set generated in $(( $(date +%s) - t0 )) s"
fi
DATA_DESC=$(python3 "$DATASET_PY" describe "$DATA")
DATA_BYTES=$(du -sb "$DATA" | cut -f1)
DATA_FILES=$(find "$DATA" -type f | wc -l)
log "data set: $DATA_BYTES bytes, $DATA_FILES files ($DATA_DESC)"

# ------------------------------------------------------------ page cache
CACHE_NOTE="not dropped (/proc/sys/vm/drop_caches not writable); all runs used a warm page cache"
CAN_DROP=0
sync
if (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
  CAN_DROP=1
  CACHE_NOTE="dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before every measured command"
fi
log "page cache: $CACHE_NOTE"

# ------------------------------------------------------------ measurement
rm -rf "$LOGDIR" "$REPOS" "$RESTORES" "$CACHES" "$WORK/anemone"
mkdir -p "$LOGDIR" "$REPOS" "$RESTORES" "$CACHES"
: >"$RESULTS"
declare -A FAILED=()
declare -A SECS=() KIB=()
ANY_FAIL=0






write_anemone_config() {
  cat >"$CFG" <<EOF
server:
  name: bench
paths:
  secrets: $WORK/anemone/secrets
  logs: $WORK/anemone/logs
state:
  path: $WORK/anemone/state.db
backup:
  sources:
    - name: data
      path: $DATA
  targets:
    - name: local
      type: local
      path: $REPOS/anemone
EOF
}

setup_tool() {
  local t=$1 repo
  repo=$(repo_of "$t")
  rm -rf "$repo"
  case "$t" in
    anemone)
      rm -rf "$WORK/anemone"
      mkdir -p "$WORK/anemone/secrets" "$WORK/anemone/logs"
      write_anemone_config
      run_logged anemone-init "$WORK" "$ANEMONE" --config "$CFG" init ;;
    restic)
      rm -rf "$RESTIC_CACHE_DIR"
      run_logged restic-init "$WORK" restic init --repo "$repo" ;;
    borg)
      rm -rf "$BORG_BASE_DIR"
      run_logged borg-init "$WORK" borg init --encryption=repokey-blake2 "$repo" ;;
  esac
}

backup_cmd() { # tool phase → sets CMD array and CWD
  local t=$1 phase=$2 repo
  repo=$(repo_of "$t")
  CWD=$WORK
  case "$t" in
    anemone) CMD=("$ANEMONE" --config "$CFG" run --json) ;;
    restic)  CMD=(restic backup --repo "$repo" --quiet "$DATA") ;;
    borg)    CMD=(borg create --compression "zstd,3" "$repo::${phase/backup/b}" data) ;;
  esac
}

restore_cmd() { # tool out → sets CMD, CWD, RESTORED
  local t=$1 out=$2 repo
  repo=$(repo_of "$t")
  CWD=$WORK
  case "$t" in
    anemone) CMD=("$ANEMONE" --config "$CFG" restore latest --target local --to "$out"); RESTORED="$out/data" ;;
    restic)  CMD=(restic restore latest --repo "$repo" --target "$out"); RESTORED="$out${DATA}" ;;
    borg)    CMD=(borg extract "$repo::b3"); CWD=$out; RESTORED="$out/data" ;;
  esac
}

run_backup_phase() {
  local phase=$1 t repo before after key
  for t in "${TOOLS[@]}"; do
    [[ -z "${FAILED[$t]:-}" ]] || continue
    repo=$(repo_of "$t")
    key="$t-$phase"
    backup_cmd "$t" "$phase"
    before=$(repo_bytes "$repo")
    log "$phase: $t"
    if ! measure "$key" "$CWD" "${CMD[@]}"; then fail_tool "$t" "$phase"; continue; fi
    after=$(repo_bytes "$repo")
    record "$t" "$phase" "${SECS[$key]}" "${KIB[$key]}" $((after - before)) ok
    log "$phase: $t: ${SECS[$key]} s, $(( ${KIB[$key]} / 1024 )) MiB peak, +$((after - before)) bytes"
  done
}

# ------------------------------------------------------------ run
log "tools: ${TOOLS[*]}; workdir: $WORK"
for t in "${TOOLS[@]}"; do
  log "init: $t"
  setup_tool "$t" || fail_tool "$t" init
done

run_backup_phase backup1
run_backup_phase backup2
log "inserting bytes in the middle of the large file"
python3 "$DATASET_PY" insert "$DATA" >&2
run_backup_phase backup3

for t in "${TOOLS[@]}"; do
  [[ -z "${FAILED[$t]:-}" ]] || continue
  out="$RESTORES/$t"
  rm -rf "$out"
  mkdir -p "$out"
  restore_cmd "$t" "$out"
  key="$t-restore"
  log "restore: $t"
  if ! measure "$key" "$CWD" "${CMD[@]}"; then fail_tool "$t" restore; continue; fi
  log "restore: $t: ${SECS[$key]} s, $(( ${KIB[$key]} / 1024 )) MiB peak; verifying"
  if [[ -d "$RESTORED" ]] && diff -r -q --no-dereference "$DATA" "$RESTORED" >"$LOGDIR/$t-verify.log" 2>&1; then
    verdict=OK
  else
    verdict=MISMATCH
    ANY_FAIL=1
    [[ -d "$RESTORED" ]] || echo "restored tree $RESTORED does not exist" >>"$LOGDIR/$t-verify.log"
    echo "engine.sh: $t restore differs from the source; see $LOGDIR/$t-verify.log:" >&2
    head -n 10 "$LOGDIR/$t-verify.log" >&2
  fi
  log "restore: $t: $verdict"
  record "$t" restore "${SECS[$key]}" "${KIB[$key]}" - "$verdict"
  [[ $KEEP -eq 1 ]] || rm -rf "$out"
done

# ------------------------------------------------------------ report
{
  printf 'command\t%s\n' "$CMDLINE"
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'cpu\t%s\n' "$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown)"
  printf 'mem\t%s\n' "$(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null || echo unknown)"
  printf 'kernel\t%s\n' "$(uname -sr)"
  printf 'fs\t%s\n' "$(df -PT "$WORK" 2>/dev/null | awk 'NR==2{print $2}')"
  printf 'workdir\t%s\n' "$WORK"
  printf 'cache\t%s\n' "$CACHE_NOTE"
  printf 'size_gib\t%s\n' "$SIZE_GIB"
  printf 'data_bytes\t%s\n' "$DATA_BYTES"
  printf 'data_files\t%s\n' "$DATA_FILES"
  printf 'data_desc\t%s\n' "$DATA_DESC"
  printf 'tools\t%s\n' "${TOOLS[*]}"
  if has_tool anemone; then printf 'version_anemone\t%s\n' "$(first_line "$ANEMONE" --version)"; fi
  if has_tool restic; then printf 'version_restic\t%s\n' "$(first_line restic version)"; fi
  if has_tool borg; then printf 'version_borg\t%s\n' "$(first_line borg --version)"; fi
} >"$INFO"

python3 "$REPORT_PY" "$INFO" "$RESULTS" "$MD"
echo
echo "Markdown (also written to $MD):"
echo
cat "$MD"

if [[ $ANY_FAIL -ne 0 ]]; then
  echo "engine.sh: some commands failed or a restore did not match the source (logs in $LOGDIR)" >&2
  exit 1
fi
