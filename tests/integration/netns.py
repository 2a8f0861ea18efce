"""Network-namespace lab for the mesh integration tests (stdlib only, needs root).

A Lab creates sites (one network namespace each), veth links between them, "public" addresses and
the /32 routes that make a site's public address reachable over one given link, and can start
wireguard-go (userspace WireGuard) inside a site. Everything it creates is tracked and removed by
close() / the with-block: the processes it started (terminate, then kill, by pid; never by name),
the files it registered (e.g. UAPI sockets), veth pairs and namespaces.

Addresses: links and public addresses only in 192.0.2.0/24 (TEST-NET-1); VPN addresses of the
WireGuard helper only in 198.18.0.0/15. Namespace new: ip_forward is 0, so a site never forwards
traffic for others: cutting the A-B link breaks A<->B and nothing else.

    with netns.Lab() as lab:
        a, b, c = lab.site("a"), lab.site("b"), lab.site("c")
        links = lab.mesh([a, b, c])          # public 192.0.2.1-3 and pairwise /30 links + routes
        assert a.ping(b.public_address)
        links[a, b].down()                   # only a<->b is cut
"""
import ctypes
import ipaddress
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import harness

LAB_NET = ipaddress.ip_network("192.0.2.0/24")
VPN_NET = ipaddress.ip_network("198.18.0.0/15")
NETNS_DIR = "/run/netns"
WG_SOCKET_DIR = "/var/run/wireguard"
MAX_SITES = 16
MAX_LINKS = 60
IFNAMSIZ = 15  # usable characters of a Linux interface name

_PR_SET_PDEATHSIG = 1
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover
    _libc = None


class CommandError(AssertionError):
    def __init__(self, argv, proc):
        self.argv, self.proc = list(argv), proc
        super().__init__(f"{' '.join(argv)}: exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")


