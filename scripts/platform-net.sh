#!/usr/bin/env bash
# Prepares the network namespace where Caddy serves the platform: sets net.ipv4.tcp_migrate_req=1.
#
#   scripts/platform-net.sh
#
# Why: Caddy 2.6 (Debian's) binds a new SO_REUSEPORT socket at every config reload and closes the
# old one; the kernel resets the connections still queued on the old socket, so a client that
# connects at the instant of a reload gets "connection reset" (bench/caddy_reload.py: 50 failed
# requests over 60 reloads). With tcp_migrate_req (Linux 5.14+) the kernel hands those connections
# to the new socket instead (0 failed). The setting is per network namespace, so it is set where Caddy runs:
# run-core.sh calls this when platform.enabled is true; docker/docker-compose.yml sets it with
# `sysctls:`, as /proc/sys is read-only inside an unprivileged container.
#
# Exits 0 when the setting is on (already, or set now); otherwise warns on stderr and exits 1.
set -euo pipefail

knob=/proc/sys/net/ipv4/tcp_migrate_req
if [ ! -e "$knob" ]; then
  echo "platform-net: this kernel has no net.ipv4.tcp_migrate_req (Linux 5.14+): a Caddy reload may reset connections being accepted" >&2
  exit 1
fi
[ "$(cat "$knob")" = 1 ] && exit 0
if ! echo 1 2>/dev/null > "$knob"; then
  echo "platform-net: cannot set net.ipv4.tcp_migrate_req=1 here (/proc/sys is read-only in a container: add" \
       "'sysctls: {net.ipv4.tcp_migrate_req: 1}' to the service, as docker/docker-compose.yml does);" \
       "until then a Caddy reload may reset connections being accepted" >&2
  exit 1
fi
[ "$(cat "$knob")" = 1 ]
