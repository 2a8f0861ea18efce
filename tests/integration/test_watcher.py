#!/usr/bin/env python3
"""`watcher run` end to end, as supervisord runs it: a foreground process started here, stopped with
SIGTERM (exit 0 within 60 s, nothing of it left running). Live mode: the initial run, a change, a new
directory (watched), an excluded file (no run), a deletion, `status --json`; a burst of 10 000 files
(one run); changes during a run (exactly one more run); the site lock against a run by hand;
periodic mode (the interval, a missed run at start); scheduled mode (the cron schedule, a missed
firing at start, none with recent history); backup-sender's output on the watcher's stderr; `watcher
status` polled while a watcher creates the state file; a source root replaced (watched again).
Runs are counted in the state DB's `runs` table.

Periodic and scheduled each wait about a minute, so they run side by side (threads).
Arguments, if any, select tests by name."""
import calendar
import contextlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import netns  # noqa: E402
from harness import BIN, Site, require_ci_prerequisite, write_urandom_file  # noqa: E402

MiB = 1 << 20
DEBOUNCE = 2
MAX_DELAY = 10
BIG_FILE = 600 * MiB          # new random data: a local run of several seconds
NS = 1_000_000_000
STARTED_CONFIGS = []          # every config a watcher ran with: nothing using one may outlive the tests


# ---- helpers --------------------------------------------------------------------------------------

def wait_for(predicate, timeout, what):
    """Calls predicate until it returns a true value (returned) or timeout seconds pass (raises)."""
    return netns.wait_for(predicate, timeout, what=what)


def configure(site, **backup):
    """The site's config with these keys under `backup:` (replacing those set by an earlier call)."""
    if not hasattr(site, "base_config"):
        with open(site.config) as f:
            site.base_config = f.read()
    lines = "".join(f"  {key}: {value}\n" for key, value in backup.items())
    with open(site.config, "w") as f:
        f.write(site.base_config.replace("backup:\n", "backup:\n" + lines, 1))


def runs(site):
    """The backup runs the state DB records (one row per target and run; these sites have one)."""
    if not os.path.exists(site.state):
        return []
    db = sqlite3.connect(site.state, timeout=10)
    try:
        rows = db.execute("SELECT id, started_ns, finished_ns, outcome FROM runs WHERE tool = 'backup-sender'"
                          " AND command = 'run' ORDER BY id").fetchall()
    except sqlite3.OperationalError as e:
        if "no such table" not in str(e):
            raise
        return []  # the state file is being created right now
    finally:
        db.close()
    return [dict(zip(("id", "started_ns", "finished_ns", "outcome"), row)) for row in rows]


def finished_runs(site):
    return [r for r in runs(site) if r["finished_ns"] is not None]


def age_history(site, seconds):
    """Makes every recorded run look `seconds` older (the watcher must be stopped)."""
    db = sqlite3.connect(site.state, timeout=10)
    try:
        db.execute("UPDATE runs SET started_ns = started_ns - ?, finished_ns = finished_ns - ?",
                   (seconds * NS, seconds * NS))
        db.commit()
    finally:
        db.close()


def snapshot_count(site):
    return len(site.run("snapshots", "--json", check=0).json())


def latest_paths(site):
    return {e["path"] for e in site.run("ls", "latest", "--json", check=0).json()}


def iso_seconds(text):
    """An ISO 8601 UTC time as the tools print it (fractions allowed) as epoch seconds."""
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z", text or "")
    assert m, f"not an ISO 8601 UTC time: {text!r}"
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + float(m.group(2) or 0)


def next_local(hour, minute, after):
    """The first local hour:minute strictly after epoch second `after`."""
    t = time.localtime(after)
    for day in range(0, 3):
        candidate = time.mktime((t.tm_year, t.tm_mon, t.tm_mday + day, hour, minute, 0, 0, 0, -1))
        if candidate > after:
            return candidate
    raise AssertionError("unreachable")