def run(argv, check=True, timeout=30, input=None, env=None):
    """Runs argv (a list, never a shell string), captures text output; raises CommandError when check
    and the exit status is not 0."""
    assert isinstance(argv, (list, tuple)), "argv must be a list"
    proc = subprocess.run(list(argv), capture_output=True, text=True, errors="replace", timeout=timeout,
                          input=input, env=env, stdin=None if input is not None else subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise CommandError(argv, proc)
    return proc


def wait_for(predicate, timeout=10.0, interval=0.1, what="condition"):
    """Calls predicate until it returns a true value (returned) or timeout seconds pass (raises)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _check_lab_address(addr):
    ip = ipaddress.ip_address(str(addr).split("/")[0])
    if ip not in LAB_NET:
        raise ValueError(f"{addr}: lab addresses must be in {LAB_NET}")
    return str(ip)


def _pdeathsig():
    """preexec_fn: the child gets SIGTERM when the Python thread that started it dies (covers a
    test runner killed with SIGKILL). Survives the exec of `ip netns exec` and of the program."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def require_prerequisites(wireguard=True):
    """True when this host can run the lab (root, ip, ping, /dev/net/tun, creating a namespace and,
    when wireguard, wg and wireguard-go). A missing piece fails the test when CI=true
    (harness.require_ci_prerequisite) and otherwise prints SKIP and returns False:
        if not netns.require_prerequisites(): return"""
    checks = [(lambda: os.geteuid() == 0, "root (network namespaces need CAP_NET_ADMIN/CAP_SYS_ADMIN)"),
              (lambda: shutil.which("ip"), "ip (iproute2)"),
              (lambda: shutil.which("ping"), "ping (iputils-ping)")]
    if wireguard:
        checks += [(lambda: shutil.which("wg"), "wg (wireguard-tools)"),
                   (lambda: shutil.which("wireguard-go"), "wireguard-go"),
                   (lambda: os.path.exists("/dev/net/tun"), "/dev/net/tun")]
    checks.append((_can_create_netns, "creating network namespaces and veth pairs (ip netns add)"))
    for check, what in checks:
        if not harness.require_ci_prerequisite(bool(check()), what):
            return False
    return True


def _can_create_netns():
    name = "an-" + secrets.token_hex(6)
    try:
        if run(["ip", "netns", "add", name], check=False).returncode != 0:
            return False
        return run(["ip", "-n", name, "link", "add", "pa", "type", "veth", "peer", "name", "pb"],
                   check=False).returncode == 0
    finally:
        run(["ip", "netns", "del", name], check=False)


class Site:
    """One site: a network namespace (self.ns) with lo up."""

    def __init__(self, lab, name, ns):
        self.lab, self.name, self.ns = lab, name, ns
        self.public_addresses = []

    def __repr__(self):
        return f"Site({self.name!r}, ns={self.ns!r})"

    @property
    def public_address(self):
        """The first public address (None before add_public_address)."""
        return self.public_addresses[0] if self.public_addresses else None

    def argv(self, argv):
        assert isinstance(argv, (list, tuple)), "argv must be a list"
        return ["ip", "netns", "exec", self.ns, *argv]

    def run(self, argv, check=True, timeout=30, input=None, env=None):
        """Runs argv inside the namespace; see netns.run."""
        return run(self.argv(argv), check=check, timeout=timeout, input=input, env=env)

    def ip(self, *args, check=True):
        """`ip -n <ns> args...` (no mount namespace needed, faster than ip netns exec ip)."""
        return run(["ip", "-n", self.ns, *args], check=check)

    def popen(self, argv, **kw):
        """Starts argv inside the namespace (subprocess.Popen keywords); the Lab ends it on close.
        `ip netns exec` execs the program, so proc.pid is the program's own pid."""
        kw.setdefault("name", os.path.basename(argv[0]))
        return self.lab.popen(self.argv(argv), **kw)

    def add_public_address(self, addr):
        """Adds addr/32 (in 192.0.2.0/24) on lo: the site's address for the other sites, reachable
        once lab.route() (or lab.mesh()) routes it over a link. (lo, not dummy: no module needed.)"""
        addr = _check_lab_address(addr)
        self.ip("addr", "add", f"{addr}/32", "dev", "lo")
        self.public_addresses.append(addr)
        return addr

    def ping(self, addr, count=1, wait=1, source=None):
        """True when at least one of count pings (each waiting at most wait seconds) is answered."""
        argv = ["ping", "-n", "-q", "-c", str(count), "-W", str(wait), "-i", "0.2"]
        if source:
            argv += ["-I", source]
        return self.run(argv + [str(addr)], check=False, timeout=count * (wait + 1) + 10).returncode == 0

    def wait_ping(self, addr, timeout=10, source=None):
        """Pings until answered (raises after timeout seconds)."""
        return wait_for(lambda: self.ping(addr, count=1, wait=1, source=source), timeout, 0.2,
                        f"{self.name} to reach {addr}")

    def wireguard(self, ifname=None, listen_port=51820, log_level="error"):
        """Starts wireguard-go in this site (foreground, tracked); see WireGuard."""
        return WireGuard(self, ifname=ifname, listen_port=listen_port, log_level=log_level)


class Link:
    """A veth pair between two sites. down()/up() cut and restore it (both ends); up() reinstalls the
    routes lab.route() put over it (the kernel deletes IPv4 routes through a device set down)."""

    def __init__(self, lab, site_a, site_b, if_a, if_b, addr_a, addr_b, prefix):
        self.lab, self.site_a, self.site_b = lab, site_a, site_b
        self.if_a, self.if_b, self.addr_a, self.addr_b, self.prefix = if_a, if_b, addr_a, addr_b, prefix
        self.routes = []  # (site, dest, src)
        self.is_up = True

    def __repr__(self):
        return f"Link({self.site_a.name}:{self.if_a} {self.addr_a} <-> {self.site_b.name}:{self.if_b} {self.addr_b})"

    def end(self, site):
        """(ifname, own address, peer address) of this link as seen from site."""
        if site is self.site_a:
            return self.if_a, self.addr_a, self.addr_b
        if site is self.site_b:
            return self.if_b, self.addr_b, self.addr_a
        raise ValueError(f"{site} is not an end of {self}")

    def down(self):
        self.site_a.ip("link", "set", self.if_a, "down")
        self.site_b.ip("link", "set", self.if_b, "down")
        self.is_up = False

    def up(self):
        self.site_a.ip("link", "set", self.if_a, "up")
        self.site_b.ip("link", "set", self.if_b, "up")
        self.is_up = True
        for site, dest, src in self.routes:
            self._install(site, dest, src)

    def _install(self, site, dest, src):
        ifname, _, peer = self.end(site)
        argv = ["route", "replace", f"{dest}/32", "via", peer, "dev", ifname]
        if src:
            argv += ["src", src]
        site.ip(*argv)


class Lab:
    """Creates and tracks namespaces, links, processes and files; close() removes them all."""

    def __init__(self, workdir=None):
        self.id = secrets.token_hex(4)
        self.sites, self.links, self.procs, self.paths = [], [], [], []
        self._own_dir = workdir is None
        # Key files and process logs; in the harness scratch dir it is kept when the test fails.
        self.dir = tempfile.mkdtemp(prefix=f"netns-{self.id}-", dir=workdir)
        os.chmod(self.dir, 0o700)
        self._old_sigterm = None
        self.closed = False

    # -- context manager: SIGTERM (e.g. a ctest timeout) still runs close() -------------------------
    def __enter__(self):
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            self._old_sigterm = signal.SIG_DFL
            signal.signal(signal.SIGTERM, _raise_on_sigterm)
        return self

    def __exit__(self, *exc):
        try:
            self.close()
        finally:
            if self._old_sigterm is not None:
                signal.signal(signal.SIGTERM, self._old_sigterm)
                self._old_sigterm = None
        return False

    def site(self, name):
        """A new site: namespace an-<lab hex>-<name> with lo up."""
        if len(self.sites) >= MAX_SITES:
            raise ValueError(f"at most {MAX_SITES} sites per lab")
        clean = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:20] or "site"
        ns = f"an-{self.id}-{clean}"
        if os.path.exists(os.path.join(NETNS_DIR, ns)) or any(s.ns == ns for s in self.sites):
            raise ValueError(f"namespace {ns} already exists")
        run(["ip", "netns", "add", ns])
        site = Site(self, name, ns)
        self.sites.append(site)
        site.ip("link", "set", "lo", "up")
        return site

    def link(self, site_a, site_b, addr_a, addr_b, prefix=30):
        """A veth pair site_a <-> site_b with addr_a/prefix and addr_b/prefix (192.0.2.0/24), both
        ends up. Created directly inside the two namespaces (nothing ever sits in the host's)."""
        if len(self.links) >= MAX_LINKS:
            raise ValueError(f"at most {MAX_LINKS} links per lab")
        addr_a, addr_b = _check_lab_address(addr_a), _check_lab_address(addr_b)
        net = ipaddress.ip_interface(f"{addr_a}/{prefix}").network
        if ipaddress.ip_address(addr_b) not in net or not net.subnet_of(LAB_NET):
            raise ValueError(f"{addr_a}/{prefix} and {addr_b}/{prefix} must share a subnet of {LAB_NET}")
        n = len(self.links)
        if_a, if_b = f"v{self.id}{n:02d}a", f"v{self.id}{n:02d}b"
        assert len(if_a) <= IFNAMSIZ
        run(["ip", "link", "add", "name", if_a, "netns", site_a.ns, "type", "veth",
             "peer", "name", if_b, "netns", site_b.ns])
        link = Link(self, site_a, site_b, if_a, if_b, addr_a, addr_b, prefix)
        self.links.append(link)
        site_a.ip("addr", "add", f"{addr_a}/{prefix}", "dev", if_a)
        site_b.ip("addr", "add", f"{addr_b}/{prefix}", "dev", if_b)
        link.up()
        return link

    def route(self, site, dest, via_link, src=None):
        """Routes dest/32 (another site's public address) from site over via_link (through the peer
        end's address), with source address src (default: site's first public address, so peers see
        public addresses on both sides). Reinstalled by via_link.up()."""
        dest = _check_lab_address(dest)
        src = src or site.public_address
        via_link.routes.append((site, dest, src))
        if via_link.is_up:
            via_link._install(site, dest, src)

    def mesh(self, sites, public_base=1, link_base=128):
        """Full mesh: gives each site without a public address 192.0.2.<public_base + i>, links every
        pair with a /30 from 192.0.2.<link_base>.. and routes each pair's public addresses over their
        direct link. Returns {(site_x, site_y): link} with both orders as keys."""
        for i, site in enumerate(sites):
            if not site.public_address:
                site.add_public_address(str(LAB_NET[public_base + i]))
        links, k = {}, 0
        for i, x in enumerate(sites):
            for y in sites[i + 1:]:
                base = link_base + 4 * k
                if base + 3 > 255:
                    raise ValueError("192.0.2.0/24 has no room for more /30 links")
                link = self.link(x, y, str(LAB_NET[base + 1]), str(LAB_NET[base + 2]), 30)
                for addr in y.public_addresses:
                    self.route(x, addr, link)
                for addr in x.public_addresses:
                    self.route(y, addr, link)
                links[x, y] = links[y, x] = link
                k += 1
        return links

    def popen(self, argv, name=None, stdout=None, stderr=None, **kw):
        """Popen tracked by the lab (ended by pid on close). Output the caller does not take goes to
        self.dir/proc-<n>-<name>.log (proc.log_path): a pipe nobody reads would block the process."""
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name or os.path.basename(argv[0]))
        log = None
        if stdout is None or stderr is None:
            log = open(os.path.join(self.dir, f"proc-{len(self.procs)}-{name}.log"), "ab")
        if stdout is None:
            stdout = log
        if stderr is None:
            stderr = subprocess.STDOUT if stdout is log else log
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("preexec_fn", _pdeathsig)
        try:
            proc = subprocess.Popen(list(argv), stdout=stdout, stderr=stderr, **kw)
        finally:
            if log:
                log.close()
        proc.log_path = log.name if log else None
        self.procs.append(proc)
        return proc

    def destroy_site(self, site):
        """A site lost for good: its processes are ended (by pid), its namespace deleted with its
        interfaces (both ends of its veth links go with it) and its links and routes forgotten."""
        prefix = site.argv([])
        for proc in self.procs:
            if list(proc.args[:len(prefix)]) == prefix:
                self.stop(proc)
        run(["ip", "netns", "del", site.ns])
        self.links = [link for link in self.links if site not in (link.site_a, link.site_b)]
        for link in self.links:
            link.routes = [route for route in link.routes if route[0] is not site]
        self.sites.remove(site)

    def track_path(self, path):
        """A file (e.g. a UAPI socket) to remove on close if it is still there."""
        self.paths.append(path)
        return path

    def stop(self, proc, timeout=5):
        """Ends one process this lab started: SIGTERM, then SIGKILL after timeout seconds."""
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        return proc.returncode

    def close(self):
        """Removes everything this lab created; safe to call twice. Errors are collected and raised
        at the end (after every cleanup step ran)."""
        if self.closed:
            return
        self.closed = True
        errors = []
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 5
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    errors.append(f"pid {proc.pid} did not end")
        for path in self.paths:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                errors.append(f"{path}: {e}")
        for link in self.links:
            link.site_a.ip("link", "del", link.if_a, check=False)
        for site in self.sites:
            proc = run(["ip", "netns", "del", site.ns], check=False)
            if proc.returncode != 0 and os.path.exists(os.path.join(NETNS_DIR, site.ns)):
                errors.append(f"ip netns del {site.ns}: {proc.stderr.strip()}")
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        if errors:
            raise AssertionError("lab cleanup: " + "; ".join(errors))


