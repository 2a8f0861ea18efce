"""wg-peer-manager across real tunnels: each site is a network namespace with its own wireguard-go,
its own receiver sshd (the rendered config), its own state and config; sites reach each other's
public addresses (192.0.2.0/24) over veth links. Two sites: invite, join, accept; both back up to
each other through the tunnel; restore byte-identical; the peer's jail holds only ciphertext; bad
codes are refused with distinct errors and change nothing; remove ends the tunnel and the login."""
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time

import harness
import netns

WG = "wg-peer-manager"


class MeshSite:
    """One site: config, secrets under /var/lib/anemone-test (sshd wants root-owned key paths), its
    namespace, its sshd and its `wg-peer-manager up --foreground`, both ended by the lab."""

    def __init__(self, lab, scratch, site, subnet="198.18.0.0/15"):
        self.site = site
        self.name = site.name
        self.lab = lab
        self.root = os.path.join(scratch, self.name)
        os.makedirs("/var/lib/anemone-test", exist_ok=True)
        os.chmod("/var/lib/anemone-test", 0o755)
        self.base = tempfile.mkdtemp(prefix=f"mesh-{self.name}-", dir="/var/lib/anemone-test")
        os.chmod(self.base, 0o755)
        self.source = os.path.join(self.root, "source")
        os.makedirs(self.source, exist_ok=True)
        self.state_dir = os.path.join(self.root, "state")
        self.prefix = "m" + secrets.token_hex(2) + "-"  # Unix users of all test sites share /etc/passwd
        self.interface = "wga" + secrets.token_hex(4)   # the UAPI socket directory is shared too
        self.config = os.path.join(self.root, "config.yaml")
        with open(self.config, "w") as f:
            f.write(f"server:\n  name: {self.name}\n"
                    f"paths:\n  secrets: {self.base}/secrets\n  logs: {self.root}/logs\n"
                    f"state:\n  path: {self.state_dir}/anemone.db\n"
                    f"backup:\n  sources:\n    - name: data\n      path: {self.source}\n"
                    f"sftp:\n  port: 22222\n  listen: 0.0.0.0\n  backups_dir: {self.base}/backups\n"
                    f"  default_quota: 1G\n  account_prefix: {self.prefix}\n"
                    f"wireguard:\n  interface: {self.interface}\n  listen_port: 51820\n  subnet: {subnet}\n"
                    f"  endpoint: \"{site.public_address}:51820\"\n  keepalive: 5\n")
        self.users = []

    def tool(self, tool, *args, check=0, timeout=120):
        env = dict(os.environ)
        env["ANEMONE_PASSPHRASE"] = harness.PASSPHRASE
        env.pop("ANEMONE_PASSPHRASE_FILE", None)
        proc = self.site.run([os.path.join(harness.BIN, tool), "--config", self.config, *args], check=False,
                             timeout=timeout, env=env)
        assert harness.PASSPHRASE not in proc.stdout + proc.stderr, "the passphrase leaked into output"
        if check is not None:
            assert proc.returncode == check, f"{self.name}: {tool} {' '.join(args)[:200]}: exit {proc.returncode}\n" \
                                             f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
        return proc

    def start(self):
        self.tool(WG, "init")
        self.tool("sftp-receiver-quota", "sync")
        rendered = os.path.join(self.state_dir, "sshd_config")
        os.makedirs("/run/sshd", exist_ok=True)
        self.sshd = self.site.popen(["/usr/sbin/sshd", "-D", "-e", "-f", rendered], name="sshd")
        netns.wait_for(lambda: ":22222 " in self.site.run(["ss", "-ltnH"]).stdout, 10, 0.1, f"{self.name} sshd listening")
        self.up = self.site.popen([os.path.join(harness.BIN, WG), "--config", self.config, "up", "--foreground"],
                                  name="wg-up")
        netns.wait_for(lambda: self.site.ip("link", "show", self.interface, check=False).returncode == 0 and
                       self.tool(WG, "status", check=None).returncode == 0, 15, 0.2, f"{self.name} interface up")

    def show(self):
        return json.loads(self.tool(WG, "show", "--json").stdout)

    def account_for(self, peer):
        user = self.prefix + peer
        self.users.append(user)
        return user

    def close(self):
        for user in self.users:
            subprocess.run(["userdel", user], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)  # keys and jails (ciphertext) under /var/lib/anemone-test


def mesh_lab(scratch, names):
    lab = netns.Lab(scratch)
    sites = [lab.site(name) for name in names]
    links = lab.mesh(sites)
    return lab, [MeshSite(lab, scratch, site) for site in sites], links


