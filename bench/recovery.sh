#!/usr/bin/env bash
# The whole recovery of a lost site (tests/integration/test_recovery.py) on a larger data set:
# config-discover, config-restore, the tunnel back, the data restored through it, then the next
# backup. Prints the test's own timing line. Needs root (network namespaces, wireguard-go, sshd).
#   bench/recovery.sh [MiB]        default 256
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${ANEMONE_BIN:-$here/build/bin}
mib=${1:-256}
for i in 1 2 3; do
  ANEMONE_BIN=$bin ANEMONE_RECOVERY_DATA_MIB=$mib CI=true python3 "$here/tests/integration/test_recovery.py" |
    grep -E "recovery of|passed"
done
