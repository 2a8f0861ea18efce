#!/usr/bin/env python3
"""The two-site story of the mesh, in network namespaces on this machine: two sites each get their
keys, their receiver sshd and their WireGuard interface (wireguard-go); site-a invites site-b, site-b
joins, site-a accepts; each backs up to the other through the tunnel; site-a restores from site-b
and verifies. Prints what happened at each step. Needs root. Everything it starts, it stops."""
import json
import os
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "integration"))
os.environ.setdefault("ANEMONE_BIN", os.path.join(here, "..", "build", "bin"))
import harness  # noqa: E402
import netns  # noqa: E402
from test_mesh import MeshSite, WG  # noqa: E402


def say(text):
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def show(proc):
    out = (proc.stdout or "").strip()
    if out:
        print(out if len(out) < 2000 else out[:2000] + " …")


def main():
    if os.geteuid() != 0 or not netns.require_prerequisites():
        print("the mesh demo needs root, ip, wg, wireguard-go and /dev/net/tun (scripts/install-deps.sh installs them)")
        return 1
    scratch = tempfile.mkdtemp(prefix="anemone-demo-mesh-", dir="/var/tmp")
    lab = netns.Lab(scratch)
    sites = [lab.site("site-a"), lab.site("site-b")]
    lab.mesh(sites)
    a, b = (MeshSite(lab, scratch, s) for s in sites)
    try:
        with lab:
            say("Two sites in network namespaces, public addresses "
                f"{a.site.public_address} and {b.site.public_address}")
            for site in (a, b):
                site.start()
                card = site.show()
                print(f"{site.name}: VPN address {card['vpn_address']}, WireGuard key {card['wireguard_public_key']}, "
                      f"receiver sshd on :22222, interface {site.interface} (wireguard-go)")
            a.account_for("site-b")
            b.account_for("site-a")

            say("site-a: wg-peer-manager invite site-b   (one signed line; no secret key in it)")
            code = a.tool(WG, "invite", "site-b", "--expires", "1h").stdout.strip()
            print(code[:90] + " …")
            say("site-b: wg-peer-manager join CODE   (verifies it, sets up site-a, prints a reply bound to it)")
            reply = b.tool(WG, "join", code).stdout.strip()
            print(reply[:90] + " …")
            say("site-a: wg-peer-manager accept REPLY   (sets up site-b; the invitation is used up)")
            show(a.tool(WG, "accept", reply))
            b_vpn = b.show()["vpn_address"]
            a.site.wait_ping(b_vpn, timeout=15)
            say("site-a: wg-peer-manager list")
            show(a.tool(WG, "list"))

            with open(os.path.join(a.source, "notes.txt"), "w") as f:
                f.write("site-a's notes\n" * 1000)
            with open(os.path.join(a.source, "photo.raw"), "wb") as f:
                f.write(os.urandom(4 << 20))
            with open(os.path.join(b.source, "b.txt"), "w") as f:
                f.write("site-b's data\n" * 1000)
            say("site-a: backup-sender run   (to site-b through the tunnel; the repository is made there)")
            show(a.tool("backup-sender", "run"))
            say("site-b: backup-sender run   (to site-a)")
            show(b.tool("backup-sender", "run"))

            out = os.path.join(scratch, "restored")
            say(f"site-a: backup-sender restore latest --target site-b --to {out}")
            show(a.tool("backup-sender", "restore", "latest", "--target", "site-b", "--to", out))
            diff = harness.manifest_diff(harness.tree_manifest_bytes(a.source),
                                         harness.tree_manifest_bytes(os.path.join(out, "data")))
            print("restored tree is identical" if not diff else f"MISMATCH: {diff}")
            jail = os.path.join(b.base, "backups", b.prefix + "site-a")
            say(f"What site-b holds for site-a ({jail}): ciphertext only")
            plaintext = False
            for directory, _, files in os.walk(jail):
                for name in files:
                    with open(os.path.join(directory, name), "rb") as f:
                        plaintext = plaintext or b"site-a's notes" in f.read()
            print("no plaintext of site-a's files appears there" if not plaintext else "PLAINTEXT FOUND")
            say("Done; namespaces, sshd and wireguard-go are stopped now")
            return 0 if not diff and not plaintext else 1
    finally:
        a.close()
        b.close()


if __name__ == "__main__":
    sys.exit(main())
