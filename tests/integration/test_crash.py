#!/usr/bin/env python3
"""Crash safety: `kill -9` at random moments of `run`, `forget --prune` and `prune`.

Requirement: a kill at any moment leaves a repository that `check` accepts and from which every
earlier snapshot restores identically; the next `run` succeeds. This test kills those commands at
24+ random moments (at least 20 real kills are required) and after each kill checks the repository
structure (every 4th kill also `check --read-data`), restores the newest earlier snapshot (every
3rd kill also a random older one) and compares it with the manifest recorded when it was made,
then runs a normal backup and restores that too. At the end: `check --read-data`, `prune`,
`check --read-data`, every remaining snapshot restores, and nothing is left under <repo>/tmp/.

Reproducible: the random seed is printed; set ANEMONE_CRASH_SEED to replay it.
ANEMONE_CRASH_BUDGET (seconds, default 600) caps the wall-clock time of the kill loop."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Site, tree_manifest, main  # noqa: E402

MIB = 1 << 20
KEEP_LAST = 3                     # the harness's default retention: keep_last 3
PLAN = ["run"] * 12 + ["forget"] * 6 + ["prune"] * 6
MIN_KILLS = 20
MAX_ATTEMPTS = 60
COMMANDS = {"run": ("run", "--json"), "forget": ("forget", "--prune"), "prune": ("prune",)}


def first_json(text):
    """The first JSON value of a command's stdout (`run --json` prints one object per target)."""
    value, _ = json.JSONDecoder().raw_decode(text.lstrip())
    return value


def manifest_diff(expected, actual, limit=8):
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    changed = sorted(k for k in expected if k in actual and expected[k] != actual[k])
    lines = [f"{len(missing)} missing, {len(extra)} extra, {len(changed)} different"]
    lines += [f"  missing {k}" for k in missing[:limit]]
    lines += [f"  extra   {k}" for k in extra[:limit]]
    lines += [f"  differs {k}: expected {expected[k]} got {actual[k]}" for k in changed[:limit]]
    return "\n".join(lines)


class SourceTree:
    """The site's source: big pseudo-random files (so a run lasts a while) and many small ones."""

    def __init__(self, site, rng):
        self.site = site
        self.rng = rng
        self.big = []
        self.small = []
        self.counter = 0

    def _path(self, rel):
        return os.path.join(self.site.source, rel)

    def _new_name(self, kind):
        self.counter += 1
        if kind == "big":
            return f"big/b{self.counter:04d}.bin"
        return f"small/d{self.rng.randrange(12):02d}/f{self.counter:05d}.txt"

    def _write_big(self, rel):
        self.site.write(rel, self.rng.randbytes(self.rng.randint(20, 40) * MIB + self.rng.randrange(MIB)))

    def _write_small(self, rel):
        size = self.rng.choice([0, 1, 100, 4096, self.rng.randrange(64 << 10)])
        self.site.write(rel, self.rng.randbytes(size))

    def populate(self):
        for _ in range(8):
            rel = self._new_name("big")
            self._write_big(rel)
            self.big.append(rel)
        for _ in range(300):
            rel = self._new_name("small")
            self._write_small(rel)
            self.small.append(rel)
        os.makedirs(self._path("links"), exist_ok=True)
        os.symlink("../" + self.small[0], self._path("links/first"))
        os.symlink("/nonexistent/target", self._path("links/dangling"))
        self.site.write("empty-dir-parent/.keep", b"keep")
        os.makedirs(self._path("empty-dir-parent/empty"), exist_ok=True)

    def mutate(self, big_replacements):
        """Changes a few things; replaces `big_replacements` big files with new data."""
        rng = self.rng
        for rel in rng.sample(self.big, min(big_replacements, len(self.big))):
            self._write_big(rel)
        if rng.random() < 0.3 and len(self.big) < 10:
            rel = self._new_name("big")
            self._write_big(rel)
            self.big.append(rel)
        if rng.random() < 0.25 and len(self.big) > 5:
            rel = rng.choice(self.big)
            self.big.remove(rel)
            os.remove(self._path(rel))
        if rng.random() < 0.3:
            rel = rng.choice(self.big)                 # an insertion: only nearby chunks change
            with open(self._path(rel), "rb") as f:
                data = f.read()
            pos = rng.randrange(len(data))
            with open(self._path(rel), "wb") as f:
                f.write(data[:pos] + rng.randbytes(rng.randint(1, 64 << 10)) + data[pos:])
        for rel in rng.sample(self.small, min(len(self.small), rng.randint(3, 15))):
            self._write_small(rel)
        for _ in range(rng.randint(2, 12)):
            rel = self._new_name("small")
            self._write_small(rel)
            self.small.append(rel)
        for rel in rng.sample(self.small, min(len(self.small) - 50, rng.randint(1, 8))):
            self.small.remove(rel)
            os.remove(self._path(rel))
        if rng.random() < 0.3:
            os.chmod(self._path(rng.choice(self.small)), rng.choice([0o600, 0o640, 0o755]))