def _socket_alive(path):
    """True when a process listens on the unix socket path (False: missing or stale)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(2)
        sock.connect(path)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def _raise_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


class WireGuard:
    """wireguard-go on interface ifname inside site, in the foreground (-f and
    WG_PROCESS_FOREGROUND=1) so the Lab tracks it by pid. Its UAPI socket
    /var/run/wireguard/<ifname>.sock is in the host's filesystem, shared by all namespaces: ifname is
    unique per lab run (wgt-<10 hex>). The private key lives only in a 0600 file and on stdin of
    `wg pubkey`, never on a command line."""

    def __init__(self, site, ifname=None, listen_port=51820, log_level="error"):
        self.site, self.lab = site, site.lab
        self.ifname = ifname or f"wgt-{secrets.token_hex(5)}"
        if len(self.ifname) > IFNAMSIZ:
            raise ValueError(f"{self.ifname}: interface names have at most {IFNAMSIZ} characters")
        self.socket = os.path.join(WG_SOCKET_DIR, f"{self.ifname}.sock")
        if _socket_alive(self.socket):  # a stale socket (daemon killed with SIGKILL) is replaced
            raise ValueError(f"{self.socket} is in use: another wireguard-go runs {self.ifname}")
        self.listen_port = listen_port
        private = run(["wg", "genkey"]).stdout.strip()
        self.key_file = os.path.join(self.lab.dir, f"{self.ifname}.key")
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(private + "\n")
        self.public_key = run(["wg", "pubkey"], input=private + "\n").stdout.strip()
        env = dict(os.environ, WG_PROCESS_FOREGROUND="1", LOG_LEVEL=log_level)
        self.lab.track_path(self.socket)
        self.proc = site.popen(["wireguard-go", "-f", self.ifname], env=env)
        wait_for(lambda: self.proc.poll() is not None or _socket_alive(self.socket), 10, 0.02,
                 f"{self.socket} to accept connections")
        if self.proc.poll() is not None:
            raise AssertionError(f"wireguard-go {self.ifname} exited with {self.proc.returncode}: "
                                 f"{self.log()}")
        self.wg("set", self.ifname, "private-key", self.key_file, "listen-port", str(listen_port))

    def wg(self, *args, check=True):
        return self.site.run(["wg", *args], check=check)

    def log(self):
        try:
            with open(self.proc.log_path, errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def address(self, cidr):
        """Assigns cidr (in 198.18.0.0/15) to the interface and sets it up."""
        iface = ipaddress.ip_interface(cidr)
        if not iface.network.subnet_of(VPN_NET):
            raise ValueError(f"{cidr}: VPN addresses must be in {VPN_NET}")
        self.site.ip("addr", "add", str(iface), "dev", self.ifname)
        self.site.ip("link", "set", self.ifname, "up")
        self.vpn_address = str(iface.ip)

    def add_peer(self, public_key, endpoint=None, allowed_ips=(), keepalive=None):
        args = ["set", self.ifname, "peer", public_key]
        if endpoint:
            args += ["endpoint", endpoint]
        if allowed_ips:
            args += ["allowed-ips", ",".join(allowed_ips)]
        if keepalive:
            args += ["persistent-keepalive", str(keepalive)]
        self.wg(*args)

    def latest_handshakes(self):
        """{peer public key: unix time of the latest handshake (0 = none yet)}."""
        out = self.wg("show", self.ifname, "latest-handshakes").stdout
        return {key: int(t) for key, t in (line.split("\t") for line in out.splitlines() if "\t" in line)}

    def stop(self):
        """Ends wireguard-go (SIGTERM: it removes its socket and the TUN interface)."""
        return self.lab.stop(self.proc)
