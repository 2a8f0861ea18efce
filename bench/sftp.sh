#!/usr/bin/env bash
# Anemone SFTP benchmark: anemone (backup-sender, sftp target) vs restic (sftp backend) vs borg
# (over ssh, `borg serve` on the far side), all to one private OpenSSH sshd on 127.0.0.1.
#
# Uses the engine benchmark's data set (bench/make-dataset.py; the cache of bench/engine.sh is
# reused when it has the same size) and runs for every tool, in one run:
#   backup1  first backup
#   backup2  unchanged re-backup
#   restore  full restore of the latest snapshot from the peer (verified against the source)
# and prints wall time, peak RSS and repository growth per phase, plus the anemone/restic and
# anemone/borg ratios beside the issue's goals (backup1 <= 0.7x restic, restore <= 0.8x restic).
# Run `bench/sftp.sh --help` for options.
set -euo pipefail
BENCH_NAME=sftp.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
DATASET_PY="$SCRIPT_DIR/make-dataset.py"
REPORT_PY="$SCRIPT_DIR/report.py"
CMDLINE="bench/sftp.sh${*:+ $*}"

SIZE_GIB=1
WORKDIR=/var/tmp/anemone-bench-sftp
ENGINE_WORKDIR=/var/tmp/anemone-bench   # bench/engine.sh's default: its data set is reused
DATA_ARG=""
BIN_DIR="$REPO_ROOT/build/bin"
KEEP=0
ONLY="anemone,restic,borg"
CONNECTIONS=2
SSHD_PARENT=/var/lib/anemone-bench-sshd

