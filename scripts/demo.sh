#!/usr/bin/env bash
# The main job end to end on this machine: make a sample tree, create an encrypted repository, back
# up, change a file, back up again, restore, verify, and say what happened at each step. Then the
# two-site story in network namespaces (scripts/demo-mesh.py): each site runs the whole core
# (scripts/run-core.sh: supervisord, watcher in live mode); invite, join, accept while they run; the
# watchers back up each site to the other through WireGuard by themselves; restore.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
scripts/install-deps.sh
scripts/build.sh >/dev/null
bin=$top/build/bin

work=${DEMO_DIR:-/var/tmp/anemone-demo}
rm -rf "$work"
mkdir -p "$work/secrets" "$work/backup"
chmod 700 "$work/secrets"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "A sample tree in $work/backup"
mkdir -p "$work/backup/photos" "$work/backup/docs/empty" "$work/backup/.cache"
for i in $(seq 1 200); do echo "note $i: the quick brown fox jumps over the lazy dog" > "$work/backup/docs/note-$i.txt"; done
head -c $((24 * 1024 * 1024)) /dev/urandom > "$work/backup/photos/holiday.raw"
cp "$work/backup/photos/holiday.raw" "$work/backup/photos/holiday-copy.raw"   # deduplicated
ln -s ../docs/note-1.txt "$work/backup/photos/readme-link"
echo "scratch" > "$work/backup/.cache/tmp-state"                               # excluded
du -sh "$work/backup"

umask 077
head -c 32 /dev/urandom | base64 > "$work/secrets/repository.pass"
cat > "$work/config.yaml" <<YAML
server:
  name: demo-site
paths:
  secrets: $work/secrets
  logs: $work/logs
state:
  path: $work/state/anemone.db
backup:
  passphrase_file: $work/secrets/repository.pass
  sources:
    - name: data
      path: $work/backup
      exclude: [".cache/"]
  targets:
    - name: local
      type: local
      path: $work/repo
      retention: {keep_last: 3, keep_daily: 7}
YAML
bs() { "$bin/backup-sender" --config "$work/config.yaml" "$@"; }

say "backup-sender init: an encrypted repository (Argon2id-wrapped random key)"
bs init
say "backup-sender run: the first backup"
bs run --json | tee "$work/run1.json"
say "Change one file, add one, back up again: only the change is read and stored"
echo "an edit" >> "$work/backup/docs/note-7.txt"
echo "new file" > "$work/backup/docs/new.txt"
bs run --json | tee "$work/run2.json"
say "backup-sender snapshots"
bs snapshots
say "backup-sender diff (first snapshot -> latest)"
first=$(bs snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
bs diff "$first" latest
say "backup-sender restore latest into $work/restore"
bs restore latest --target local --to "$work/restore"
say "Verify: the restored tree equals the source (excluded .cache aside)"
rm -rf "$work/expected" && cp -a "$work/backup" "$work/expected" && rm -rf "$work/expected/.cache"
if diff -r --no-dereference "$work/expected" "$work/restore/data"; then echo "restored tree is identical"; else echo "MISMATCH"; exit 1; fi
say "backup-sender check --read-data: every blob decrypted and re-hashed"
bs check --read-data
say "backup-sender stats"
bs stats
say "What the repository holds (all ciphertext, named by hashes)"
(cd "$work/repo" && find . -type f | sed 's|^\./||' | awk -F/ '{print $1}' | sort | uniq -c)
if grep -rqa "quick brown fox" "$work/repo"; then echo "PLAINTEXT FOUND IN REPOSITORY"; exit 1; else echo "no plaintext of the source appears in the repository"; fi
say "Done with one site. Everything is under $work"

say "Two sites as peers over WireGuard (network namespaces on this machine)"
python3 scripts/demo-mesh.py