def test_two_sites_join_back_up_and_restore_through_the_tunnel(scratch):
    if not netns.require_prerequisites():
        return
    lab, (a, b), links = mesh_lab(scratch, ["site-a", "site-b"])
    try:
        with lab:
            a.start()
            b.start()
            a.account_for("site-b")
            b.account_for("site-a")

            code = a.tool(WG, "invite", "site-b", "--expires", "1h").stdout.strip()
            assert code.startswith("anemone-invite:"), code

            # Bad codes: each its own message, nothing changes on B.
            flipped = code[:40] + ("A" if code[40] != "A" else "B") + code[41:]
            bad = {
                "garbage": ("hello", "is not an anemone invitation code"),
                "flipped": (flipped, ""),
                "cut": (code[:len(code) // 2], ""),
            }
            messages = set()
            for label, (text, expected) in bad.items():
                r = b.tool(WG, "join", text, check=None)
                assert r.returncode != 0 and "error" in r.stderr, (label, r)
                assert expected in r.stderr, (label, r.stderr)
                messages.add(r.stderr.strip())
            assert len(messages) == len(bad), f"each bad code gets its own message: {messages}"
            assert json.loads(b.tool(WG, "list", "--json").stdout) == [], "a refused code changes nothing"

            reply = b.tool(WG, "join", code).stdout.strip()
            assert reply.startswith("anemone-reply:"), reply
            r = b.tool(WG, "join", reply, check=None)
            assert r.returncode != 0 and "not an invitation" in r.stderr, r
            r = b.tool(WG, "join", code, check=None)
            assert r.returncode != 0 and "already exists" in r.stderr, r

            accepted = json.loads(a.tool(WG, "accept", reply, "--json").stdout)
            assert accepted["peer"] == "site-b" and accepted["tunnel_applied"] is True, accepted
            r = a.tool(WG, "accept", reply, check=None)
            assert r.returncode != 0 and "already used" in r.stderr, r

            # The tunnel: each side reaches the other's VPN address.
            a_vpn, b_vpn = a.show()["vpn_address"], b.show()["vpn_address"]
            assert a_vpn != b_vpn
            a.site.wait_ping(b_vpn, timeout=15)
            b.site.wait_ping(a_vpn, timeout=15)
            listed = json.loads(a.tool(WG, "list", "--json").stdout)
            assert [p["name"] for p in listed] == ["site-b"] and listed[0]["vpn_address"] == b_vpn, listed
            netns.wait_for(lambda: json.loads(a.tool(WG, "list", "--json").stdout)[0]["latest_handshake"], 15, 0.5,
                           "a handshake with site-b")

            # Each backs up to the other over the tunnel; the repository is made on the first run.
            secret_name = "only-in-plaintext-" + secrets.token_hex(4)
            secret_text = b"the plaintext marker " + secrets.token_hex(16).encode()
            with open(os.path.join(a.source, secret_name + ".txt"), "wb") as f:
                f.write(secret_text * 100)
            with open(os.path.join(a.source, "random.bin"), "wb") as f:
                f.write(harness.random_bytes("mesh-a", 3 << 20))
            with open(os.path.join(b.source, "b.txt"), "wb") as f:
                f.write(b"site b's data\n" * 1000)
            run_a = json.loads(a.tool("backup-sender", "run", "--json").stdout)
            assert run_a["target"] == "site-b" and run_a["status"] == "ok", run_a
            run_b = json.loads(b.tool("backup-sender", "run", "--json").stdout)
            assert run_b["target"] == "site-a" and run_b["status"] == "ok", run_b

            out = os.path.join(a.root, "restored")
            a.tool("backup-sender", "restore", "latest", "--target", "site-b", "--to", out)
            diff = harness.manifest_diff(harness.tree_manifest_bytes(a.source),
                                         harness.tree_manifest_bytes(os.path.join(out, "data")))
            assert not diff, diff
            a.tool("backup-sender", "check", "--target", "site-b", "--read-data")

            # B's jail for A holds only ciphertext.
            jail = os.path.join(b.base, "backups", b.prefix + "site-a")
            assert os.path.isdir(os.path.join(jail, "repo")), os.listdir(jail)
            for directory, _, files in os.walk(jail):
                for name in files:
                    assert secret_name not in name
                    path = os.path.join(directory, name)
                    with open(path, "rb") as f:
                        assert secret_text[:24] not in f.read(), f"plaintext in {path}"

            # remove: the tunnel and B's login to A go at once; A's data on B stays.
            b_key = os.path.join(b.base, "secrets", "id_ed25519")
            b_user_on_a = a.prefix + "site-b"

            def b_logs_into_a():
                return a.site.run(["sftp", "-b", "-", "-i", b_key, "-P", "22222", "-o", "BatchMode=yes",
                                   "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                                   "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10", f"{b_user_on_a}@127.0.0.1"],
                                  check=False, input="ls /\n", timeout=30)
            before = b_logs_into_a()
            assert before.returncode == 0 and "repo" in before.stdout, before
            a.tool(WG, "remove", "site-b")
            peers = a.site.run(["wg", "show", a.interface, "peers"]).stdout.strip()
            assert peers == "", f"the tunnel to site-b is still configured: {peers}"
            assert json.loads(a.tool(WG, "list", "--json").stdout) == []
            after = b_logs_into_a()
            assert after.returncode != 0 and "Permission denied" in after.stderr, after
            assert not a.site.ping(b_vpn, count=2, wait=1), "site-b's VPN address must be unreachable from site-a"
            assert os.path.isdir(os.path.join(a.base, "backups", b_user_on_a, "repo")), "data stays without --purge"
    finally:
        a.close()
        b.close()


def _tree_bytes(root):
    """Total size of the regular files under root (0 when it does not exist)."""
    total = 0
    for directory, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except FileNotFoundError:  # a temporary file renamed meanwhile
                pass
    return total


def _wg_table(site, interface, what):
    """`wg show <if> <what>` as {peer public key: [fields...]}."""
    out = site.run(["wg", "show", interface, what]).stdout
    return {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines() if "\t" in line}


def test_three_sites_mesh_cut_link_and_remove(scratch):
    """Three sites, each a peer of both others (A invites B, B invites C, C invites A); each backs
    up to both others; restores are byte-identical; jails hold only ciphertext. Cutting the A-B link
    during A's run fails site-b only (exit 3, partial) while site-c is stored; with the link back both
    targets take a run and pass check. Removing site-b on A ends B's login and tunnel only."""
    if not netns.require_prerequisites():
        return
    lab, sites, links = mesh_lab(scratch, ["site-a", "site-b", "site-c"])
    a, b, c = sites
    timings, notes = {}, {}
    test_start = time.monotonic()
    try:
        with lab:
            for site in sites:
                site.start()
                for other in sites:
                    if other is not site:
                        site.account_for(other.name)

            # A invites B, B invites C, C invites A: every pair once.
            def pair(inviter, invitee):
                code = inviter.tool(WG, "invite", invitee.name, "--expires", "1h").stdout.strip()
                assert code.startswith("anemone-invite:"), code
                reply = invitee.tool(WG, "join", code).stdout.strip()
                assert reply.startswith("anemone-reply:"), reply
                accepted = json.loads(inviter.tool(WG, "accept", reply, "--json").stdout)
                assert accepted["peer"] == invitee.name and accepted["tunnel_applied"] is True, accepted
            pair(a, b)
            pair(b, c)
            pair(c, a)

            shown = {site.name: site.show() for site in sites}
            vpn = {name: info["vpn_address"] for name, info in shown.items()}
            wg_key = {name: info["wireguard_public_key"] for name, info in shown.items()}
            assert len(set(vpn.values())) == 3, f"VPN addresses must be distinct: {vpn}"
            for site in sites:
                others = sorted(o.name for o in sites if o is not site)
                listed = json.loads(site.tool(WG, "list", "--json").stdout)
                assert sorted(p["name"] for p in listed) == others, (site.name, listed)
                for peer in listed:
                    assert peer["vpn_address"] == vpn[peer["name"]], (site.name, peer)
                for other in sites:
                    if other is not site:
                        site.site.wait_ping(vpn[other.name], timeout=20)

            def handshakes_done(site):
                listed = json.loads(site.tool(WG, "list", "--json").stdout)
                return len(listed) == 2 and all(p["latest_handshake"] for p in listed)
            for site in sites:
                netns.wait_for(lambda: handshakes_done(site), 20, 0.5, f"{site.name}: a handshake with both peers")

            # Each site backs up to both others; the repositories are made on the first run.
            secrets_of = {}
            for site in sites:
                name = f"only-in-plaintext-{site.name}-" + secrets.token_hex(4)
                text = f"the plaintext marker of {site.name} ".encode() + secrets.token_hex(16).encode()
                secrets_of[site.name] = (name, text)
                with open(os.path.join(site.source, name + ".txt"), "wb") as f:
                    f.write(text * 100)
                os.makedirs(os.path.join(site.source, "sub"), exist_ok=True)
                with open(os.path.join(site.source, "sub", "random.bin"), "wb") as f:
                    f.write(harness.random_bytes("mesh3-" + site.name, 2 << 20))

            def run_both(site):
                proc = site.tool("backup-sender", "run", "--json", timeout=300)
                results = json.loads(proc.stdout)
                assert isinstance(results, list) and len(results) == 2, results
                by_target = {r["target"]: r for r in results}
                assert sorted(by_target) == sorted(o.name for o in sites if o is not site), results
                for target, result in by_target.items():
                    assert result["status"] == "ok", (site.name, result)
                return by_target
            for site in sites:
                run_both(site)

            for site in sites:
                expected = harness.tree_manifest_bytes(site.source)
                for peer in sites:
                    if peer is site:
                        continue
                    out = os.path.join(site.root, f"restored-from-{peer.name}")
                    site.tool("backup-sender", "restore", "latest", "--target", peer.name, "--to", out)
                    diff = harness.manifest_diff(expected, harness.tree_manifest_bytes(os.path.join(out, "data")))
                    assert not diff, f"{site.name} restored from {peer.name}:\n{diff}"

            # Every peer's jail for a site holds only ciphertext of that site.
            def jail(peer, site):
                return os.path.join(peer.base, "backups", peer.prefix + site.name)
            for site in sites:
                secret_name, secret_text = secrets_of[site.name]
                for peer in sites:
                    if peer is site:
                        continue
                    path = jail(peer, site)
                    assert os.path.isdir(os.path.join(path, "repo")), (path, os.listdir(path))
                    for directory, dirs, files in os.walk(path):
                        for name in dirs + files:
                            assert secret_name not in name and "only-in-plaintext" not in name, \
                                f"plaintext file name in {directory}/{name}"
                        for name in files:
                            with open(os.path.join(directory, name), "rb") as f:
                                data = f.read()
                            assert secret_text[:24] not in data and secret_name.encode() not in data, \
                                f"plaintext of {site.name} in {os.path.join(directory, name)}"

            # Cut the A-B link in the middle of A's run: site-b fails, site-c is stored. A dead link is
            # noticed only through timeouts (SSH 30 s per blocking call, connect 30 s, 5 attempts, then
            # the same again to remove the repository lock): measured 370-430 s, hence the bound.
            harness.write_urandom_file(os.path.join(a.source, "big", "big.bin"), 160 << 20)
            a_on_b = jail(b, a)
            baseline = _tree_bytes(a_on_b)
            env = dict(os.environ)
            env["ANEMONE_PASSPHRASE"] = harness.PASSPHRASE
            env.pop("ANEMONE_PASSPHRASE_FILE", None)
            out_path, err_path = os.path.join(a.root, "cut-run.out"), os.path.join(a.root, "cut-run.err")
            with open(out_path, "wb") as out_f, open(err_path, "wb") as err_f:
                started = time.monotonic()
                run = a.site.popen([os.path.join(harness.BIN, "backup-sender"), "--config", a.config, "run", "--json"],
                                   name="backup-cut", env=env, stdout=out_f, stderr=err_f)
            netns.wait_for(lambda: run.poll() is not None or _tree_bytes(a_on_b) - baseline >= (8 << 20), 60, 0.05,
                           "a few MiB of A's run to reach B")
            assert run.poll() is None, f"A's run ended before the link could be cut (exit {run.returncode})"
            links[(a.site, b.site)].down()
            cut_at = time.monotonic()
            timings["A's run start to the cut"] = cut_at - started
            notes["MiB of A's run on B at the cut"] = f"{(_tree_bytes(a_on_b) - baseline) / (1 << 20):.1f}"
            try:
                code = run.wait(timeout=600)
            except subprocess.TimeoutExpired:
                with open(err_path, errors="replace") as f:
                    raise AssertionError(f"A's run did not end within 600 s of the cut; stderr so far:\n{f.read()[-4000:]}")
            timings["the cut to the end of A's run"] = time.monotonic() - cut_at
            with open(out_path, errors="replace") as f:
                stdout = f.read()
            with open(err_path, errors="replace") as f:
                stderr = f.read()
            assert harness.PASSPHRASE not in stdout + stderr, "the passphrase leaked into output"
            assert code == 3, f"expected exit 3 (partial), got {code}\nstdout: {stdout}\nstderr: {stderr}"
            results = {r["target"]: r for r in json.loads(stdout)}
            assert sorted(results) == ["site-b", "site-c"], stdout
            assert results["site-b"]["status"] == "failed" and results["site-b"]["error"], results["site-b"]
            assert results["site-c"]["status"] == "ok" and results["site-c"]["bytes_added"] >= (150 << 20), \
                results["site-c"]
            assert not a.site.ping(vpn["site-b"], count=1, wait=1), "the cut link must really separate A from B"
            assert a.site.ping(vpn["site-c"], count=3, wait=1), "A-C must not suffer from the A-B cut"
            notes["site-b's error"] = f'{results["site-b"]["error_code"]}: {results["site-b"]["error"]}'
            notes["retry warnings"] = str(stderr.count("retrying in"))

            # The link back: the tunnel recovers, the next run stores both, and both check clean.
            links[(a.site, b.site)].up()
            relinked = time.monotonic()
            a.site.wait_ping(vpn["site-b"], timeout=60)
            timings["link up to A pinging B"] = time.monotonic() - relinked
            again_at = time.monotonic()
            run_both(a)
            timings["A's next run"] = time.monotonic() - again_at
            leftovers = os.listdir(os.path.join(a_on_b, "repo", "tmp"))
            assert leftovers == [], f"the cut run's partial uploads are still on B: {leftovers}"
            a.tool("backup-sender", "check", "--target", "site-b", timeout=300)
            a.tool("backup-sender", "check", "--target", "site-c", timeout=300)
            out = os.path.join(a.root, "restored-after-cut")
            a.tool("backup-sender", "restore", "latest", "--target", "site-b", "--to", out, timeout=300)
            diff = harness.manifest_diff(harness.tree_manifest_bytes(a.source),
                                         harness.tree_manifest_bytes(os.path.join(out, "data")))
            assert not diff, f"A restored from site-b after the cut:\n{diff}"

            # remove site-b on A: B's login and tunnel go; C's tunnel stays up throughout.
            b_key = os.path.join(b.base, "secrets", "id_ed25519")
            b_user_on_a = a.prefix + "site-b"

            def b_logs_into_a():
                return a.site.run(["sftp", "-b", "-", "-i", b_key, "-P", "22222", "-o", "BatchMode=yes",
                                   "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                                   "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10", f"{b_user_on_a}@127.0.0.1"],
                                  check=False, input="ls /\n", timeout=30)
            before = b_logs_into_a()
            assert before.returncode == 0 and "repo" in before.stdout, before
            c_before = _wg_table(a.site, a.interface, "transfer")[wg_key["site-c"]]
            a.tool(WG, "remove", "site-b")
            peers = a.site.run(["wg", "show", a.interface, "peers"]).stdout.split()
            assert wg_key["site-b"] not in peers, f"the tunnel to site-b is still configured: {peers}"
            assert peers == [wg_key["site-c"]], f"site-c must stay the one peer: {peers}"
            assert [p["name"] for p in json.loads(a.tool(WG, "list", "--json").stdout)] == ["site-c"]
            after = b_logs_into_a()
            assert after.returncode != 0 and "Permission denied" in after.stderr, after
            assert not a.site.ping(vpn["site-b"], count=2, wait=1), "site-b's VPN address must be unreachable from A"
            assert a.site.ping(vpn["site-c"], count=3, wait=1), "site-c's VPN address must stay reachable from A"
            handshakes = _wg_table(a.site, a.interface, "latest-handshakes")
            assert wg_key["site-c"] in handshakes and int(handshakes[wg_key["site-c"]][0]) > 0, handshakes
            c_after = _wg_table(a.site, a.interface, "transfer")[wg_key["site-c"]]
            assert all(int(x) >= int(y) for x, y in zip(c_after, c_before)), \
                f"site-c's peer was re-created (its counters went back): {c_before} -> {c_after}"
            assert os.path.isdir(os.path.join(a.base, "backups", b_user_on_a, "repo")), "data stays without --purge"
    finally:
        for site in sites:
            site.close()
        timings["the whole test"] = time.monotonic() - test_start
        for what, seconds in timings.items():
            print(f"  {what}: {seconds:.1f} s")
        for what, text in notes.items():
            print(f"  {what}: {text}")


if __name__ == "__main__":
    harness.main([test_two_sites_join_back_up_and_restore_through_the_tunnel,
                  test_three_sites_mesh_cut_link_and_remove])
