"""wg-peer-manager's invitation exchange refusing what it must, without tunnels: an expired code, a
code for another site, a revoked invitation, a reply to an invitation this site never issued, a
reply replayed to a second invitation; each a distinct error, exit 2, and nothing changed."""
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time

import harness

WG = "wg-peer-manager"


class Site:
    def __init__(self, scratch, name):
        self.name = name
        self.root = os.path.join(scratch, name)
        os.makedirs("/var/lib/anemone-test", exist_ok=True)
        os.chmod("/var/lib/anemone-test", 0o755)
        self.base = tempfile.mkdtemp(prefix=f"codes-{name}-", dir="/var/lib/anemone-test")
        os.chmod(self.base, 0o755)
        self.prefix = "c" + secrets.token_hex(2) + "-"
        self.config = os.path.join(self.root, "config.yaml")
        os.makedirs(self.root, exist_ok=True)
        with open(self.config, "w") as f:
            f.write(f"server:\n  name: {name}\npaths:\n  secrets: {self.base}/secrets\n  logs: {self.root}/logs\n"
                    f"state:\n  path: {self.root}/state/anemone.db\n"
                    f"sftp:\n  backups_dir: {self.base}/backups\n  account_prefix: {self.prefix}\n"
                    f"wireguard:\n  interface: wgc{secrets.token_hex(4)}\n  subnet: 198.18.0.0/15\n"
                    f"  endpoint: \"192.0.2.{secrets.randbelow(200) + 1}:51820\"\n")
        self.users = []

    def wg(self, *args, check=0):
        proc = subprocess.run([os.path.join(harness.BIN, WG), "--config", self.config, *args], capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=60)
        if check is not None:
            assert proc.returncode == check, f"{self.name}: {args[0]}: exit {proc.returncode}: {proc.stderr}"
        return proc

    def peers(self):
        return json.loads(self.wg("list", "--json").stdout)

    def invitations(self):
        return {i["id"]: i["state"] for i in json.loads(self.wg("invitations", "--json").stdout)}

    def close(self):
        for user in self.users:
            subprocess.run(["userdel", user], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


def refused(site, args, expected):
    before = (site.peers(), site.invitations())
    r = site.wg(*args, check=None)
    assert r.returncode == 2, f"{args[0]} must exit 2: {r.returncode} {r.stderr}"
    assert expected in r.stderr, f"expected {expected!r} in: {r.stderr}"
    assert (site.peers(), site.invitations()) == before, "a refused code changes nothing"
    return r.stderr.strip()


def test_codes_refused_with_distinct_errors(scratch):
    harness.require_ci_prerequisite(os.geteuid() == 0, "root (join creates the peer's Unix account)")
    if os.geteuid() != 0:
        return
    a, b, c = (Site(scratch, n) for n in ("site-a", "site-b", "site-c"))
    try:
        for s in (a, b, c):
            s.wg("init")
        messages = set()

        short = json.loads(a.wg("invite", "site-b", "--expires", "1s", "--json").stdout)
        time.sleep(2.2)
        messages.add(refused(b, ["join", short["code"]], "this invitation expired at"))
        messages.add(refused(c, ["join", a.wg("invite", "site-b").stdout.strip()],
                             "this invitation is for 'site-b', but this site is 'site-c'"))

        code = json.loads(a.wg("invite", "site-b", "--json").stdout)
        reply = b.wg("join", code["code"]).stdout.strip()
        b.users.append(b.prefix + "site-a")
        assert [p["name"] for p in b.peers()] == ["site-a"]

        # C never invited B: the reply answers an invitation C did not issue.
        messages.add(refused(c, ["accept", reply], "which this site did not issue"))
        # A revokes the invitation before accepting: the reply is refused.
        a.wg("revoke", code["id"])
        messages.add(refused(a, ["accept", reply], f"invitation {code['id']} was revoked"))

        # A new invitation does not revive the old reply: it stays bound to the revoked one.
        second = json.loads(a.wg("invite", "site-b", "--json").stdout)
        assert second["id"] != code["id"]
        refused(a, ["accept", reply], "was revoked")
        messages.add(refused(a, ["accept", "anemone-reply:" + "A" * 40 + ".AAAA"], "not valid"))
        messages.add(refused(a, ["join", second["code"]], "this invitation is for 'site-b', but this site is 'site-a'"))
        assert a.invitations()[second["id"]] == "open"
        assert len(messages) >= 6, messages
    finally:
        for s in (a, b, c):
            s.close()


if __name__ == "__main__":
    harness.main([test_codes_refused_with_distinct_errors])
