#!/usr/bin/env bash
# Installs every build and test dependency from Debian's packages. Idempotent: installs only what is
# missing, so a second run costs a few dpkg queries.
set -euo pipefail

build_packages=(
  build-essential cmake pkg-config
  libsodium-dev libssh2-1-dev libyaml-cpp-dev libsqlite3-dev libcli11-dev libfmt-dev
  libzstd-dev nlohmann-json3-dev libcurl4-openssl-dev libexpected-dev catch2
)
# Tools the tests drive: sqlite3 inspects state files; OpenSSH's sshd and clients for the SFTP tests;
# wireguard-go (where the kernel has no WireGuard), wg and ip for the mesh (also what the product runs).
test_packages=(sqlite3 python3 coreutils util-linux procps e2fsprogs openssh-server openssh-client
  wireguard-go wireguard-tools iproute2 iputils-ping)

missing=()
for pkg in "${build_packages[@]}" "${test_packages[@]}" "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
