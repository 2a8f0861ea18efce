"""sftp-receiver-quota with a real OpenSSH sshd running the config it renders: accounts, sync (twice:
the second changes nothing), each peer jailed with SFTP only, attacked with the OpenSSH clients as a
peer would, a real backup through the jail, and a removed account refused at once."""
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time

import harness
from harness import CheckedSite, tree_manifest_bytes, manifest_diff


class Receiver:
    def __init__(self, scratch):
        harness.require_ci_prerequisite(os.path.exists("/usr/sbin/sshd"), "OpenSSH sshd")
        os.makedirs("/var/lib/anemone-test", exist_ok=True)
        os.chmod("/var/lib/anemone-test", 0o755)
        self.base = tempfile.mkdtemp(prefix="receiver-", dir="/var/lib/anemone-test")
        os.chmod(self.base, 0o755)
        [self.port] = harness.free_ports(1)
        self.config = os.path.join(scratch, "receiver.yaml")
        with open(self.config, "w") as f:
            f.write(f"server:\n  name: receiver\npaths:\n  secrets: {self.base}/secrets\n  logs: {scratch}/logs\n"
                    f"state:\n  path: {scratch}/receiver-state/anemone.db\n"
                    f"sftp:\n  port: {self.port}\n  listen: 127.0.0.1\n  backups_dir: {self.base}/backups\n"
                    "  default_quota: 1G\n")
        self.sshd = None
        self.names = []
        self.state_dir = os.path.join(scratch, "receiver-state")

    def tool(self, *args):
        return subprocess.run([os.path.join(harness.BIN, "sftp-receiver-quota"), "--config", self.config, *args],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)

    def start_sshd(self):
        # sync wrote the config beside the state file; scan rewrites it there and reloads sshd.
        rendered = os.path.join(self.state_dir, "sshd_config")
        printed = self.tool("sshd-config")
        with open(rendered) as f:
            assert printed.returncode == 0 and printed.stdout == f.read(), "sshd-config prints what sync wrote"
        os.makedirs("/run/sshd", exist_ok=True)
        check = subprocess.run(["/usr/sbin/sshd", "-t", "-f", rendered], capture_output=True, text=True)
        assert check.returncode == 0, f"sshd rejects the rendered config: {check.stderr}"
        self.sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", rendered], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.wait_listening()
        with open(os.path.join(self.base, "secrets", "ssh_host_ed25519_key.pub")) as f:
            self.host_key = " ".join(f.read().split()[:2])
        self.known_hosts = os.path.join(self.base, "known_hosts")
        with open(self.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{self.port} {self.host_key}\n")

    def wait_listening(self):
        # sshd re-executes itself on SIGHUP: its port is closed for a moment after a reload.
        time.sleep(0.3)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("sshd is not listening")

    def client_args(self, key):
        return ["-i", key, "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10"]

    def sftp(self, user, key, commands):
        return subprocess.run(["sftp", "-P", str(self.port), *self.client_args(key), "-b", "-", f"{user}@127.0.0.1"],
                              input=commands, capture_output=True, text=True, timeout=60)

    def ssh(self, user, key, *extra):
        return subprocess.run(["ssh", "-p", str(self.port), *self.client_args(key), *extra, f"{user}@127.0.0.1"],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    def close(self):
        if self.sshd and self.sshd.poll() is None:
            self.sshd.terminate()
            self.sshd.wait(timeout=10)
        for name in self.names:
            self.tool("account", "remove", name)
            subprocess.run(["userdel", name], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


def make_key(directory, name):
    path = os.path.join(directory, name)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)
    with open(path + ".pub") as f:
        return path, f.read().strip()


def test_accounts_jails_and_a_backup_through_sshd(scratch):
    receiver = Receiver(scratch)
    try:
        tag = secrets.token_hex(3)
        peer_a, peer_b = f"pa{tag}", f"pb{tag}"
        key_a, pub_a = make_key(scratch, "a_key")
        key_b, pub_b = make_key(scratch, "b_key")

        # Bad input is refused before anything changes.
        assert receiver.tool("account", "add", "Bad_Name", "--ssh-key", pub_a).returncode != 0
        r = receiver.tool("account", "add", peer_a, "--ssh-key", "ssh-rsa AAAAB3NzaC1yc2E")
        assert r.returncode != 0 and "ed25519" in r.stderr, r
        r = receiver.tool("account", "add", peer_a, "--ssh-key", pub_a + "\nssh-ed25519 AAAA")
        assert r.returncode != 0, r

        for name, pub in ((peer_a, pub_a), (peer_b, pub_b)):
            receiver.names.append(name)
            r = receiver.tool("account", "add", name, "--ssh-key", pub, "--quota", "2G")
            assert r.returncode == 0, r
        listed = {a["name"]: a for a in json.loads(receiver.tool("account", "list", "--json").stdout)}
        assert listed[peer_a]["quota_bytes"] == 2 << 30 and listed[peer_a]["state"] == "ok", listed

        first = json.loads(receiver.tool("sync", "--json").stdout)
        assert any(peer_a in c for c in first["changes"]), first
        second = json.loads(receiver.tool("sync", "--json").stdout)
        assert second["changes"] == [], f"a second sync must change nothing: {second}"

        jail_b = os.path.join(receiver.base, "backups", peer_b)
        with open(os.path.join(jail_b, "repo", "secret-of-b"), "w") as f:
            f.write("b's data")
        receiver.start_sshd()

        # Peer A sees its own jail only.
        r = receiver.sftp(peer_a, key_a, "pwd\nls -1 /\nput /etc/hostname /repo/uploaded\nls -1 /repo\n")
        assert r.returncode == 0, r
        assert "/repo" in r.stdout and "uploaded" in r.stdout, r
        assert peer_b not in r.stdout and "secret-of-b" not in r.stdout, r
        for attempt in (f"get /../{peer_b}/repo/secret-of-b {scratch}/stolen",
                        f"get /repo/../../{peer_b}/repo/secret-of-b {scratch}/stolen",
                        f"ls /../{peer_b}", f"rm /../{peer_b}/repo/secret-of-b",
                        f"rename /../{peer_b}/repo/secret-of-b /repo/mine", "get /etc/shadow " + scratch + "/shadow",
                        f"put /etc/hostname /../{peer_b}/repo/planted", f"put /etc/hostname /{peer_b}/repo/planted",
                        "put /etc/hostname /planted-at-jail-root"):
            r = receiver.sftp(peer_a, key_a, attempt + "\n")
            assert r.returncode != 0, f"{attempt} must fail: {r}"
        assert not os.path.exists(os.path.join(scratch, "stolen"))
        assert not os.path.exists(os.path.join(jail_b, "repo", "planted"))
        assert os.path.exists(os.path.join(jail_b, "repo", "secret-of-b"))
        # A symlink A uploads cannot lead out of its jail.
        receiver.sftp(peer_a, key_a, f"symlink /../{peer_b}/repo/secret-of-b /repo/link\n")
        r = receiver.sftp(peer_a, key_a, f"get /repo/link {scratch}/via-link\n")
        assert r.returncode != 0 and not os.path.exists(os.path.join(scratch, "via-link")), r

        # No shell, no command, no forwarding.
        r = receiver.ssh(peer_a, key_a, "id")
        assert "uid=" not in r.stdout, r
        # Port forwarding (here: stdio forwarding to the receiver's own port) is refused.
        r = receiver.ssh(peer_a, key_a, "-W", f"127.0.0.1:{receiver.port}")
        assert r.returncode != 0 and "SSH-2.0" not in r.stdout, r
        # B's key does not open A's account.
        assert receiver.sftp(peer_a, key_b, "ls\n").returncode != 0

        # A real backup from site A into its jail, restored byte-identical.
        site = CheckedSite(os.path.join(scratch, "site-a"), targets=[{
            "name": "receiver", "type": "sftp", "host": "127.0.0.1", "port": receiver.port, "user": peer_a,
            "path": "/repo/anemone", "identity_file": key_a, "host_key": receiver.host_key}])
        site.write("docs/a.txt", "alpha\n" * 1000)
        site.write("big.bin", harness.random_bytes("receiver", 3 << 20))
        site.run("init", "--kdf", "interactive", check=0)
        site.run("run", check=0)
        out = os.path.join(scratch, "restored")
        site.run("restore", "latest", "--target", "receiver", "--to", out, check=0)
        expected, actual = tree_manifest_bytes(site.source), tree_manifest_bytes(os.path.join(out, "data"))
        assert expected == actual, manifest_diff(expected, actual)
        assert os.path.isdir(os.path.join(receiver.base, "backups", peer_a, "repo", "anemone", "data"))

        # Removing A: its key is refused at once; B keeps working.
        r = receiver.tool("account", "remove", peer_a, "--keep-data")
        assert r.returncode == 0, r
        assert receiver.sftp(peer_a, key_a, "ls\n").returncode != 0
        assert os.path.isdir(os.path.join(receiver.base, "backups", peer_a, "repo"))
        assert receiver.sftp(peer_b, key_b, "ls /repo\n").returncode == 0
    finally:
        receiver.close()


def test_a_published_recovery_key_is_read_only_and_for_its_account_only(scratch):
    """What backup-sender config-backup relies on: a peer's recovery key, published in its own
    /config/recovery.pub, lets it in read-only, into its own jail only, once the receiver scanned."""
    receiver = Receiver(scratch)
    try:
        tag = secrets.token_hex(3)
        peer_a, peer_b = f"ra{tag}", f"rb{tag}"
        key_a, pub_a = make_key(scratch, "a_key")
        key_b, pub_b = make_key(scratch, "b_key")
        recovery, recovery_pub = make_key(scratch, "recovery")
        for name, pub in ((peer_a, pub_a), (peer_b, pub_b)):
            receiver.names.append(name)
            assert receiver.tool("account", "add", name, "--ssh-key", pub).returncode == 0
        assert receiver.tool("sync").returncode == 0
        receiver.start_sshd()

        backup_file = os.path.join(scratch, "site.20261202T020000Z.anemone-config")
        with open(backup_file, "wb") as f:
            f.write(b"anemone-config-backup 1\n" + os.urandom(1000))
        with open(os.path.join(scratch, "recovery.line"), "w") as f:
            f.write(recovery_pub + "\n")
        r = receiver.sftp(peer_a, key_a, f"put {scratch}/recovery.line /config/recovery.pub\n"
                                         f"put {backup_file} /config/site.20261202T020000Z.anemone-config\n")
        assert r.returncode == 0, r
        # B publishes a link to A's key file (outside its jail, as the receiver sees paths): never followed.
        jail_a = os.path.join(receiver.base, "backups", peer_a)
        r = receiver.sftp(peer_b, key_b, f"symlink {jail_a}/config/recovery.pub /config/recovery.pub\n")
        assert r.returncode == 0, r
        assert receiver.sftp(peer_a, recovery, "ls /config\n").returncode != 0, "accepted before a scan"

        assert receiver.tool("scan").returncode == 0
        r = receiver.sftp(peer_a, recovery, f"ls -1 /config\nget /config/site.20261202T020000Z.anemone-config "
                                            f"{scratch}/fetched\n")
        assert r.returncode == 0 and "site.20261202T020000Z.anemone-config" in r.stdout, r
        with open(os.path.join(scratch, "fetched"), "rb") as f, open(backup_file, "rb") as g:
            assert f.read() == g.read()
        for attempt in ("put /etc/hostname /config/planted", "rm /config/site.20261202T020000Z.anemone-config",
                        "rm /config/recovery.pub", "mkdir /config/d", "put /etc/hostname /repo/planted",
                        "rename /config/site.20261202T020000Z.anemone-config /config/moved",
                        "chmod 777 /config/recovery.pub", "symlink /repo /config/l"):
            r = receiver.sftp(peer_a, recovery, attempt + "\n")
            assert r.returncode != 0, f"{attempt} must fail with the recovery key: {r}"
        assert sorted(os.listdir(os.path.join(jail_a, "config"))) == ["recovery.pub", "site.20261202T020000Z.anemone-config"]
        assert not os.path.exists(os.path.join(jail_a, "repo", "planted"))
        r = receiver.ssh(peer_a, recovery, "id")
        assert "uid=" not in r.stdout, r
        # Not another account's key, not even where that account links to it.
        assert receiver.sftp(peer_b, recovery, "ls\n").returncode != 0
        # A's own key keeps writing.
        assert receiver.sftp(peer_a, key_a, "put /etc/hostname /repo/mine\n").returncode == 0
    finally:
        receiver.close()


def test_quota_is_enforced_and_lifted(scratch):
    receiver = Receiver(scratch)
    try:
        peer = f"pq{secrets.token_hex(3)}"
        key, pub = make_key(scratch, "q_key")
        receiver.names.append(peer)
        assert receiver.tool("account", "add", peer, "--ssh-key", pub, "--quota", "2M").returncode == 0
        assert receiver.tool("sync").returncode == 0
        receiver.start_sshd()
        jail = os.path.join(receiver.base, "backups", peer)
        site = CheckedSite(os.path.join(scratch, "site"), targets=[{
            "name": "quota-peer", "type": "sftp", "host": "127.0.0.1", "port": receiver.port, "user": peer,
            "path": "/repo/anemone", "identity_file": key, "host_key": receiver.host_key}])
        site.write("a.bin", harness.random_bytes("over", 1 << 20))
        site.run("init", "--kdf", "interactive", check=0)
        blob = os.path.join(scratch, "blob")
        with open(blob, "wb") as f:
            f.write(harness.random_bytes("quota", 3 << 20))
        r = receiver.sftp(peer, key, f"put {blob} /repo/one\n")
        assert r.returncode == 0, r

        scan = json.loads(receiver.tool("scan", "--json").stdout)
        assert scan[0]["state"] == "over_quota" and scan[0]["used_bytes"] >= 3 << 20, scan
        receiver.wait_listening()
        # backup-sender reads the published usage and sends nothing: exit 3 with the peer's figures.
        before = harness.directory_digest(os.path.join(jail, "repo"))
        r = site.run("run")
        assert r.code == 3 and "quota-peer: quota exceeded (" in r.err and "used of 2.0 MiB" in r.err, r
        assert harness.directory_digest(os.path.join(jail, "repo")) == before, "nothing may be sent over quota"
        with open(os.path.join(jail, "quota.json")) as f:
            published = json.load(f)
        assert published["state"] == "over_quota" and published["quota_bytes"] == 2 << 20, published
        # The peer reads its own status file but cannot change it.
        r = receiver.sftp(peer, key, f"get /quota.json {scratch}/seen.json\nput {blob} /quota.json\n")
        assert os.path.exists(os.path.join(scratch, "seen.json")) and r.returncode != 0, r

        r = receiver.sftp(peer, key, f"put {blob} /repo/two\n")
        assert r.returncode != 0 and "denied" in (r.stdout + r.stderr).lower(), r
        assert not os.path.exists(os.path.join(jail, "repo", "two")) or os.path.getsize(os.path.join(jail, "repo", "two")) == 0
        r = receiver.sftp(peer, key, "rm /repo/one\n")
        assert r.returncode == 0, f"deletes stay allowed over quota: {r}"

        # Back under quota: writes are allowed again after the next scan.
        assert receiver.tool("account", "set-quota", peer, "100M").returncode == 0
        scan = json.loads(receiver.tool("scan", "--json").stdout)
        assert scan[0]["state"] == "ok", scan
        receiver.wait_listening()
        r = receiver.sftp(peer, key, f"put {blob} /repo/three\n")
        assert r.returncode == 0, r
        status = json.loads(receiver.tool("status", "--json").stdout)
        assert status[0]["name"] == peer and status[0]["quota_bytes"] == 100 << 20, status
    finally:
        receiver.close()


def test_watch_stops_a_backup_within_a_pack_of_the_quota(scratch):
    """The issue's quota story: a backup larger than the quota fails with the quota message, usage stays
    within one pack of the quota; `forget --prune` frees space while writes are still refused; the
    next run succeeds and `check` passes."""
    receiver = Receiver(scratch)
    watch = None
    try:
        peer = f"pw{secrets.token_hex(3)}"
        key, pub = make_key(scratch, "w_key")
        receiver.names.append(peer)
        quota = 40 << 20
        assert receiver.tool("account", "add", peer, "--ssh-key", pub, "--quota", "40M").returncode == 0
        assert receiver.tool("sync").returncode == 0
        receiver.start_sshd()
        watch = subprocess.Popen([os.path.join(harness.BIN, "sftp-receiver-quota"), "--config", receiver.config,
                                  "watch", "--interval", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        site = CheckedSite(os.path.join(scratch, "site"), targets=[{
            "name": "small-peer", "type": "sftp", "host": "127.0.0.1", "port": receiver.port, "user": peer,
            "path": "/repo/anemone", "identity_file": key, "host_key": receiver.host_key, "connections": 1,
            "retention": {"keep_last": 1}}])
        site.write("kept.bin", harness.random_bytes("watch-kept", 8 << 20))
        site.run("init", "--kdf", "interactive", check=0)
        site.run("run", check=0)
        for i in range(10):  # 100 MiB that does not compress: more than the quota allows
            site.write(f"part-{i}.bin", harness.random_bytes(f"watch-{i}", 10 << 20))
        r = site.run("run", timeout=300)
        assert r.code == 3 and "small-peer: quota exceeded (" in r.err, r
        used = json.loads(receiver.tool("status", "--json").stdout)[0]["used_bytes"]
        pack = 16 << 20
        assert quota <= used <= quota + pack + (2 << 20), f"{used} bytes used for a quota of {quota}"

        # The operator drops the big files and prunes while the peer still refuses writes.
        for i in range(10):
            os.remove(os.path.join(site.source, f"part-{i}.bin"))
        assert wait_for_state(receiver, peer, "over_quota"), "the peer must still hold us over quota"
        r = site.run("forget", "--prune", "--json", check=0)
        result = json.loads(r.out)
        assert result["over_quota"] is True and result["prune"]["bytes_freed"] > 16 << 20, result
        # watch measures again within seconds and lifts the limit: what is left is about kept.bin.
        assert wait_for(receiver, peer, lambda p: p["state"] == "ok" and p["used_bytes"] < 12 << 20), \
            receiver.tool("status", "--json").stdout

        site.write("after.bin", harness.random_bytes("watch-after", 1 << 20))
        r = site.run("run", "--json", check=0)
        assert json.loads(r.out)["status"] == "ok", r.out
        site.run("check", "--read-data", check=0)
        assert len(json.loads(site.run("snapshots", "--json", check=0).out)) == 2
    finally:
        if watch and watch.poll() is None:
            watch.terminate()
            watch.wait(timeout=10)
        receiver.close()


def wait_for(receiver, peer, condition, seconds=30):
    """Polls `status` (bounded) until the peer's entry meets `condition`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = json.loads(receiver.tool("status", "--json").stdout)
        if any(p["name"] == peer and condition(p) for p in status):
            return True
        time.sleep(0.5)
    return False


def wait_for_state(receiver, peer, state, seconds=30):
    return wait_for(receiver, peer, lambda p: p["state"] == state, seconds)


if __name__ == "__main__":
    harness.main([test_accounts_jails_and_a_backup_through_sshd,
                  test_a_published_recovery_key_is_read_only_and_for_its_account_only, test_quota_is_enforced_and_lifted,
                  test_watch_stops_a_backup_within_a_pack_of_the_quota])
