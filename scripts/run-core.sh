#!/usr/bin/env bash
# Starts the anemone core in the foreground, with or without Docker (it is the image's entrypoint):
# prepares what the programs need, then becomes supervisord running supervisord/supervisord.conf.
#
#   scripts/run-core.sh [--config FILE] [--crontab FILE] [--bin DIR]
#
#   --config   the configuration; default $ANEMONE_CONFIG, else /config/config.yaml
#   --crontab  what the cron program runs; default $ANEMONE_CRONTAB, else a file `crontab` beside
#              the configuration (/config/crontab: the operator's), else the suite's config/crontab
#              (/opt/anemone/config/crontab in the image)
#   --bin      the tools' directory; default $ANEMONE_BIN, else the repository's build/bin, else
#              its build-dev/bin, else the directory of `watcher` on PATH
#
# Steps: read the paths from `watcher env`; create the logs and run (0700) directories; create this
# site's keys if it has none (`wg-peer-manager init`); write the accounts and sshd_config
# (`sftp-receiver-quota sync`); check sshd's configuration; with the platform, Caddy's files and
# scripts/platform-net.sh; exec supervisord. Any failure stops
# here with a message and a non-zero exit, before supervisord starts. Runs as root: sshd chroots
# peers, sync creates Unix accounts, wg-peer-manager configures the interface.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
tools=(watcher backup-sender sftp-receiver-quota wg-peer-manager)

die() { echo "run-core: $*" >&2; exit 1; }
help() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
usage() { help >&2; exit 2; }

config=${ANEMONE_CONFIG:-/config/config.yaml}
crontab=${ANEMONE_CRONTAB:-}
bin=${ANEMONE_BIN:-}
while [ $# -gt 0 ]; do
  case $1 in
    --config) [ $# -ge 2 ] || usage; config=$2; shift 2 ;;
    --crontab) [ $# -ge 2 ] || usage; crontab=$2; shift 2 ;;
    --bin) [ $# -ge 2 ] || usage; bin=$2; shift 2 ;;
    -h|--help) help; exit 0 ;;
    *) echo "run-core: unknown argument '$1'" >&2; usage ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die "must run as root (sshd chroots peers, sftp-receiver-quota sync creates Unix accounts)"

# The tools: one directory holding all of them, made absolute for supervisord's commands.
if [ -z "$bin" ]; then
  for candidate in "$top/build/bin" "$top/build-dev/bin"; do
    if [ -x "$candidate/watcher" ]; then bin=$candidate; break; fi
  done
fi
if [ -z "$bin" ]; then
  found=$(command -v watcher) || die "no tools found: give --bin DIR or set ANEMONE_BIN (or build them: scripts/build.sh)"
  bin=$(dirname "$found")
fi
[ -d "$bin" ] || die "tools directory '$bin' does not exist"
bin=$(cd "$bin" && pwd -P)
for tool in "${tools[@]}"; do
  [ -x "$bin/$tool" ] || die "'$bin/$tool' is missing or not executable"
done
command -v supervisord >/dev/null || die "supervisord is not installed (scripts/install-deps.sh --runtime installs it)"
[ -x /usr/sbin/sshd ] || die "/usr/sbin/sshd is not installed (scripts/install-deps.sh --runtime installs it)"

[ -f "$config" ] || die "configuration '$config' not found (give --config FILE or set ANEMONE_CONFIG; an annotated example: $top/config/config.yaml)"
if [ -z "$crontab" ]; then
  crontab=$top/config/crontab
  if [ -f "$(dirname "$config")/crontab" ]; then crontab=$(dirname "$config")/crontab; fi
fi
[ -f "$crontab" ] || die "crontab '$crontab' not found (give --crontab FILE or set ANEMONE_CRONTAB)"
crontab=$(cd "$(dirname "$crontab")" && pwd -P)/$(basename "$crontab")

# ANEMONE_CONFIG (absolute), _LOGS, _RUN, _STATE_DIR, _SSHD_CONFIG, _WG_INTERFACE, _SECRETS,
# _PLATFORM, _CADDY_ADMIN, _CADDY_HOME: single-quoted by watcher.
env_text=$("$bin/watcher" --config "$config" env) || die "'watcher env' failed on '$config' (see above)"
set -a
eval "$env_text"
set +a
for name in ANEMONE_CONFIG ANEMONE_LOGS ANEMONE_RUN ANEMONE_SSHD_CONFIG; do
  [ -n "${!name:-}" ] || die "'watcher env' did not set $name"
done
export ANEMONE_BIN=$bin ANEMONE_CRONTAB=$crontab PATH="$bin:$PATH"

mkdir -p "$ANEMONE_LOGS" || die "cannot create the logs directory '$ANEMONE_LOGS'"
# shellcheck disable=SC2153 # ANEMONE_RUN comes from watcher env, like the others
if ! mkdir -p "$ANEMONE_RUN" || ! chmod 0700 "$ANEMONE_RUN"; then die "cannot create the run directory '$ANEMONE_RUN'"; fi

# Keys are made once and never replaced; `show` fails while any of them is missing.
if ! "$bin/wg-peer-manager" show >/dev/null 2>&1; then
  echo "run-core: this site has no identity yet; creating its keys" >&2
  "$bin/wg-peer-manager" init || die "wg-peer-manager init failed"
fi
"$bin/sftp-receiver-quota" sync || die "sftp-receiver-quota sync failed"
[ -f "$ANEMONE_SSHD_CONFIG" ] || die "sftp-receiver-quota sync did not write '$ANEMONE_SSHD_CONFIG'"
# sshd's privilege separation directory (root's, not group- or world-writable).
if ! mkdir -p /run/sshd || ! chmod 0755 /run/sshd; then die "cannot create /run/sshd"; fi
/usr/sbin/sshd -t -f "$ANEMONE_SSHD_CONFIG" || die "sshd refuses '$ANEMONE_SSHD_CONFIG' (see above)"

# The platform's programs only where the config enables it; Caddy starts knowing only its admin
# API (caddy-sync loads the rest), its data under the state directory.
if [ "${ANEMONE_PLATFORM:-disabled}" = enabled ]; then
  export ANEMONE_PLATFORM_PROGRAMS=$top/supervisord/platform.conf
  command -v caddy >/dev/null || die "platform.enabled is true but caddy is not installed (scripts/install-deps.sh --runtime installs it)"
  mkdir -p "$ANEMONE_CADDY_HOME" || die "cannot create Caddy's directory '$ANEMONE_CADDY_HOME'"
  # So that Caddy's reloads reset no connection; it says why when it cannot (not fatal).
  "$top/scripts/platform-net.sh" || echo "run-core: continuing; see docker/docker-compose.yml's sysctls" >&2
  printf '{"admin": {"listen": "%s"}}\n' "$ANEMONE_CADDY_ADMIN" > "$ANEMONE_RUN/caddy-initial.json" ||
    die "cannot write $ANEMONE_RUN/caddy-initial.json"
else
  export ANEMONE_PLATFORM_PROGRAMS=$top/supervisord/no-platform.conf
fi

echo "run-core: starting supervisord; logs in $ANEMONE_LOGS" >&2
exec supervisord -n -c "$top/supervisord/supervisord.conf"
