#!/usr/bin/env python3
"""backup-sender facing bad input and hostile conditions: wrong passphrase, missing repository,
init over an existing repository, locks held by a running backup, config errors, a damaged pack,
a full disk, an unknown target. Each case checks the documented exit code, a clear message, and
that nothing was damaged."""
import glob
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (CheckedSite, SoftAssertions, directory_digest, manifest_diff, random_bytes,  # noqa: E402
                     require_ci_prerequisite, tree_manifest_bytes, write_urandom_file)

MiB = 1024 * 1024
WRONG = "Tr0ub4dor&3 is not the passphrase"


def pack_files(repo):
    return [p for p in glob.glob(os.path.join(repo, "data", "*", "*")) if os.path.isfile(p)]


def wait_for_lock(site, proc, timeout=60):
    """Waits until the running process has a lock file in <repo>/locks/."""
    locks = os.path.join(site.repo, "locks")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.isdir(locks) and os.listdir(locks):
            return
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the long run ended (exit {proc.returncode}) before a lock appeared: {out!r} {err!r}")
        time.sleep(0.01)
    raise AssertionError("no lock file appeared under locks/ while run was running")


def stop(proc, site=None):
    """Kills the process if it still runs; drops the big source files (a failed test keeps its
    scratch directory, and 400 MiB of random input is of no use for the post-mortem)."""
    if proc.poll() is None:
        proc.kill()
    result = proc.communicate()
    if site is not None:
        for path in glob.glob(os.path.join(site.source, "big-*.bin")):
            os.unlink(path)
    return result


def run_with_config(site, config, *args):
    """site.run, but with another configuration file."""
    saved = site.config
    site.config = config
    try:
        return site.run(*args)
    finally:
        site.config = saved