usage() {
  cat <<EOF
Usage: bench/sftp.sh [--size-gib N] [--workdir DIR] [--data DIR] [--bin DIR] [--only LIST]
                     [--connections N] [--keep]

Benchmarks Anemone's backup-sender to an SFTP target against restic's sftp
backend and borg over ssh (borg serve), all talking to one private OpenSSH
sshd on 127.0.0.1 with repositories on this machine: first backup, unchanged
re-backup, and a verified full restore from the peer.

Options:
  --size-gib N     data set size scale, as for bench/engine.sh (default: 1 → ~1.16 GiB)
  --workdir DIR    work directory (default: /var/tmp/anemone-bench-sftp). Results go
                   to DIR/sftp/results.md, command logs to DIR/sftp/logs/,
                   repositories to DIR/sftp/repos/.
  --data DIR       data set to back up. Default: DIR/data from --workdir when it is a
                   data set of this size, else bench/engine.sh's cache
                   $ENGINE_WORKDIR/data when it is, else one generated (and cached)
                   in --workdir's DIR/data.
  --bin DIR        directory holding backup-sender (default: <repo>/build/bin)
  --only LIST      comma-separated tools to run: anemone,restic,borg (default: all)
  --connections N  anemone target's 'connections' (default: 2)
  --keep           keep repositories, tool caches and restored trees afterwards
                   (default: delete them; the data set is always kept)
  -h, --help       show this help

Needs root (sshd logs in as root with a key; its files live under
$SSHD_PARENT/, which sshd's StrictModes accepts), /usr/sbin/sshd,
ssh, ssh-keygen, restic, borg (also on the "remote" side, i.e. here).
The page cache is dropped before every measured command when
/proc/sys/vm/drop_caches is writable; the report says whether that happened.
EOF
}


while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-gib) [[ $# -ge 2 ]] || die "--size-gib needs a value"; SIZE_GIB=$2; shift 2 ;;
    --size-gib=*) SIZE_GIB=${1#*=}; shift ;;
    --workdir) [[ $# -ge 2 ]] || die "--workdir needs a value"; WORKDIR=$2; shift 2 ;;
    --workdir=*) WORKDIR=${1#*=}; shift ;;
    --data) [[ $# -ge 2 ]] || die "--data needs a value"; DATA_ARG=$2; shift 2 ;;
    --data=*) DATA_ARG=${1#*=}; shift ;;
    --bin) [[ $# -ge 2 ]] || die "--bin needs a value"; BIN_DIR=$2; shift 2 ;;
    --bin=*) BIN_DIR=${1#*=}; shift ;;
    --only) [[ $# -ge 2 ]] || die "--only needs a value"; ONLY=$2; shift 2 ;;
    --only=*) ONLY=${1#*=}; shift ;;
    --connections) [[ $# -ge 2 ]] || die "--connections needs a value"; CONNECTIONS=$2; shift 2 ;;
    --connections=*) CONNECTIONS=${1#*=}; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

if ! [[ "$SIZE_GIB" =~ ^[0-9]*\.?[0-9]+$ ]] || ! awk -v v="$SIZE_GIB" 'BEGIN{exit !(v>0)}'; then
  die "--size-gib must be a positive number (got '$SIZE_GIB')"
fi
[[ "$CONNECTIONS" =~ ^[0-9]+$ && $CONNECTIONS -ge 1 && $CONNECTIONS -le 16 ]] \
  || die "--connections must be 1..16 (got '$CONNECTIONS')"

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
[[ $(id -u) -eq 0 ]] || die "must run as root (the loopback sshd logs in as root)"
command -v python3 >/dev/null || die "python3 not found (needed for the data set and the report)"
for c in du diff awk find sync ssh ssh-keygen; do command -v "$c" >/dev/null || die "$c not found"; done
[[ -x /usr/sbin/sshd ]] || die "/usr/sbin/sshd not found (apt-get install openssh-server)"
[[ -f "$DATASET_PY" && -f "$REPORT_PY" ]] || die "missing helper scripts in $SCRIPT_DIR"

if [[ ! -x /usr/bin/time ]]; then
  log "GNU time (/usr/bin/time) missing; installing the 'time' package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq time >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq time >/dev/null; } \
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
RUN="$WORK/sftp"
REPOS="$RUN/repos"
RESTORES="$RUN/restore"
CACHES="$RUN/cache"
LOGDIR="$RUN/logs"
RESULTS="$RUN/results.tsv"
INFO="$RUN/info.tsv"
MD="$RUN/results.md"
CFG="$RUN/anemone.yaml"
ASTATE="$RUN/anemone"

export RESTIC_PASSWORD=bench
export RESTIC_CACHE_DIR="$CACHES/restic"
export BORG_PASSPHRASE=bench
export BORG_BASE_DIR="$CACHES/borg"
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export ANEMONE_PASSPHRASE=bench

SSHD_DIR=""
SSHD_PID=""
stop_sshd() {
  if [[ -n "$SSHD_PID" ]]; then
    kill "$SSHD_PID" 2>/dev/null || true
    local _
    for _ in $(seq 50); do kill -0 "$SSHD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SSHD_PID" 2>/dev/null || true
    wait "$SSHD_PID" 2>/dev/null || true
    SSHD_PID=""
  fi
  if [[ -n "$SSHD_DIR" ]]; then rm -rf "$SSHD_DIR"; SSHD_DIR=""; fi
}

cleanup() {
  local rc=$?
  stop_sshd
  if [[ $KEEP -eq 0 ]]; then
    rm -rf "$REPOS" "$RESTORES" "$CACHES" "$ASTATE"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ data set
# The data set is only read here (no insertion phase); it is reverted to pristine first in case an
# interrupted bench/engine.sh left its insertion in place.
dataset_ok() { python3 "$DATASET_PY" check "$1" --size-gib "$SIZE_GIB"; }
if [[ -n "$DATA_ARG" ]]; then
  DATA=$(cd "$DATA_ARG" 2>/dev/null && pwd) || die "--data $DATA_ARG: no such directory"
  dataset_ok "$DATA" || die "--data $DATA is not a bench/make-dataset.py data set of --size-gib $SIZE_GIB"
  log "using data set $DATA"
elif dataset_ok "$WORK/data"; then
  DATA="$WORK/data"
  log "using cached data set in $DATA"
elif dataset_ok "$ENGINE_WORKDIR/data"; then
  DATA="$ENGINE_WORKDIR/data"
  log "using bench/engine.sh's cached data set in $DATA"
else
  DATA="$WORK/data"
  log "generating data set (--size-gib $SIZE_GIB) in $DATA"
  rm -rf "$DATA" "$DATA.partial" "$DATA.bench-dataset.json"
  t0=$(date +%s)
  python3 "$DATASET_PY" generate "$DATA" --size-gib "$SIZE_GIB" >&2
  log "data set generated in $(( $(date +%s) - t0 )) s"
fi
python3 "$DATASET_PY" revert "$DATA" >&2
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

# ------------------------------------------------------------ loopback sshd
# sshd's StrictModes refuses key files under group/world-writable directories (e.g. /tmp), so
# everything lives in a fresh directory under a root-owned 0755 parent.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
start_sshd() {
  mkdir -p "$SSHD_PARENT" /run/sshd
  chmod 0755 "$SSHD_PARENT"
  SSHD_DIR=$(mktemp -d "$SSHD_PARENT/sshd-XXXXXX")
  chmod 0755 "$SSHD_DIR"
  ssh-keygen -q -t ed25519 -N '' -C bench-host -f "$SSHD_DIR/host_key"
  ssh-keygen -q -t ed25519 -N '' -C bench-client -f "$SSHD_DIR/client_key"
  cp "$SSHD_DIR/client_key.pub" "$SSHD_DIR/authorized_keys"
  chmod 0600 "$SSHD_DIR/authorized_keys"
  SSH_KEY="$SSHD_DIR/client_key"
  HOST_KEY_PUB=$(cat "$SSHD_DIR/host_key.pub")
  SSH_PORT=$(free_port)
  KNOWN_HOSTS="$SSHD_DIR/known_hosts"
  printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$HOST_KEY_PUB" >"$KNOWN_HOSTS"
  cat >"$SSHD_DIR/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/host_key
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
StrictModes yes
MaxStartups 100
MaxSessions 100
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
  /usr/sbin/sshd -D -e -f "$SSHD_DIR/sshd_config" >>"$LOGDIR/sshd.log" 2>&1 &
  SSHD_PID=$!
  # One ssh command line for restic and borg; -F /dev/null keeps ~/.ssh/config out of the run.
  SSH_OPTS="-F /dev/null -p $SSH_PORT -i $SSH_KEY -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$KNOWN_HOSTS"
  export BORG_RSH="ssh $SSH_OPTS"
  # Ready when a key login works (this also proves the keys and the known_hosts line).
  local _ ok=0
  for _ in $(seq 50); do
    kill -0 "$SSHD_PID" 2>/dev/null || { cat "$LOGDIR/sshd.log" >&2; SSHD_PID=""; die "sshd exited at start (log above)"; }
    # shellcheck disable=SC2086
    if ssh $SSH_OPTS -o ConnectTimeout=2 root@127.0.0.1 true >"$LOGDIR/ssh-check.log" 2>&1; then ok=1; break; fi
    sleep 0.2
  done
  [[ $ok -eq 1 ]] || { cat "$LOGDIR/ssh-check.log" "$LOGDIR/sshd.log" >&2; die "cannot log in to the loopback sshd on 127.0.0.1:$SSH_PORT"; }
  log "sshd pid $SSHD_PID on 127.0.0.1:$SSH_PORT (files in $SSHD_DIR)"
}

# ------------------------------------------------------------ measurement
rm -rf "$RUN"
mkdir -p "$LOGDIR" "$REPOS" "$RESTORES" "$CACHES"
: >"$RESULTS"
declare -A FAILED=()
declare -A SECS=() KIB=()
ANY_FAIL=0

start_sshd
if has_tool borg; then
  # shellcheck disable=SC2086
  ssh $SSH_OPTS root@127.0.0.1 borg --version >"$LOGDIR/borg-remote.log" 2>&1 \
    || die "borg is not runnable through ssh on the loopback sshd (see $LOGDIR/borg-remote.log)"
fi

restic_repo() { echo "sftp:root@127.0.0.1:$(repo_of restic)"; }
restic_opts() { RESTIC_OPTS=(-r "$(restic_repo)" -o "sftp.command=ssh $SSH_OPTS root@127.0.0.1 -s sftp"); }
borg_repo() { echo "ssh://root@127.0.0.1:$SSH_PORT$(repo_of borg)"; }





write_anemone_config() {
  cat >"$CFG" <<EOF
server:
  name: bench
paths:
  secrets: $ASTATE/secrets
  logs: $ASTATE/logs
state:
  path: $ASTATE/state.db
backup:
  sources:
    - name: data
      path: $DATA
  targets:
    - name: peer
      type: sftp
      host: 127.0.0.1
      port: $SSH_PORT
      user: root
      path: $(repo_of anemone)
      identity_file: $SSH_KEY
      host_key: "$HOST_KEY_PUB"
      connections: $CONNECTIONS
EOF
}

setup_tool() {
  local t=$1 repo
  repo=$(repo_of "$t")
  rm -rf "$repo"
  case "$t" in
    anemone)
      rm -rf "$ASTATE"
      mkdir -p "$ASTATE/secrets" "$ASTATE/logs"
      write_anemone_config
      run_logged anemone-init "$RUN" "$ANEMONE" --config "$CFG" init ;;
    restic)
      rm -rf "$RESTIC_CACHE_DIR"
      restic_opts
      run_logged restic-init "$RUN" restic init "${RESTIC_OPTS[@]}" ;;
    borg)
      rm -rf "$BORG_BASE_DIR"
      run_logged borg-init "$RUN" borg init --encryption=repokey-blake2 "$(borg_repo)" ;;
  esac
}

backup_cmd() { # tool phase → sets CMD array and CWD
  local t=$1 phase=$2
  CWD=$RUN
  case "$t" in
    anemone) CMD=("$ANEMONE" --config "$CFG" run --json) ;;
    restic)  restic_opts; CMD=(restic backup "${RESTIC_OPTS[@]}" --quiet "$DATA") ;;
    # borg stores paths relative to its cwd: run it in the data set's parent to store data/...
    borg)    CMD=(borg create --compression "zstd,3" "$(borg_repo)::${phase/backup/b}" "$(basename "$DATA")")
             CWD=$(dirname "$DATA") ;;
  esac
}

restore_cmd() { # tool out → sets CMD, CWD, RESTORED
  local t=$1 out=$2
  CWD=$RUN
  case "$t" in
    anemone) CMD=("$ANEMONE" --config "$CFG" restore latest --target peer --to "$out"); RESTORED="$out/data" ;;
    restic)  restic_opts; CMD=(restic restore latest "${RESTIC_OPTS[@]}" --target "$out"); RESTORED="$out${DATA}" ;;
    borg)    CMD=(borg extract "$(borg_repo)::b2"); CWD=$out; RESTORED="$out/$(basename "$DATA")" ;;
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
log "tools: ${TOOLS[*]}; workdir: $WORK; repositories in $REPOS via sftp/ssh to 127.0.0.1:$SSH_PORT"
for t in "${TOOLS[@]}"; do
  log "init: $t"
  # An init failure shows in the report as backup1 "FAILED-init" (the report has no init row).
  setup_tool "$t" || { fail_tool "$t" init; record "$t" backup1 - - - FAILED-init; }