def our_processes(config):
    """Processes with this config on their command line: the watcher and the backup-senders it or
    a test started (the config path is unique to one scratch directory)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if os.fsencode(config) in argv and int(entry) != os.getpid():
            found.append((int(entry), b" ".join(argv).decode(errors="replace").strip()))
    return found


def alive(pid):
    """Running and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def require_disk_space(path, needed):
    free = shutil.disk_usage(path).free
    return require_ci_prerequisite(free >= needed, f"{needed >> 20} MiB free under {path} (have {free >> 20} MiB)")


class Watcher:
    """One `watcher --config F run`: stderr to <scratch>/<tag>.log, stdout to <tag>.out."""

    def __init__(self, site, scratch, tag="watcher"):
        self.site = site
        self.log_path = os.path.join(scratch, f"{tag}.log")
        self.out_path = os.path.join(scratch, f"{tag}.out")
        self.tag = tag
        self.proc = None

    def start(self):
        STARTED_CONFIGS.append(self.site.config)
        self.started = time.time()
        with open(self.log_path, "ab") as log, open(self.out_path, "ab") as out:
            self.proc = subprocess.Popen([os.path.join(BIN, "watcher"), "--config", self.site.config, "run"],
                                         env=self.site.env(), stdin=subprocess.DEVNULL, stdout=out, stderr=log)
        return self

    def status(self):
        return self.site.run("status", "--json", tool="watcher", check=0, timeout=30).json()

    def log(self):
        text = ""
        for path in (self.log_path, self.out_path):
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    text += f"---- {path} ----\n{f.read()}"
        return text

    def stop(self):
        """SIGTERM by pid; the watcher must exit 0 within 60 s and leave nothing running."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise AssertionError(f"{self.tag} (pid {self.proc.pid}) did not exit within 60 s of SIGTERM")
        assert code == 0, f"{self.tag} exited {code} after SIGTERM, expected 0"
        try:
            wait_for(lambda: not our_processes(self.site.config), 10, "the watcher's backups to end")
        except AssertionError:
            left = our_processes(self.site.config)
            for pid, _ in left:
                os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"still running after {self.tag} stopped: {left}")


@contextlib.contextmanager
def watching(site, scratch, tag="watcher"):
    """A started watcher, always stopped (and its log printed when anything failed)."""
    watcher = Watcher(site, scratch, tag).start()
    failed = True
    try:
        yield watcher
        failed = False
    finally:
        try:
            watcher.stop()
        except BaseException:
            failed = True
            raise
        finally:
            if failed:
                print(f"[{tag} in {scratch}]\n{watcher.log()}", file=sys.stderr)


def live_site(scratch, **options):
    site = Site(scratch, excludes=["*.tmp"])
    settings = {"mode": "live", "debounce_seconds": DEBOUNCE, "max_delay_seconds": MAX_DELAY}
    settings.update(options)
    configure(site, **settings)
    site.init()
    return site


def wait_runs_finished(site, count, timeout, what):
    return wait_for(lambda: len(finished_runs(site)) >= count and finished_runs(site), timeout, what)


def count_dirs(root):
    return sum(1 for _ in os.walk(root))


def in_parallel(*tests):
    """One test function running these in threads, each in its own part of the scratch directory."""
    def test(scratch):
        errors = []

        def one(t):
            part = os.path.join(scratch, t.__name__)
            os.makedirs(part)
            started = time.monotonic()
            try:
                t(part)
                print(f"  {t.__name__}: passed in {time.monotonic() - started:.0f}s")
            except Exception:
                errors.append(f"{t.__name__} failed:\n{traceback.format_exc()}")

        threads = [threading.Thread(target=one, args=(t,)) for t in tests]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise AssertionError("\n".join(errors))

    test.__name__ = "_and_".join(t.__name__ for t in tests)
    return test


# ---- live mode ------------------------------------------------------------------------------------

def is_keepalive(status):
    """Live mode with nothing pending: the next run is half of health.max_backup_age (default 26 h)
    after the last start, so a quiet source's last backup never gets too old."""
    return bool(status["next_run"] and status["last_run"]) and \
        abs(iso_seconds(status["next_run"]) - (iso_seconds(status["last_run"]["started"]) + 13 * 3600)) <= 2