def big_source(site, size=400 * MiB):
    """A source large enough that a run lasts several seconds (random data, written once)."""
    block = 16 * MiB
    for i in range(size // block):
        write_urandom_file(os.path.join(site.source, f"big-{i:03d}.bin"), block)


# --------------------------------------------------------------------------------------------------

def test_wrong_passphrase(scratch):
    """Every command that opens the repository: exit 12, "wrong passphrase", repository untouched."""
    site = CheckedSite(scratch)
    site.secrets.add(WRONG)
    site.write("a.txt", "a\n")
    site.write("sub/b.bin", random_bytes("b", 100000))
    site.init()
    site.run("run", check=0)
    site.write("c.txt", "new since the first snapshot\n")  # so a run would have something to write
    new_pass = os.path.join(scratch, "new.pass")
    with open(new_pass, "w") as f:
        f.write("another passphrase entirely\n")
    out = os.path.join(scratch, "restored")
    commands = [
        ("run",), ("run", "--json"), ("snapshots",), ("snapshots", "--json"), ("ls", "latest"),
        ("diff", "latest", "latest"), ("restore", "latest", "--target", "local", "--to", out),
        ("check",), ("check", "--read-data"), ("forget",), ("forget", "--prune"), ("prune",), ("stats",),
        ("key", "list"), ("key", "add", "--new-passphrase-file", new_pass), ("key", "remove", "abcd"),
        ("unlock",),
    ]
    soft = SoftAssertions()
    before = directory_digest(site.repo)
    for command in commands:
        r = site.run(*command, passphrase=WRONG)
        name = " ".join(command)
        soft.equal(r.code, 12, f"{name}: exit code")
        soft.check("wrong passphrase" in r.err.lower(), f"{name}: stderr lacks 'wrong passphrase': {r.err!r}")
        after = directory_digest(site.repo)
        soft.check(after == before, f"{name} with a wrong passphrase changed the repository: "
                   f"added {sorted(set(after) - set(before))[:5]}, removed {sorted(set(before) - set(after))[:5]}")
        before = after
    written = [p for p in glob.glob(os.path.join(out, "**"), recursive=True) if os.path.isfile(p)]
    soft.check(not written, f"restore with a wrong passphrase wrote files: {written}")
    # The right passphrase still works and sees one snapshot.
    listed = site.run("snapshots", "--json", check=0).json()
    soft.equal(len(listed), 1, "snapshots after the wrong-passphrase attempts")
    soft.done()


def test_missing_repository(scratch):
    """No repository at the target path (nonexistent, or an empty directory): exit 10, nothing created."""
    soft = SoftAssertions()
    for label, prepare in (("nonexistent", lambda p: None), ("empty", lambda p: os.makedirs(p))):
        root = os.path.join(scratch, label)
        os.makedirs(root)
        site = CheckedSite(root)
        site.write("a.txt", "a\n")
        prepare(site.repo)
        before = directory_digest(site.repo)
        for command in (("run",), ("run", "--json"), ("snapshots",), ("check",), ("check", "--read-data")):
            r = site.run(*command)
            soft.equal(r.code, 10, f"{label} repository, {' '.join(command)}: exit code ({r.err.strip()})")
            soft.check("no repository" in r.err.lower() or "not found" in r.err.lower(),
                       f"{label} repository, {' '.join(command)}: unclear message {r.err!r}")
        soft.equal(directory_digest(site.repo), before, f"{label} repository: the target path was changed")
    soft.done()


def test_init_twice(scratch):
    site = CheckedSite(scratch)
    site.write("a.txt", "a\n")
    site.init()
    site.run("run", check=0)
    before = directory_digest(site.repo)
    for passphrase in (harness.PASSPHRASE, "some other passphrase"):
        for args in (("init", "--kdf", "interactive"), ("init", "--json")):
            r = site.run(*args, passphrase=passphrase)
            assert r.code != 0, f"init over an existing repository must fail: {r!r}"
            assert "exist" in (r.out + r.err).lower(), f"init twice: the message must say a repository exists: {r!r}"
            assert directory_digest(site.repo) == before, "init over an existing repository changed it"
    assert len(site.run("snapshots", "--json", check=0).json()) == 1


def test_locked_repository(scratch):
    """While a run holds its lock, prune exits 11 naming the holder's host and pid; the run then
    finishes normally and releases its lock."""
    site = CheckedSite(scratch)
    big_source(site)
    site.init()
    proc = site.popen("run")
    try:
        wait_for_lock(site, proc)
        assert proc.poll() is None
        r = site.run("prune")
        running = proc.poll() is None
        assert r.code == 11, f"prune during a run: expected exit 11, got {r!r}"
        assert socket.gethostname() in r.err, f"the lock message must name the host {socket.gethostname()}: {r.err!r}"
        assert re.search(rf"\b{proc.pid}\b", r.err), f"the lock message must name pid {proc.pid}: {r.err!r}"
        assert running, "the run ended before prune was refused; the test did not hold the lock"
        # A plain unlock keeps the lock of a live process.
        site.run("unlock", check=0)
        assert os.listdir(os.path.join(site.repo, "locks")), "unlock (without --force) removed a live process's lock"
        out, err = proc.communicate(timeout=600)
        site.assert_no_secret(out.decode(errors="replace") + err.decode(errors="replace"), "the long run's output")
        assert proc.returncode == 0, f"the long run failed: {proc.returncode} {out!r} {err!r}"
    finally:
        stop(proc, site)
    assert os.listdir(os.path.join(site.repo, "locks")) == [], "the finished run left its lock behind"
    site.run("prune", check=0)
    site.run("check", check=0)


def test_second_run_refused(scratch):
    """Only one run at a time on a site: a second run exits 11 with a clear message."""
    site = CheckedSite(scratch)
    big_source(site)
    site.init()
    proc = site.popen("run")
    try:
        wait_for_lock(site, proc)
        assert proc.poll() is None
        r = site.run("run", "--json")
        assert r.code == 11, f"a second run during a run: expected exit 11, got exit {r.code}: {r.out[-600:]} {r.err[-600:]}"
        assert "another backup-sender run is in progress" in r.err, r
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"the first run failed: {proc.returncode} {out!r} {err!r}"
    finally:
        stop(proc, site)
    assert len(site.run("snapshots", "--json", check=0).json()) == 1


def test_config_errors(scratch):
    soft = SoftAssertions()
    site = CheckedSite(os.path.join(scratch, "base"))
    with open(site.config) as f:
        good = f.read().splitlines()

    # 1. YAML syntax error: a flow sequence opened and never closed.
    syntax = os.path.join(scratch, "syntax.yaml")
    lines = list(good)
    i = lines.index("  sources:")
    lines[i] = "  sources: ["
    with open(syntax, "w") as f:
        f.write("\n".join(lines) + "\n")
    for command in ("run", "snapshots"):
        r = run_with_config(site, syntax, command)
        soft.equal(r.code, 2, f"YAML syntax error, {command}: exit code")
        m = re.search(r"syntax\.yaml:(\d+):(\d+)", r.err)
        soft.check(m, f"YAML syntax error, {command}: no file:line:col in {r.err!r}")
        if m:
            soft.check(i + 1 <= int(m.group(1)) <= i + 2,
                       f"YAML syntax error: line {m.group(1)} reported, the error is at line {i + 1}-{i + 2}")

    # 2. Unknown key keep_lst: exit 2, file:line:col of the key, and a suggestion.
    typo_site = CheckedSite(os.path.join(scratch, "typo"), retention={"keep_lst": 2})
    with open(typo_site.config) as f:
        typo_lines = f.read().splitlines()
    line_no = next(n for n, line in enumerate(typo_lines, 1) if "keep_lst" in line)
    col_no = typo_lines[line_no - 1].index("keep_lst") + 1
    for command in ("run", "snapshots", "check"):
        r = typo_site.run(command)
        soft.equal(r.code, 2, f"keep_lst, {command}: exit code")
        soft.check("did you mean keep_last" in r.err, f"keep_lst, {command}: no suggestion in {r.err!r}")
        soft.check(f"config.yaml:{line_no}:{col_no}" in r.err,
                   f"keep_lst, {command}: expected config.yaml:{line_no}:{col_no} in {r.err!r}")

    # 3. Missing config file.
    missing = os.path.join(scratch, "no-such-config.yaml")
    for command in ("run", "snapshots"):
        r = run_with_config(site, missing, command)
        soft.equal(r.code, 2, f"missing config, {command}: exit code")
        soft.check(missing in r.err, f"missing config, {command}: the message must name {missing}: {r.err!r}")
    soft.done()


def test_flipped_byte_in_pack(scratch):
    """One flipped byte in the largest pack: check --read-data names the pack and the file; restore
    restores everything else byte-identically and does not create the damaged file."""
    site = CheckedSite(scratch)
    big = [f"big-{i}.bin" for i in range(3)]
    for name in big:
        site.write(name, random_bytes(name, 20 * MiB))
    for i in range(6):
        site.write(f"small/s{i}.txt", f"small file {i}\n" * (i + 1))
    site.init()
    site.run("run", check=0)
    site.run("check", "--read-data", check=0)

    packs = sorted(pack_files(site.repo), key=os.path.getsize)
    damaged_pack = packs[-1]
    pack_id = os.path.basename(damaged_pack)
    size = os.path.getsize(damaged_pack)
    assert size > 8 * MiB, f"largest pack is only {size} bytes"
    with open(damaged_pack, "r+b") as f:
        f.seek(size // 2)
        byte = f.read(1)
        f.seek(size // 2)
        f.write(bytes([byte[0] ^ 0x55]))

    soft = SoftAssertions()
    site.run("check")  # structure only: may pass, must not crash
    r = site.run("check", "--read-data")
    soft.check(r.code not in (0, 2) and r.code < 128, f"check --read-data on a damaged pack: exit {r.code}")
    check_text = r.out + r.err
    soft.check(pack_id in check_text, f"check --read-data does not name the damaged pack {pack_id}:\n{check_text}")

    out = os.path.join(scratch, "out")
    r = site.run("restore", "latest", "--target", "local", "--to", out, "--json")
    soft.check(r.code not in (0, 2) and r.code < 128, f"restore of a damaged snapshot: exit {r.code}")
    try:
        report = json.loads(r.out)
    except ValueError:
        report = {}
        soft.check(False, f"restore --json printed no JSON: {r!r}")
    damaged = report.get("damaged")
    soft.check(isinstance(damaged, list) and damaged, f"restore --json reports no damaged file: {r.out}")
    damaged = damaged if isinstance(damaged, list) else []
    soft.check(set(damaged) <= {f"/data/{n}" for n in big},
               f"damaged files {damaged} should be among the big files (one blob was altered)")
    soft.check(len(damaged) == 1, f"one altered byte damages one blob, so one file; got {damaged}")
    for path in damaged:
        rel = path[len("/data/"):] if path.startswith("/data/") else path
        soft.check(not os.path.lexists(os.path.join(out, "data", rel)), f"damaged file {path} was created")
        soft.check(rel in check_text, f"check --read-data does not name the damaged file {path}")
    if os.path.isdir(os.path.join(out, "data")):
        expected = tree_manifest_bytes(site.source)
        actual = tree_manifest_bytes(os.path.join(out, "data"))
        for path in damaged:
            expected.pop(os.fsencode(path[len("/data/"):]), None)
        soft.check(expected == actual, "files not in the damaged pack differ:\n" + manifest_diff(expected, actual))
    else:
        soft.check(False, "restore did not create OUT/data")

    out2 = os.path.join(scratch, "out-text")
    r = site.run("restore", "latest", "--target", "local", "--to", out2)
    soft.check(r.code != 0, "restore (text) of a damaged snapshot exited 0")
    soft.check("DAMAGED" in r.out + r.err, f"restore (text) does not say DAMAGED: {r!r}")
    for path in damaged:
        soft.check(path in r.out + r.err, f"restore (text) does not name {path}")
    soft.done()


def test_disk_full(scratch):
    """A repository on an 8 MiB tmpfs: backing up 20 MiB fails clearly, the repository stays
    consistent, and a smaller backup afterwards succeeds."""
    site = CheckedSite(scratch)
    os.makedirs(site.repo)
    mounted = False
    if os.geteuid() == 0:
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", site.repo],
                              capture_output=True, text=True)
        mounted = proc.returncode == 0
    if not require_ci_prerequisite(mounted, "tmpfs mount (root)"):
        return
    try:
        site.init()
        site.write("big.bin", random_bytes("full", 20 * MiB))
        for i in range(3):
            site.write(f"small/s{i}.txt", f"small {i}\n" * 200)
        r = site.run("run")
        assert r.code not in (0, 2) and r.code < 128, f"run on a full disk: {r!r}"
        assert re.search(r"no space left", r.out + r.err, re.I), f"run on a full disk: unclear message {r!r}"
        r = site.run("check")
        assert r.code == 0, f"check after a run that hit a full disk: {r!r}"
        os.unlink(os.path.join(site.source, "big.bin"))
        r = site.run("run", "--json")
        assert r.code == 0, f"run of the small remaining data after freeing the source: {r!r}"
        site.run("check", "--read-data", check=0)
        out = os.path.join(scratch, "out")
        site.run("restore", "latest", "--target", "local", "--to", out, check=0)
        expected, actual = tree_manifest_bytes(site.source), tree_manifest_bytes(os.path.join(out, "data"))
        assert expected == actual, manifest_diff(expected, actual)
    finally:
        subprocess.run(["umount", site.repo], capture_output=True)


def test_unknown_target(scratch):
    site = CheckedSite(scratch, targets=[
        {"name": "local", "path": os.path.join(scratch, "repo")},
        {"name": "offsite", "path": os.path.join(scratch, "repo2")},
    ])
    site.write("a.txt", "a\n")
    soft = SoftAssertions()
    for command in (("init", "--target", "nope"), ("run", "--target", "nope"), ("snapshots", "--target", "nope"),
                    ("check", "--target", "nope"), ("restore", "latest", "--target", "nope", "--to",
                                                    os.path.join(scratch, "out")),
                    ("ls", "latest", "--target", "nope"), ("forget", "--target", "nope"),
                    ("prune", "--target", "nope"), ("stats", "--target", "nope")):
        r = site.run(*command)
        name = " ".join(command)
        soft.equal(r.code, 2, f"{name}: exit code")
        soft.check("nope" in r.err and "local" in r.err and "offsite" in r.err,
                   f"{name}: the message must name the unknown target and list local, offsite: {r.err!r}")
    soft.check(not os.path.exists(os.path.join(scratch, "repo")), "an unknown --target created a repository")
    soft.done()


if __name__ == "__main__":
    harness.main([
        test_wrong_passphrase,
        test_missing_repository,
        test_init_twice,
        test_locked_repository,
        test_second_run_refused,
        test_config_errors,
        test_flipped_byte_in_pack,
        test_disk_full,
        test_unknown_target,
    ])
