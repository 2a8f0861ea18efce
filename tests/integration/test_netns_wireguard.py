#!/usr/bin/env python3
"""Self-test of netns.py, the network lab the mesh tests build on (needs root, ip, ping, wg,
wireguard-go and /dev/net/tun; skipped elsewhere, failed in CI when missing).

1. Three sites with pairwise links and public addresses: every site reaches both others; cutting
   the A-B link breaks only A<->B (no transit through C); restoring it brings A<->B back.
2. Two sites run real wireguard-go (userspace, foreground) with keys from `wg genkey`, peers at
   each other's public address: a ping crosses the tunnel and `wg show latest-handshakes` records
   a handshake; cutting the underlying link stops the tunnel traffic, restoring it resumes it.
3. After the lab closes nothing is left: namespaces, wireguard-go processes, UAPI sockets."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import netns  # noqa: E402


def netns_names():
    return set(line.split()[0] for line in netns.run(["ip", "netns", "list"]).stdout.splitlines() if line.strip())


def pid_is(pid, program):
    """True when pid is a live (not zombie) process running program."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0")[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and os.path.basename(argv0) == program.encode()


def assert_cleaned(lab, pids=(), sockets=()):
    left = netns_names() & {site.ns for site in lab.sites}
    assert not left, f"namespaces left: {left}"
    alive = [pid for pid in pids if pid_is(pid, "wireguard-go")]
    assert not alive, f"wireguard-go still running: {alive}"
    stale = [path for path in sockets if os.path.exists(path)]
    assert not stale, f"sockets left: {stale}"


def test_three_sites_pairwise_links(scratch):
    if not netns.require_prerequisites(wireguard=False):
        return
    lab = netns.Lab(scratch)
    with lab:
        a, b, c = lab.site("a"), lab.site("b"), lab.site("c")
        for site, addr in ((a, "192.0.2.1"), (b, "192.0.2.2"), (c, "192.0.2.3")):
            site.add_public_address(addr)
        ab = lab.link(a, b, "192.0.2.9", "192.0.2.10")
        bc = lab.link(b, c, "192.0.2.13", "192.0.2.14")
        ca = lab.link(c, a, "192.0.2.17", "192.0.2.18")
        for link in (ab, bc, ca):
            for site in (link.site_a, link.site_b):
                other = link.site_b if site is link.site_a else link.site_a
                lab.route(site, other.public_address, link)
        for if_name in (ab.if_a, ab.if_b, bc.if_a, ca.if_b):
            assert len(if_name) <= 15, if_name
        pairs = [(a, b), (b, a), (a, c), (c, a), (b, c), (c, b)]
        for x, y in pairs:
            assert x.ping(y.public_address, count=1, wait=2), f"{x.name} cannot reach {y.name}"
        # The source of public-to-public traffic is the public address (the route's src).
        route = a.ip("route", "get", b.public_address).stdout
        assert f"src {a.public_address}" in route and ab.if_a in route, route

        ab.down()
        assert not a.ping(b.public_address, count=2, wait=1), "a still reaches b with a-b cut"
        assert not b.ping(a.public_address, count=2, wait=1), "b still reaches a with a-b cut"
        for x, y in [(a, c), (c, a), (b, c), (c, b)]:
            assert x.ping(y.public_address, count=1, wait=2), f"{x.name} lost {y.name} when only a-b was cut"
        ab.up()
        a.wait_ping(b.public_address, timeout=10)
        b.wait_ping(a.public_address, timeout=10)

        # mesh() builds the same topology in one call.
        d, e, f = lab.site("d"), lab.site("e"), lab.site("f")
        links = lab.mesh([d, e, f], public_base=21, link_base=128)
        for x, y in [(d, e), (e, f), (f, d)]:
            assert x.ping(y.public_address, count=1, wait=2), f"mesh: {x.name} cannot reach {y.name}"
        links[d, e].down()
        assert not d.ping(e.public_address, count=1, wait=1)
        assert d.ping(f.public_address, count=1, wait=2) and e.ping(f.public_address, count=1, wait=2)
        links[e, d].up()
        d.wait_ping(e.public_address, timeout=10)
    assert_cleaned(lab)


def test_wireguard_tunnel_over_netns(scratch):
    if not netns.require_prerequisites():
        return
    started = time.monotonic()
    lab = netns.Lab(scratch)
    with lab:
        a, b = lab.site("wa"), lab.site("wb")
        links = lab.mesh([a, b], public_base=31, link_base=200)
        link = links[a, b]
        wa, wb = a.wireguard(listen_port=51820), b.wireguard(listen_port=51821)
        assert wa.ifname != wb.ifname and len(wa.ifname) <= 15
        pids, sockets = [wa.proc.pid, wb.proc.pid], [wa.socket, wb.socket]
        for w in (wa, wb):
            assert os.stat(w.key_file).st_mode & 0o777 == 0o600
            assert pid_is(w.proc.pid, "wireguard-go"), "Popen pid is not wireguard-go itself"
            # The private key never appears on a command line.
            with open(w.key_file) as f:
                private = f.read().strip()
            with open(f"/proc/{w.proc.pid}/cmdline", "rb") as f:
                assert private.encode() not in f.read()
        wa.address("198.18.0.1/24")
        wb.address("198.18.0.2/24")
        wa.add_peer(wb.public_key, endpoint=f"{b.public_address}:51821", allowed_ips=["198.18.0.2/32"])
        wb.add_peer(wa.public_key, endpoint=f"{a.public_address}:51820", allowed_ips=["198.18.0.1/32"])

        assert wa.latest_handshakes() == {wb.public_key: 0}
        assert a.ping("198.18.0.2", count=3, wait=2), f"no ping through the tunnel\n{wa.log()}\n{wb.log()}"
        assert b.ping("198.18.0.1", count=3, wait=2)
        assert wa.latest_handshakes()[wb.public_key] > 0, wa.wg("show", wa.ifname).stdout
        assert wb.latest_handshakes()[wa.public_key] > 0, wb.wg("show", wb.ifname).stdout
        # Peers see each other at their public addresses (routes set the source address).
        endpoints = wb.wg("show", wb.ifname, "endpoints").stdout
        assert f"{a.public_address}:51820" in endpoints, endpoints

        link.down()
        assert not a.ping("198.18.0.2", count=3, wait=1), "tunnel still carries traffic with the link cut"
        link.up()
        a.wait_ping("198.18.0.2", timeout=15)
        b.wait_ping("198.18.0.1", timeout=15)

        # wireguard-go ends on SIGTERM and removes its socket itself.
        assert wb.stop() == 0, wb.log()
        assert not os.path.exists(wb.socket)
    assert_cleaned(lab, pids, sockets)
    print(f"wireguard test took {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    harness.main([test_three_sites_pairwise_links, test_wireguard_tunnel_over_netns])