def test_live(scratch):
    site = live_site(scratch)
    site.write("a/one.txt", "one\n")
    site.write("a/b/two.txt", "two\n")
    site.write("c/three.txt", "three\n")
    site.write("c/gone/old.txt", "old\n")

    with watching(site, scratch) as watcher:
        wait_runs_finished(site, 1, 15, "the run at the start of the watcher")
        assert runs(site)[0]["outcome"] == "ok", runs(site)
        assert snapshot_count(site) == 1
        assert {"/data/a/one.txt", "/data/a/b/two.txt", "/data/c/three.txt"} <= latest_paths(site)

        # A change: pending in status at once, a run debounce seconds later, the file in the snapshot.
        time.sleep(0.5)
        written = time.time()
        site.write("a/b/new.txt", "new\n")
        status = wait_for(lambda: (s := watcher.status())["pending_changes"] > 0 and s, DEBOUNCE - 0.2,
                          "status to show the pending change")
        assert status["first_change"] and status["next_run"], status
        assert abs(iso_seconds(status["next_run"]) - (written + DEBOUNCE)) <= 1.5, (written, status)
        run = wait_runs_finished(site, 2, DEBOUNCE + 6, "a run after writing a/b/new.txt")[-1]
        delay = run["started_ns"] / NS - written
        assert DEBOUNCE - 0.3 <= delay <= DEBOUNCE + 3, f"the run started {delay:.1f}s after the change"
        assert run["outcome"] == "ok", run
        assert snapshot_count(site) == 2
        assert "/data/a/b/new.txt" in latest_paths(site)

        # A directory made after the start is watched: a file written into it later makes a run.
        os.makedirs(os.path.join(site.source, "fresh"))
        wait_runs_finished(site, 3, DEBOUNCE + 6, "a run after mkdir fresh")
        assert "/data/fresh" in latest_paths(site)
        time.sleep(0.5)
        site.write("fresh/inside.txt", "inside\n")
        wait_runs_finished(site, 4, DEBOUNCE + 6, "a run after writing fresh/inside.txt (is fresh/ watched?)")
        assert "/data/fresh/inside.txt" in latest_paths(site)
        # The same for a tree made at once (directories created while the first is being added).
        os.makedirs(os.path.join(site.source, "tree", "x", "y"))
        wait_runs_finished(site, 5, DEBOUNCE + 6, "a run after mkdir -p tree/x/y")
        time.sleep(0.5)
        site.write("tree/x/y/leaf.txt", "leaf\n")
        wait_runs_finished(site, 6, DEBOUNCE + 6, "a run after writing tree/x/y/leaf.txt (is tree/x/y watched?)")
        assert "/data/tree/x/y/leaf.txt" in latest_paths(site)

        # An excluded file alone starts nothing.
        before = (len(runs(site)), watcher.status()["runs_started"])
        site.write("a/scratch.tmp", "excluded\n")
        time.sleep(DEBOUNCE + 3)
        status = watcher.status()
        assert (len(runs(site)), status["runs_started"]) == before, \
            f"an excluded file started a run: runs/runs_started {before} -> {(len(runs(site)), status['runs_started'])}"
        assert status["pending_changes"] == 0 and is_keepalive(status), status

        # Deletions alone (a file, and a directory with a file in it) start a run.
        os.unlink(os.path.join(site.source, "a", "one.txt"))
        shutil.rmtree(os.path.join(site.source, "c", "gone"))
        wait_runs_finished(site, 7, DEBOUNCE + 6, "a run after deleting a/one.txt and c/gone/")
        paths = latest_paths(site)
        assert not {"/data/a/one.txt", "/data/c/gone", "/data/c/gone/old.txt"} & paths, sorted(paths)
        assert "/data/c/three.txt" in paths, sorted(paths)

        status = wait_for(lambda: (s := watcher.status())["run"] is None and s, 10, "no run in progress")
        expected = {"running": True, "mode": "live", "pid": watcher.proc.pid, "watched_dirs": count_dirs(site.source),
                    "pending_changes": 0, "first_change": None, "runs_started": 7,
                    "consecutive_failures": 0, "overflows": 0}
        assert {k: status.get(k) for k in expected} == expected, f"status: {status}"
        assert is_keepalive(status), f"with nothing pending the next run keeps the backup fresh: {status}"
        last = status["last_run"]
        assert last["outcome"] == "ok" and last["exit_code"] == 0, status
        assert iso_seconds(last["started"]) <= iso_seconds(last["finished"]), status

    status = watcher.status()
    assert status["running"] is False and status["run"] is None and status["next_run"] is None, status