done

run_backup_phase backup1
run_backup_phase backup2

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
    echo "sftp.sh: $t restore differs from the source; see $LOGDIR/$t-verify.log:" >&2
    head -n 10 "$LOGDIR/$t-verify.log" >&2
  fi
  log "restore: $t: $verdict"
  record "$t" restore "${SECS[$key]}" "${KIB[$key]}" - "$verdict"
  [[ $KEEP -eq 1 ]] || rm -rf "$out"
done

# ------------------------------------------------------------ report
{
  printf 'title\t%s\n' "SFTP benchmark (loopback sshd)"
  printf 'phases\t%s\n' "backup1 backup2 restore"
  printf 'goals\t%s\n' "backup1_time=0.7 restore_time=0.8"
  printf 'desc_restore\t%s\n' "full restore from the peer (verified)"
  printf 'settings\t%s\n' "every tool talks to the same OpenSSH sshd on 127.0.0.1 (key login as root, internal-sftp; $(first_line ssh -V))\
 and its repository sits on this machine under \`$REPOS\`. anemone: sftp target (libssh2, \`connections: $CONNECTIONS\`);\
 restic: sftp backend (\`-o sftp.command='ssh ... -s sftp'\`), repo v2 (compression auto);\
 borg: \`ssh://\` repository (\`borg serve\` on the far side), \`repokey-blake2\`, \`--compression zstd,3\`.\
 \"Bytes added\" is the growth of the repository directory (\`du -sb\`) during the phase; peak memory is the max RSS\
 reported by GNU time for the client command and its children (restic's and borg's \`ssh\` client; not the sshd\
 side: \`internal-sftp\` or \`borg serve\`). All of it shares the machine's $(nproc) cores with sshd's encryption."
  printf 'command\t%s\n' "$CMDLINE"
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'cpu\t%s\n' "$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown)"
  printf 'mem\t%s\n' "$(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null || echo unknown)"
  printf 'kernel\t%s\n' "$(uname -sr)"
  printf 'fs\t%s\n' "$(df -PT "$RUN" 2>/dev/null | awk 'NR==2{print $2}')"
  printf 'workdir\t%s\n' "$WORK"
  printf 'cache\t%s\n' "$CACHE_NOTE"
  printf 'size_gib\t%s\n' "$SIZE_GIB"
  printf 'data_bytes\t%s\n' "$DATA_BYTES"
  printf 'data_files\t%s\n' "$DATA_FILES"
  printf 'data_desc\t%s\n' "$DATA_DESC"
  printf 'tools\t%s\n' "${TOOLS[*]}"
  for t in "${TOOLS[@]}"; do
    if [[ -z "${FAILED[$t]:-}" ]]; then printf 'stored_%s\t%s\n' "$t" "$(repo_bytes "$(repo_of "$t")")"; fi
  done
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
  echo "sftp.sh: some commands failed or a restore did not match the source (logs in $LOGDIR)" >&2
  exit 1
fi
