"""backup-sender with an sftp target against a real OpenSSH sshd on loopback: back up, restore
byte-identical, check; a wrong pinned host key is refused (exit 12) before anything is sent; an
unreachable peer fails only its own target (exit 3)."""
import glob
import json
import os
import time

import harness
from harness import CheckedSite, Sshd, tree_manifest_bytes, manifest_diff


def make_source(site):
    site.write("docs/a.txt", "alpha\n" * 100)
    site.write("docs/b.txt", "bravo\n")
    site.write("big.bin", harness.random_bytes("sftp", 5 * 1024 * 1024))
    os.makedirs(os.path.join(site.source, "empty"), exist_ok=True)


def test_backup_and_restore_over_sftp(scratch):
    sshd = Sshd()
    try:
        remote = os.path.join(sshd.dir, "repo")
        site = CheckedSite(scratch, targets=[sshd.target("peer", remote, connections=2)])
        make_source(site)
        site.run("init", "--kdf", "interactive", check=0)
        first = json.loads(site.run("run", "--json", check=0).out)
        assert first["target"] == "peer" and first["files_new"] == 3, first
        second = json.loads(site.run("run", "--json", check=0).out)
        assert second["files_unchanged"] == 3 and second["bytes_read"] == 0, second
        out = os.path.join(scratch, "out")
        site.run("restore", "latest", "--target", "peer", "--to", out, check=0)
        expected = tree_manifest_bytes(site.source)
        actual = tree_manifest_bytes(os.path.join(out, "data"))
        assert expected == actual, manifest_diff(expected, actual)
        site.run("check", "--read-data", check=0)
        # What the peer stores is ciphertext: no source name or content appears in it.
        for dirpath, _, files in os.walk(remote):
            for name in files:
                assert "a.txt" not in name
                with open(os.path.join(dirpath, name), "rb") as f:
                    assert b"alpha" not in f.read()
    finally:
        sshd.stop()


def test_wrong_host_key_is_refused(scratch):
    sshd = Sshd()
    try:
        remote = os.path.join(sshd.dir, "repo")
        with open(sshd.identity + ".pub") as f:
            wrong = f.read().strip()  # a real ed25519 key, just not the server's
        site = CheckedSite(scratch, targets=[sshd.target("peer", remote, host_key=wrong)])
        make_source(site)
        r = site.run("init", "--kdf", "interactive")
        assert r.code == 12 and "host key mismatch" in r.err, r
        assert not os.path.exists(remote), "nothing may be created on a server with the wrong host key"
    finally:
        sshd.stop()


def test_unreachable_peer_fails_only_its_target(scratch):
    sshd = Sshd()
    try:
        remote = os.path.join(sshd.dir, "repo")
        local = os.path.join(scratch, "local-repo")
        site = CheckedSite(scratch, targets=[{"name": "local", "path": local}, sshd.target("peer", remote)])
        make_source(site)
        site.run("init", "--kdf", "interactive", check=0)
        sshd.stop()
        r = site.run("run", "--json")
        assert r.code == 3, r
        reports = {t["target"]: t for t in json.loads(r.out)}
        assert reports["local"]["status"] == "ok", reports
        assert reports["peer"]["status"] == "failed" and "127.0.0.1" in reports["peer"]["error"], reports
    finally:
        sshd.stop()


def test_connection_cut_mid_upload_resumes(scratch):
    sshd = Sshd()
    proc = None
    try:
        remote = os.path.join(sshd.dir, "repo")
        site = CheckedSite(scratch, targets=[sshd.target("peer", remote, connections=1)])
        for i in range(8):
            site.write(f"part-{i}.bin", harness.random_bytes(f"cut-{i}", 8 << 20))
        site.run("init", "--kdf", "interactive", check=0)
        proc = site.popen("run", "--json")
        deadline = time.monotonic() + 120
        packs = lambda: [f for d in glob.glob(os.path.join(remote, "data", "*")) for f in os.listdir(d)]
        while not packs() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert packs(), "no pack was stored before the cut"
        assert proc.poll() is None, "the run ended before the connection could be cut"
        sshd.cut()
        time.sleep(1.0)
        sshd.start()
        out, err = proc.communicate(timeout=600)
        err = err.decode(errors="replace")
        # The run retried through the cut and finished; what it had stored was not sent again.
        assert proc.returncode == 0, f"exit {proc.returncode}: {err}"
        assert "retrying" in err, f"the cut was not noticed: {err}"
        site.run("check", "--read-data", check=0)
        out_dir = os.path.join(scratch, "out")
        site.run("restore", "latest", "--target", "peer", "--to", out_dir, check=0)
        expected, actual = tree_manifest_bytes(site.source), tree_manifest_bytes(os.path.join(out_dir, "data"))
        assert expected == actual, manifest_diff(expected, actual)
        again = json.loads(site.run("run", "--json", check=0).out)
        assert again["files_unchanged"] == 8, again
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        sshd.stop()


if __name__ == "__main__":
    harness.main([test_backup_and_restore_over_sftp, test_wrong_host_key_is_refused,
                  test_unreachable_peer_fails_only_its_target, test_connection_cut_mid_upload_resumes])
