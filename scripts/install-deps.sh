#!/usr/bin/env bash
# Installs what Anemone needs from Debian's packages. Idempotent: installs only what is missing, so
# a second run costs a few dpkg queries.
#
#   scripts/install-deps.sh             build + test + runtime packages (developers, CI, the demo)
#   scripts/install-deps.sh --runtime   only what the built tools need to run (the container image)
#
# Extra package names after the options are installed too.
set -euo pipefail

build_packages=(
  build-essential cmake pkg-config
  libsodium-dev libssh2-1-dev libyaml-cpp-dev libsqlite3-dev libcli11-dev libfmt-dev
  libzstd-dev nlohmann-json3-dev libcurl4-openssl-dev libexpected-dev catch2
)
# What the core runs: the shared libraries the tools link, OpenSSH's sshd for peers' backups,
# wireguard-go (where the kernel has no WireGuard), wg and ip for the mesh, supervisord, tzdata
# so that a scheduled backup's local time is the operator's (TZ=Europe/Paris), and Caddy (2.6,
# Debian's) for the platform's public entry.
runtime_packages=(
  libsodium23 libssh2-1 libyaml-cpp0.7 libsqlite3-0 libfmt9 libzstd1 libcurl4 ca-certificates
  openssh-server wireguard-go wireguard-tools iproute2 supervisor procps tzdata caddy
)
# Tools the tests drive: sqlite3 inspects state files, python3 runs the integration tests, the
# OpenSSH clients and ping probe what the core serves.
test_packages=(sqlite3 python3 coreutils util-linux e2fsprogs openssh-client iputils-ping)

wanted=("${runtime_packages[@]}")
if [ "${1:-}" = "--runtime" ]; then
  shift
else
  wanted+=("${build_packages[@]}" "${test_packages[@]}")
fi
wanted+=("$@")

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