def test_child_output_goes_to_stderr(scratch):
    """backup-sender's output (its summary line included) goes to the watcher's stderr; the watcher's
    stdout stays empty."""
    site = live_site(scratch)
    site.write("file.txt", "file\n")
    with watching(site, scratch) as watcher:
        wait_runs_finished(site, 1, 15, "the run at the start of the watcher")
        wait_for(lambda: watcher.status()["run"] is None, 10, "the run to end")
    with open(watcher.out_path) as f:
        stdout = f.read()
    with open(watcher.log_path) as f:
        stderr = f.read()
    assert "backup-sender info local: snapshot" in stderr, stderr
    assert stdout == "", f"the watcher's stdout is not empty (backup-sender's output went there):\n{stdout}"


def test_status_while_watcher_starts(scratch):
    """`watcher status` polled while a watcher starts on a site with no state file yet: every call
    succeeds and the watcher starts (six fresh sites; the race is at the creation of the file)."""
    problems = []
    for attempt in range(6):
        part = os.path.join(scratch, f"site-{attempt}")
        site = live_site(part)
        site.write("file.txt", "file\n")
        watcher = Watcher(site, part).start()
        try:
            deadline = time.monotonic() + 2

            def poll():
                while time.monotonic() < deadline:
                    r = site.run("status", "--json", tool="watcher", timeout=30)
                    if r.code != 0:
                        problems.append(f"site {attempt}: watcher status --json exit {r.code}: {r.err.strip()}")

            pollers = [threading.Thread(target=poll) for _ in range(2)]  # two, as status and health-checker
            for poller in pollers:
                poller.start()
            for poller in pollers:
                poller.join()
            if watcher.proc.poll() is not None:
                problems.append(f"site {attempt}: the watcher exited {watcher.proc.returncode} at start: "
                                f"{watcher.log().strip()}")
        finally:
            try:
                watcher.stop()
            except AssertionError as e:
                problems.append(f"site {attempt}: {e}")
    assert not problems, "\n".join(problems)


def test_burst(scratch):
    """10 000 small files in 10 new directories, as fast as possible: one run has them all."""
    site = live_site(scratch)
    site.write("seed.txt", "seed\n")
    with watching(site, scratch) as watcher:
        wait_runs_finished(site, 1, 15, "the run at the start of the watcher")
        before = wait_for(lambda: (s := watcher.status())["run"] is None and s, 10, "the first run to end")
        started = time.monotonic()
        for d in range(10):
            directory = os.path.join(site.source, "burst", f"d{d}")
            os.makedirs(directory)
            for i in range(1000):
                with open(os.path.join(directory, f"f{i}"), "wb") as f:
                    f.write(b"%d/%d\n" % (d, i))
        took = time.monotonic() - started
        wait_for(lambda: (s := watcher.status())["runs_started"] > before["runs_started"] and s["run"] is None
                 and s["pending_changes"] == 0 and s, DEBOUNCE + MAX_DELAY + 60, "the burst's run to end")
        time.sleep(DEBOUNCE + 3)
        status = watcher.status()
        added = status["runs_started"] - before["runs_started"]
        print(f"  burst: 10 000 files in {took:.1f}s -> {added} run(s), {status['overflows']} queue overflow(s)")
        # Within max_delay, one quiet period, one run; a longer burst may be cut once by max_delay.
        allowed = {1} if took < MAX_DELAY - 1 else {1, 2}
        assert added in allowed, f"{added} runs for a burst of {took:.1f}s (expected {allowed}): {status}"
        assert status["last_run"]["outcome"] == "ok", status
        files = [p for p in latest_paths(site) if p.startswith("/data/burst/d") and "/f" in p]
        assert len(files) == 10_000, f"the latest snapshot has {len(files)} of the 10 000 files"
        assert status["watched_dirs"] == count_dirs(site.source), status


