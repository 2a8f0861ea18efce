#!/usr/bin/env bash
# Rebuild a lost site from one of its peers: the guided path of README's "Recovering a lost site".
#
#   scripts/recover.sh                      asks for what it needs, then runs the three steps
#   scripts/recover.sh --site site-a --peer 192.0.2.2:22222 --host-key 'ssh-ed25519 AAAA…' --yes
#                                           the same without questions (passphrase from
#                                           ANEMONE_PASSPHRASE_FILE or ANEMONE_PASSPHRASE)
#
# Steps (--steps picks some, comma-separated; default all):
#   config  backup-sender config-discover, then config-restore: config.yaml, keys and state come back
#           from the peer, reached on its public SFTP port with the recovery key the passphrase gives
#   tunnel  sftp-receiver-quota sync and wg-peer-manager up: the old identity, the old peers; waits
#           for a handshake with the peer (in the container, starting the core does this instead)
#   data    backup-sender restore latest --target <peer> --to / : every source back where it was
#           (--target picks the peer, default the first; --to another directory)
#
# The passphrase is asked without echo and handed to the tools in their environment only; it never
# appears on a command line.
set -euo pipefail

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

site="" user="" peer="" host_key="" config="${ANEMONE_CONFIG:-/config/config.yaml}" id="" to="/" yes=0 target=""
steps="config,tunnel,data" bin="${ANEMONE_BIN:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --site) site="$2"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    --peer) peer="$2"; shift 2 ;;
    --host-key) host_key="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    --id) id="$2"; shift 2 ;;
    --to) to="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    --yes) yes=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "recover.sh: unknown option $1" >&2; usage 2 ;;
  esac
done
tool() { if [ -n "$bin" ]; then "$bin/$1" "${@:2}"; else "$@"; fi; }
interactive() { [ "$yes" = 0 ] && [ -t 0 ]; }
ask() { # ask VAR "question" [default]
  local answer
  if ! interactive; then echo "recover.sh: $1 is needed (pass it as an option)" >&2; exit 2; fi
  read -r -p "$2${3:+ [$3]}: " answer
  printf -v "$1" '%s' "${answer:-${3:-}}"
}
want() { case ",$steps," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
say() { printf '\n== %s\n' "$*"; }

if want config; then
  [ -n "$site" ] || ask site "This site's name (server.name in its config)"
  [ -n "$user" ] || { if interactive; then ask user "Its account on the peer" "$site"; else user="$site"; fi; }
  [ -n "$peer" ] || ask peer "A peer's public address, HOST[:PORT] (its SFTP port, 22222 by default)"
  [ -n "$site" ] && [ -n "$peer" ] || { echo "recover.sh: --site and --peer are needed" >&2; exit 2; }
  if [ -z "${ANEMONE_PASSPHRASE:-}" ] && [ -z "${ANEMONE_PASSPHRASE_FILE:-}" ]; then
    interactive || { echo "recover.sh: set ANEMONE_PASSPHRASE_FILE (or ANEMONE_PASSPHRASE)" >&2; exit 2; }
    read -r -s -p "Repository passphrase: " ANEMONE_PASSPHRASE; echo
    export ANEMONE_PASSPHRASE
  fi
  who=(--peer "$peer" --site "$site" --user "$user")

  if [ -z "$host_key" ]; then
    # Without --host-key the tool prints the key the peer offers and stops: a person compares it.
    offered=$(tool backup-sender config-discover "${who[@]}" 2>&1 </dev/null | sed -n 's/^  \(ssh-ed25519 [A-Za-z0-9+/=]*\)$/\1/p' | head -n1 || true)
    [ -n "$offered" ] || { tool backup-sender config-discover "${who[@]}" </dev/null || true; exit 1; }
    interactive || { echo "recover.sh: the peer offers $offered; confirm it with --host-key after comparing it with \`wg-peer-manager show\` on the peer" >&2; exit 2; }
    echo "The peer $peer offers the host key:"
    echo "  $offered"
    echo "Compare it with what \`wg-peer-manager show\` prints on the peer (ssh_host_key)."
    confirm=""; ask confirm "Is it the same? (yes/no)"
    [ "$confirm" = yes ] || { echo "recover.sh: host key not confirmed; nothing was changed" >&2; exit 1; }
    host_key="$offered"
  fi

  say "Config backups of $site on $peer"
  tool backup-sender config-discover "${who[@]}" --host-key "$host_key"
  if [ -z "$id" ] && interactive; then ask id "Which one (ID)" "the newest"; [ "$id" = "the newest" ] && id=""; fi
  say "Restoring the configuration, keys and state to $config"
  tool backup-sender --config "$config" config-restore "${who[@]}" --host-key "$host_key" ${id:+--id "$id"}
fi

export ANEMONE_CONFIG="$config"
# No python in the image: the first "name" of `wg-peer-manager list --json` is the first peer's.
first_peer() { tool wg-peer-manager list --json | sed -n 's/^ *"name": "\([^"]*\)",\{0,1\}$/\1/p' | head -n1; }

if want tunnel; then
  say "Bringing the receiver and the tunnels back with the old identity"
  tool sftp-receiver-quota sync
  tool wg-peer-manager up
  name=$(first_peer)
  for _ in $(seq 1 60); do
    if tool wg-peer-manager status --json 2>/dev/null | grep -q '"peers_with_recent_handshake": [1-9]'; then
      echo "handshake with ${name:-a peer}: the tunnel is up"; break
    fi
    sleep 1
  done
fi

if want data; then
  name=${target:-$(first_peer)}
  [ -n "$name" ] || { echo "recover.sh: the restored state names no peer to restore data from" >&2; exit 1; }
  say "Restoring the data from $name to $to"
  tool backup-sender restore latest --target "$name" --to "$to"
  say "Done"
  echo "The site is back. Start the core (docker compose up -d, or scripts/run-core.sh) if it is not running;"
  echo "its next backup continues the same repositories."
fi
