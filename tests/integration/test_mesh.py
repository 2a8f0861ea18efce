"""wg-peer-manager across real tunnels: each site is a network namespace with its own wireguard-go,
its own receiver sshd (the rendered config), its own state and config; sites reach each other's
public addresses (192.0.2.0/24) over veth links. Two sites: invite, join, accept; both back up to
each other through the tunnel; restore byte-identical; the peer's jail holds only ciphertext; bad
codes are refused with distinct errors and change nothing; remove ends the tunnel and the login."""
import json
import os
import secrets
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


if __name__ == "__main__":
    harness.main([test_two_sites_join_back_up_and_restore_through_the_tunnel])
