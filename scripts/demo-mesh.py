#!/usr/bin/env python3
"""The two-site story, in network namespaces on this machine: each site runs the whole core as in
production (scripts/run-core.sh: supervisord with wireguard, sshd, sftp-quota, watcher and cron) in
live mode. While both run, site-a invites site-b, site-b joins, site-a accepts; then nobody runs a
backup command: files written on each site reach the other through the tunnel by the watcher alone.
site-a restores from site-b and verifies. Prints what happened at each step. Needs root. Everything it
starts, it stops."""
import json
import os
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "integration"))
os.environ.setdefault("ANEMONE_BIN", os.path.join(here, "..", "build", "bin"))
import harness  # noqa: E402
import netns  # noqa: E402
from test_core import CoreSite, DEBOUNCE, shut_down_on_exit  # noqa: E402

WG = "wg-peer-manager"


def say(text):
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def show(proc):
    out = ((proc.stdout or "") + (proc.stderr or "")).strip()
    if out:
        print(out if len(out) < 2000 else out[:2000] + " …")


def in_latest(core, target, path):
    r = core.tool("backup-sender", "ls", "latest", "--target", target, "--json", check=None)
    return r.returncode == 0 and path in {e["path"] for e in json.loads(r.stdout)}


def main():
    if os.geteuid() != 0 or not netns.require_prerequisites():
        print("the mesh demo needs root, ip, wg, wireguard-go and /dev/net/tun (scripts/install-deps.sh installs them)")
        return 1
    scratch = tempfile.mkdtemp(prefix="anemone-demo-mesh-", dir="/var/tmp")
    lab = netns.Lab(scratch)
    sites = [lab.site("site-a"), lab.site("site-b")]
    lab.mesh(sites)
    a, b = (CoreSite(lab, scratch, s) for s in sites)
    try:
        with lab, shut_down_on_exit([a, b]):
            say("Two sites in network namespaces, public addresses "
                f"{a.site.public_address} and {b.site.public_address}; each runs scripts/run-core.sh")
            a.account_for("site-b")
            b.account_for("site-a")
            for site in (a, b):
                site.start()
                card = json.loads(site.tool(WG, "show", "--json").stdout)
                print(f"{site.name}: VPN address {card['vpn_address']}, interface {site.interface}, "
                      f"logs in {site.logs}")
            say("site-a: supervisorctl status")
            show(a.ctl("status"))

            say("site-a: wg-peer-manager invite site-b   (one signed line; no secret key in it)")
            code = a.tool(WG, "invite", "site-b", "--expires", "1h").stdout.strip()
            print(code[:90] + " …")
            say("site-b: wg-peer-manager join CODE   (verifies it, sets up site-a, prints a reply bound to it)")
            reply = b.tool(WG, "join", code).stdout.strip()
            print(reply[:90] + " …")
            say("site-a: wg-peer-manager accept REPLY   (sets up site-b on the running interface)")
            show(a.tool(WG, "accept", reply))
            b_vpn = json.loads(b.tool(WG, "show", "--json").stdout)["vpn_address"]
            a.site.wait_ping(b_vpn, timeout=15)

            say(f"Write files on both sites; the watchers back up to the peer by themselves "
                f"(live mode, debounce {DEBOUNCE} s)")
            with open(os.path.join(a.source, "notes.txt"), "w") as f:
                f.write("site-a's notes\n" * 1000)
            with open(os.path.join(a.source, "photo.raw"), "wb") as f:
                f.write(os.urandom(4 << 20))
            with open(os.path.join(b.source, "b.txt"), "w") as f:
                f.write("site-b's data\n" * 1000)
            written = time.monotonic()
            netns.wait_for(lambda: in_latest(a, "site-b", "/data/photo.raw"), DEBOUNCE + 60, 1,
                           "site-a's photo.raw in its latest snapshot on site-b")
            print(f"site-a's files are in a snapshot on site-b {time.monotonic() - written:.1f} s after they were written")
            netns.wait_for(lambda: in_latest(b, "site-a", "/data/b.txt"), DEBOUNCE + 60, 1,
                           "site-b's b.txt in its latest snapshot on site-a")
            print(f"site-b's file is in a snapshot on site-a {time.monotonic() - written:.1f} s after it was written")
            say("site-a: watcher status")
            show(a.tool("watcher", "status"))
            say("site-a: backup-sender snapshots --target site-b")
            show(a.tool("backup-sender", "snapshots", "--target", "site-b"))
            say("site-a: tail of its watcher log")
            print("\n".join(a.log("watcher.log").strip().splitlines()[-6:]))

            out = os.path.join(scratch, "restored")
            say(f"site-a: backup-sender restore latest --target site-b --to {out}")
            show(a.tool("backup-sender", "restore", "latest", "--target", "site-b", "--to", out))
            diff = harness.manifest_diff(harness.tree_manifest_bytes(a.source),
                                         harness.tree_manifest_bytes(os.path.join(out, "data")))
            print("restored tree is identical" if not diff else f"MISMATCH: {diff}")
            jail = os.path.join(b.backups, b.prefix + "site-a")
            say(f"What site-b holds for site-a ({jail}): ciphertext only")
            plaintext = False
            for directory, _, files in os.walk(jail):
                for name in files:
                    with open(os.path.join(directory, name), "rb") as f:
                        plaintext = plaintext or b"site-a's notes" in f.read()
            print("no plaintext of site-a's files appears there" if not plaintext else "PLAINTEXT FOUND")
            say("site-a: health-checker self")
            health = a.tool("health-checker", "self", check=None)
            show(health)
            say("Done; both cores are stopped now (SIGTERM to supervisord), and the namespaces removed")
            return 0 if not diff and not plaintext and health.returncode == 0 else 1
    finally:
        a.close()
        b.close()


if __name__ == "__main__":
    sys.exit(main())