def wait_run_in_progress(site, watcher, runs_started, timeout):
    """Run number `runs_started` is going and its backup-sender holds the site lock: it has recorded
    its row in the runs table (which it does only once the lock is held), and status shows it.
    (The runs table first: status is not polled while the state file may still be created, see
    test_status_while_watcher_starts.)"""
    wait_for(lambda: len(runs(site)) == runs_started and runs(site)[-1]["finished_ns"] is None, timeout,
             f"run {runs_started} to hold the site lock")
    return wait_for(lambda: (s := watcher.status())["run"] and s["runs_started"] == runs_started and s, 5,
                    f"status to show run {runs_started} in progress")


def test_change_during_run(scratch):
    """Files written while a long run goes on make exactly one more run, which has them."""
    if not require_disk_space(scratch, 4 * BIG_FILE):
        return
    site = live_site(scratch)
    site.write("small.txt", "small\n")
    staged = write_urandom_file(os.path.join(scratch, "staging", "big.bin"), BIG_FILE)  # same file system
    with watching(site, scratch) as watcher:
        wait_runs_finished(site, 1, 15, "the run at the start of the watcher")
        wait_for(lambda: watcher.status()["run"] is None, 10, "the first run to end")
        os.rename(staged, os.path.join(site.source, "big.bin"))
        status = wait_run_in_progress(site, watcher, 2, DEBOUNCE + 6)
        run_pid = status["run"]["pid"]
        for i in range(5):
            site.write(f"during/file{i}.txt", f"written during the run {i}\n")
        assert alive(run_pid), "the run ended before the files were written: make BIG_FILE larger"
        first_end = wait_runs_finished(site, 2, 120, "the long run to end")[1]
        print(f"  the long run took {(first_end['finished_ns'] - first_end['started_ns']) / NS:.1f}s")
        assert first_end["outcome"] == "ok", first_end
        wait_runs_finished(site, 3, DEBOUNCE + 10, "one more run for the files written during the run")
        time.sleep(DEBOUNCE + 10)
        status = watcher.status()
        assert status["runs_started"] == 3 and len(runs(site)) == 3, \
            f"expected exactly one run after the long one: runs_started {status['runs_started']}, rows {runs(site)}"
        assert status["run"] is None and status["pending_changes"] == 0, status
        assert status["last_run"]["outcome"] == "ok", status
        paths = latest_paths(site)
        assert {f"/data/during/file{i}.txt" for i in range(5)} | {"/data/big.bin"} <= paths, sorted(paths)


def test_single_run_per_site(scratch):
    """While the watcher's run goes on, a run by hand is refused (11); with --wait it runs after."""
    if not require_disk_space(scratch, 4 * BIG_FILE):
        return
    site = live_site(scratch)
    write_urandom_file(os.path.join(site.source, "big.bin"), BIG_FILE)
    with watching(site, scratch) as watcher:
        wait_run_in_progress(site, watcher, 1, 15)
        r = site.run("run", timeout=120)
        assert r.code == 11, f"run by hand during the watcher's run: expected exit 11, got {r!r}"
        assert "another backup-sender run is in progress on this site (" in r.err and "use --wait to wait for it" in r.err, r
        manual = site.popen("run", "--wait")
        try:
            time.sleep(0.5)
            if watcher.status()["run"]:
                assert manual.poll() is None, f"run --wait did not wait: exit {manual.returncode}"
            out, err = manual.communicate(timeout=120)
        finally:
            if manual.poll() is None:
                os.kill(manual.pid, signal.SIGTERM)
                manual.wait()
        err = err.decode(errors="replace")
        assert manual.returncode == 0, f"run --wait: exit {manual.returncode}\n{err}"
        assert "another backup-sender run holds this site; waiting" in err, err
        rows = runs(site)
        assert len(rows) == 2 and all(r["outcome"] == "ok" for r in rows), rows
        watchers, by_hand = rows
        assert by_hand["started_ns"] >= watchers["finished_ns"], f"the runs overlapped: {rows}"
        time.sleep(DEBOUNCE + 1)
        status = watcher.status()
        assert status["runs_started"] == 1 and status["last_run"]["outcome"] == "ok", status
        assert snapshot_count(site) == 2