class CrashTest:
    def __init__(self, scratch, seed):
        self.scratch = scratch
        self.seed = seed
        self.rng = random.Random(seed)
        self.site = Site(scratch)
        self.source = SourceTree(self.site, self.rng)
        self.manifests = {}          # snapshot id -> manifest of the source when it was made
        self.order = {}              # snapshot id -> creation sequence number
        self.last_manifest = {}      # the source's manifest at the last completed run
        self.procs = []
        self.restores = 0
        # duration model of a run: startup + changed bytes * seconds per byte
        self.run_startup = 0.2
        self.run_sec_per_byte = 2.0 / (100 * MIB)
        self.prune_estimate = {"forget": 1.0, "prune": 0.6}
        self.kills = {"run": 0, "forget": 0, "prune": 0}
        self.not_killed = {"run": 0, "forget": 0, "prune": 0}
        self.kill_log = []

    # ---- helpers -------------------------------------------------------------------------------

    def log(self, msg):
        print(msg, flush=True)

    def snapshot_ids(self):
        result = self.site.run("snapshots", "--json", check=0)
        ids = [s["id"] for s in result.json()]
        unknown = [i for i in ids if i not in self.order]
        if unknown:
            raise AssertionError(f"snapshots lists ids this test never saw made: {unknown}")
        return sorted(ids, key=lambda i: self.order[i])

    def record(self, snap_id, manifest):
        if snap_id not in self.order:
            self.order[snap_id] = len(self.order)
        self.manifests[snap_id] = manifest

    def check(self, read_data=False, what=""):
        args = ("check", "--read-data") if read_data else ("check",)
        result = self.site.run(*args)
        if result.code != 0:
            raise AssertionError(f"{' '.join(args)} {what}: expected exit 0, got {result!r}")

    def restore_and_compare(self, snap_id, what=""):
        self.restores += 1
        target = os.path.join(self.scratch, "restore")
        shutil.rmtree(target, ignore_errors=True)
        result = self.site.run("restore", snap_id, "--target", "local", "--to", target, "--json")
        if result.code != 0:
            raise AssertionError(f"restore of snapshot {snap_id[:8]} {what}: expected exit 0, got {result!r}")
        actual = tree_manifest(os.path.join(target, "data"))
        expected = self.manifests[snap_id]
        if actual != expected:
            raise AssertionError(f"restore of snapshot {snap_id[:8]} {what} differs from the source it was made "
                                 f"from (restored tree kept at {target}):\n{manifest_diff(expected, actual)}")
        shutil.rmtree(target, ignore_errors=True)

    def changed_bytes(self, manifest):
        total = 0
        for rel, entry in manifest.items():
            old = self.last_manifest.get(rel)
            if "sha256" in entry and (old is None or old.get("sha256") != entry["sha256"]):
                total += entry["size"]
        return total

    def expected_run_duration(self, manifest):
        return self.run_startup + self.changed_bytes(manifest) * self.run_sec_per_byte

    def normal_run(self, what=""):
        """A run that must succeed; returns the new snapshot id (recorded with the source manifest)."""
        manifest = tree_manifest(self.site.source)
        changed = self.changed_bytes(manifest)
        start = time.monotonic()
        result = self.site.run("run", "--json")
        elapsed = time.monotonic() - start
        if result.code != 0:
            raise AssertionError(f"run {what}: expected exit 0, got {result!r}")
        snap_id = first_json(result.out)["snapshot_id"]
        self.record(snap_id, manifest)
        self.last_manifest = manifest
        if changed > 20 * MIB:
            sample = max(elapsed - self.run_startup, 0.01) / changed
            self.run_sec_per_byte = 0.6 * self.run_sec_per_byte + 0.4 * sample
        return snap_id

    def pick_delay(self, expected):
        u = self.rng.random()
        if u < 0.2:
            return self.rng.uniform(0.0, 0.05)                 # startup, key derivation, locking
        if u < 0.4:
            return expected * self.rng.uniform(0.8, 1.02)       # near the end: index, snapshot, deletes
        return self.rng.uniform(0.0, expected)

    def attempt_kill(self, kind, delay):
        """Starts the command, kills it after `delay` s. Returns (killed, elapsed, stdout, stderr)."""
        proc = self.site.popen(*COMMANDS[kind])
        self.procs.append(proc)
        start = time.monotonic()
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        elapsed = time.monotonic() - start
        self.procs.remove(proc)
        out = out.decode(errors="replace")
        err = err.decode(errors="replace")
        if proc.returncode == -signal.SIGKILL:
            return True, elapsed, out, err
        if proc.returncode != 0:
            raise AssertionError(f"{' '.join(COMMANDS[kind])} (not killed, finished in {elapsed:.3f}s): "
                                 f"expected exit 0, got {proc.returncode}\nstdout: {out}\nstderr: {err}")
        return False, elapsed, out, err

    def repo_leftovers(self):
        counts = []
        for name in ("tmp", "locks"):
            path = os.path.join(self.site.repo, name)
            counts.append(f"{len(os.listdir(path)) if os.path.isdir(path) else 0} {name}")
        return ", ".join(counts)

    def kill_all(self):
        for proc in list(self.procs):
            if proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait()
        self.procs.clear()

    # ---- phases --------------------------------------------------------------------------------

    def setup(self):
        self.log(f"seed {self.seed} (replay with ANEMONE_CRASH_SEED={self.seed}); scratch {self.scratch}")
        self.site.init()
        self.source.populate()
        manifest = tree_manifest(self.site.source)
        start = time.monotonic()
        first = self.normal_run("(initial)")
        full = time.monotonic() - start
        start = time.monotonic()
        second = self.normal_run("(unchanged)")
        self.run_startup = min(max(time.monotonic() - start, 0.05), 1.0)
        self.run_sec_per_byte = max(full - self.run_startup, 0.1) / max(self.changed_bytes_total(manifest), 1)
        self.check(read_data=True, what="(initial)")
        self.restore_and_compare(first, "(initial)")
        self.restore_and_compare(second, "(unchanged)")
        self.log(f"initial run of {self.changed_bytes_total(manifest) / MIB:.0f} MiB took {full:.2f}s, "
                 f"unchanged run {self.run_startup:.2f}s")
        # calibrate forget --prune and prune once, uninterrupted
        for _ in range(3):
            self.source.mutate(big_replacements=2)
            self.normal_run("(calibration)")
        start = time.monotonic()
        self.site.run("forget", "--prune", check=0)
        self.prune_estimate["forget"] = time.monotonic() - start
        for _ in range(2):
            self.source.mutate(big_replacements=2)
            self.normal_run("(calibration)")
        self.site.run("forget", check=0)
        start = time.monotonic()
        self.site.run("prune", check=0)
        self.prune_estimate["prune"] = time.monotonic() - start
        self.forget_untracked()
        self.check(what="(after calibration)")
        self.log(f"calibration: forget --prune {self.prune_estimate['forget']:.2f}s, "
                 f"prune {self.prune_estimate['prune']:.2f}s")

    @staticmethod
    def changed_bytes_total(manifest):
        return sum(e.get("size", 0) for e in manifest.values())

    def forget_untracked(self):
        """Drops the manifests of snapshots no longer listed (forgotten)."""
        listed = set(self.snapshot_ids())
        for snap_id in list(self.manifests):
            if snap_id not in listed:
                del self.manifests[snap_id]
        return listed

    def prepare(self, kind):
        """Makes sure the command about to be killed has work to do. Returns the expected duration."""
        if kind == "run":
            self.source.mutate(big_replacements=self.rng.randint(2, 4))
            return None
        runs = max(2, KEEP_LAST + 2 - len(self.snapshot_ids()))
        for _ in range(runs):
            self.source.mutate(big_replacements=self.rng.randint(2, 3))
            self.normal_run(f"(preparing {kind})")
        if kind == "prune":
            self.site.run("forget", check=0)
            self.forget_untracked()
        return self.prune_estimate[kind]

    def verify_after_kill(self, kind, before, run_manifest, number):
        after = self.snapshot_ids()
        if kind == "run":
            missing = [i[:8] for i in before if i not in after]
            new = [i for i in after if i not in before]
            if missing:
                raise AssertionError(f"snapshots {missing} disappeared")
            if len(new) > 1:
                raise AssertionError(f"a killed run left {len(new)} new snapshots")
            for snap_id in new:      # killed after the snapshot was written: it must be complete
                self.log(f"  the killed run had written snapshot {snap_id[:8]}")
                self.record(snap_id, run_manifest)
                self.last_manifest = run_manifest
        elif kind == "forget":
            kept = before[-KEEP_LAST:]
            missing = [i[:8] for i in kept if i not in after]
            if missing:
                raise AssertionError(f"snapshots {missing}, kept by the retention policy, disappeared")
            extra = [i[:8] for i in after if i not in before]
            if extra:
                raise AssertionError(f"a killed forget made snapshots {extra}")
        else:
            if after != before:
                raise AssertionError(f"a killed prune changed the snapshot list: before {before}, after {after}")
        for snap_id in list(self.manifests):
            if snap_id not in after:
                del self.manifests[snap_id]

        self.check(read_data=(number % 4 == 0), what="after the kill")
        restored = set()
        if before:
            self.restore_and_compare(before[-1], "(newest earlier snapshot)")
            restored.add(before[-1])
        for snap_id in after:
            if snap_id not in before:
                self.restore_and_compare(snap_id, "(written by the killed run)")
                restored.add(snap_id)
        if kind == "forget":
            survivors = [i for i in after if i not in before[-KEEP_LAST:]]
            if survivors:            # forgettable, but the kill came first: must still be whole
                self.log(f"  {len(survivors)} of {len(before) - KEEP_LAST} forgettable snapshots survived the kill")
                snap_id = self.rng.choice(survivors)
                self.restore_and_compare(snap_id, "(forgettable, left by the killed forget)")
                restored.add(snap_id)
        older = [i for i in after if i not in restored]
        if number % 3 == 0 and older:
            self.restore_and_compare(self.rng.choice(older), "(random older snapshot)")

        snap_id = self.normal_run("(the next run after the kill)")
        self.check(what="after the next run")
        self.restore_and_compare(snap_id, "(made by the next run)")

    def kill_loop(self, budget):
        plan = list(PLAN)
        self.rng.shuffle(plan)
        deadline = time.monotonic() + budget
        attempts = 0
        while plan and attempts < MAX_ATTEMPTS and time.monotonic() < deadline:
            kind = plan[0]
            attempts += 1
            expected = self.prepare(kind)
            before = self.snapshot_ids()
            run_manifest = None
            if kind == "run":
                run_manifest = tree_manifest(self.site.source)
                expected = self.expected_run_duration(run_manifest)
            delay = self.pick_delay(expected)
            killed, elapsed, out, err = self.attempt_kill(kind, delay)
            label = f"attempt {attempts}: {' '.join(COMMANDS[kind])} delay {delay:.3f}s (expected {expected:.2f}s)"
            if not killed:
                self.not_killed[kind] += 1
                self.log(f"{label}: finished first, in {elapsed:.3f}s - not a kill")
                if kind == "run":
                    changed = self.changed_bytes(run_manifest)
                    if changed > 20 * MIB:
                        sample = max(elapsed - self.run_startup, 0.01) / changed
                        self.run_sec_per_byte = 0.6 * self.run_sec_per_byte + 0.4 * sample
                    self.record(first_json(out)["snapshot_id"], run_manifest)
                    self.last_manifest = run_manifest
                else:
                    self.prune_estimate[kind] = 0.6 * self.prune_estimate[kind] + 0.4 * elapsed
                    self.forget_untracked()
                continue
            plan.pop(0)
            self.kills[kind] += 1
            number = sum(self.kills.values())
            self.kill_log.append((number, kind, delay, expected))
            if kind != "run":
                # the duration of a killed forget/prune is unknown but longer than the delay: a kill
                # nudges the estimate up, a finished attempt pulls it towards its real duration
                self.prune_estimate[kind] = max(self.prune_estimate[kind], delay) * 1.15
            self.log(f"kill #{number}, {label}: killed at {elapsed:.3f}s; left {self.repo_leftovers()}")
            try:
                self.verify_after_kill(kind, before, run_manifest, number)
            except AssertionError as e:
                raise AssertionError(f"after kill #{number} of `{' '.join(COMMANDS[kind])}` at {delay:.3f}s "
                                     f"(expected duration {expected:.2f}s; seed {self.seed}):\n{e}\n"
                                     f"killed process stderr: {err[-2000:]}") from None
        total = sum(self.kills.values())
        self.log(f"{total} kills ({self.kills}), {attempts} attempts, not killed: {self.not_killed}")
        if total < MIN_KILLS:
            raise AssertionError(f"only {total} real kills in {attempts} attempts (need {MIN_KILLS}); seed {self.seed}")

    def finish(self):
        self.check(read_data=True, what="(final, before prune)")
        result = self.site.run("prune", "--json")
        if result.code != 0:
            raise AssertionError(f"final prune: expected exit 0, got {result!r}")
        self.check(read_data=True, what="(final, after prune)")
        for snap_id in self.forget_untracked():
            self.restore_and_compare(snap_id, "(final)")
        tmp = os.path.join(self.site.repo, "tmp")
        leftovers = os.listdir(tmp) if os.path.isdir(tmp) else []
        if leftovers:
            raise AssertionError(f"{len(leftovers)} temporary files left under {tmp} after prune: {leftovers[:10]}")
        locks = os.path.join(self.site.repo, "locks")
        if os.path.isdir(locks) and os.listdir(locks):
            self.log(f"note: {len(os.listdir(locks))} lock files remain under {locks}")


def test_kill_at_random_moments(scratch):
    seed = int(os.environ.get("ANEMONE_CRASH_SEED") or random.SystemRandom().randrange(1 << 32))
    # The kill loop's time budget: 20 kills take ~450 s on an idle 2-core machine; the runtime tests
    # run beside it in CI, so it has room (the CTest timeout, 1200 s, covers set-up and restores).
    budget = float(os.environ.get("ANEMONE_CRASH_BUDGET") or 900)
    test = CrashTest(scratch, seed)
    start = time.monotonic()
    try:
        test.setup()
        test.kill_loop(budget)
        test.finish()
    finally:
        test.kill_all()
        test.log(f"seed {seed}: {sum(test.kills.values())} kills, {test.restores} restores, "
                 f"{time.monotonic() - start:.0f}s")


if __name__ == "__main__":
    main([test_kill_at_random_moments])