# ---- periodic and scheduled ----------------------------------------------------------------------------

def test_periodic(scratch):
    site = Site(scratch)
    configure(site, mode="periodic", interval_minutes=1)
    site.write("file.txt", "periodic\n")
    site.init()
    with watching(site, scratch, "periodic-1") as watcher:
        first = wait_for(lambda: runs(site), 5, "a run at once (no history)")[0]
        assert first["started_ns"] / NS - watcher.started <= 5, (watcher.started, first)
        status = wait_for(lambda: (s := watcher.status())["run"] is None and s["next_run"] and s, 10,
                          "the first run to end")
        assert status["mode"] == "periodic", status
        assert abs(iso_seconds(status["next_run"]) - (first["started_ns"] / NS + 60)) <= 2, (first, status)
        second = wait_for(lambda: len(runs(site)) >= 2 and runs(site)[1], 80, "the second run")
        gap = (second["started_ns"] - first["started_ns"]) / NS
        assert 55 <= gap <= 75, f"the second run started {gap:.1f}s after the first (interval 60s)"
        wait_runs_finished(site, 2, 10, "the second run to end")
        assert len(runs(site)) == 2 and watcher.status()["runs_started"] == 2

    # Recent history (the last run seconds ago): no run at start; the next is due a minute after it.
    last = runs(site)[-1]
    with watching(site, scratch, "periodic-2") as watcher:
        time.sleep(5)
        status = watcher.status()
        assert len(runs(site)) == 2 and status["runs_started"] == 0, f"a run started though none was due: {status}"
        assert abs(iso_seconds(status["next_run"]) - (last["started_ns"] / NS + 60)) <= 2, (last, status)

    # Overdue (the last run an hour ago): one run at once.
    age_history(site, 3600)
    with watching(site, scratch, "periodic-3") as watcher:
        third = wait_for(lambda: len(runs(site)) >= 3 and runs(site)[2], 5, "a run at once (overdue)")
        assert third["started_ns"] / NS - watcher.started <= 5, (watcher.started, third)
        wait_runs_finished(site, 3, 10, "the overdue run to end")


def test_scheduled(scratch):
    site = Site(scratch)
    configure(site, mode="scheduled", schedule='"* * * * *"')
    site.write("file.txt", "scheduled\n")
    site.init()
    # Start well inside a minute, so "no run at start" and "a run at the boundary" are apart.
    if time.time() % 60 > 48:
        time.sleep(61 - time.time() % 60)
    with watching(site, scratch, "scheduled-1") as watcher:
        boundary = (int(watcher.started) // 60 + 1) * 60
        time.sleep(3)
        status = watcher.status()
        assert runs(site) == [] and status["runs_started"] == 0, f"a run started with no history: {status}"
        assert status["mode"] == "scheduled" and status["next_run"], status
        assert iso_seconds(status["next_run"]) == boundary, f"next_run {status['next_run']}, expected {boundary}"
        run = wait_for(lambda: runs(site) and runs(site)[0], boundary - time.time() + 10, "the scheduled run")
        late = run["started_ns"] / NS - boundary
        assert 0 <= late <= 3, f"the run started {late:.1f}s after the minute boundary"
        wait_runs_finished(site, 1, 10, "the scheduled run to end")
        status = wait_for(lambda: (s := watcher.status())["run"] is None and s, 10, "the run to end")
        assert iso_seconds(status["next_run"]) == boundary + 60, status

    # A firing missed since the last run (a day ago, so 03:00 came in between): one run at once.
    configure(site, mode="scheduled", schedule='"0 3 * * *"')
    age_history(site, 25 * 3600)
    with watching(site, scratch, "scheduled-2") as watcher:
        run = wait_for(lambda: len(runs(site)) >= 2 and runs(site)[1], 5, "the missed run at start")
        assert run["started_ns"] / NS - watcher.started <= 5, (watcher.started, run)
        wait_runs_finished(site, 2, 10, "the missed run to end")

    # The last run just now: nothing at start, the next run at 03:00 local.
    with watching(site, scratch, "scheduled-3") as watcher:
        time.sleep(5)
        status = watcher.status()
        assert len(runs(site)) == 2 and status["runs_started"] == 0, f"a run started though none was missed: {status}"
        expected = next_local(3, 0, time.time())
        assert iso_seconds(status["next_run"]) == expected, \
            f"next_run {status['next_run']}, expected {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(expected))}"


def test_source_root_replaced(scratch):
    """A source root moved away and made again (as a restore or `mv data data.old && mkdir data`
    does) is watched again: a file written into the new directory makes a run; the old tree, now
    elsewhere, makes none."""
    site = live_site(scratch)
    site.write("sub/first.txt", "first\n")
    old = site.source.rstrip("/") + ".old"
    with watching(site, scratch) as watcher:
        wait_runs_finished(site, 1, 15, "the run at the start of the watcher")
        wait_for(lambda: watcher.status()["run"] is None, 10, "the first run to end")
        os.rename(site.source, old)
        os.makedirs(os.path.join(site.source, "sub"))
        site.write("sub/second.txt", "second\n")
        run = wait_runs_finished(site, 2, DEBOUNCE + 15, "a run after the root was replaced")[-1]
        assert run["outcome"] == "ok", run
        paths = latest_paths(site)
        assert "/data/sub/second.txt" in paths and "/data/sub/first.txt" not in paths, sorted(paths)
        status = wait_for(lambda: (s := watcher.status())["run"] is None and s["pending_changes"] == 0 and s, 15,
                          "the run after the replacement to end")
        assert status["watched_dirs"] == count_dirs(site.source), status
        assert "is back; watching it again" in watcher.log(), watcher.log()

        # The new directory is watched (its subdirectory too); the old one is not.
        site.write("sub/third.txt", "third\n")
        wait_runs_finished(site, 3, DEBOUNCE + 6, "a run after writing into the new root's sub/")
        assert "/data/sub/third.txt" in latest_paths(site)
        wait_for(lambda: watcher.status()["run"] is None, 10, "that run to end")
        with open(os.path.join(old, "sub", "stale.txt"), "w") as f:
            f.write("written into the old tree\n")
        time.sleep(DEBOUNCE + 3)
        assert len(runs(site)) == 3, f"a write into the moved-away tree started a run: {runs(site)}"


def test_nothing_left_running(scratch):
    left = [p for config in STARTED_CONFIGS for p in our_processes(config)]
    assert not left, f"processes left running: {left}"


def timed(test):
    def run(scratch):
        started = time.monotonic()
        try:
            test(scratch)
        finally:
            print(f"  {test.__name__}: {time.monotonic() - started:.1f}s")
    run.__name__ = test.__name__
    return run


TESTS = [
    test_live,
    test_child_output_goes_to_stderr,
    test_status_while_watcher_starts,
    test_burst,
    test_change_during_run,
    test_single_run_per_site,
    test_source_root_replaced,
    in_parallel(test_periodic, test_scheduled),
    test_nothing_left_running,
]

if __name__ == "__main__":
    wanted = sys.argv[1:]
    harness.main([timed(t) for t in TESTS if not wanted or t.__name__ in wanted or t is test_nothing_left_running])
