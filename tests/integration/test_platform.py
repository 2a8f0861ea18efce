#!/usr/bin/env python3
"""The multi-site platform end to end, with real Caddy (Debian's 2.6), real HTTP backends,
health-checker and caddy-sync.

1. test_registry_and_caddy: on loopback. `caddy-sync apply` (idempotent, --dry-run, --prune, errors
   with file:line:col), the site/service/backend commands and their --json, `render`, `sync` (loads
   only when Caddy runs something else), a config Caddy rejects (exit 1, reported, the old routing
   keeps serving), `history` and `rollback`, `backend drain`.
2. test_site_failover: the success test of the platform. A hub and two sites as network
   namespaces, WireGuard (wireguard-go) hub and spokes, two HTTP backends per site behind the
   tunnel, Caddy on the hub (admin API on the hub's loopback), health-checker and caddy-sync watch
   running there. A client sends a steady stream of requests for the whole test and counts failures:
   site A cut completely (the service stays up through B; failures bounded by the requests in
   flight), A back (in rotation after `rise`, no failed request), a backend answering 500 on /health
   (out after `fall` failures), a drained backend (no more requests), a config Caddy would fail to
   apply (refused and reported; the routing that runs keeps serving). Prints the failover time and
   the failure counts for docs/BENCHMARKS.md.
Arguments, if any, select tests by name."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import netns  # noqa: E402
from harness import BIN, require_ci_prerequisite  # noqa: E402

DOMAIN = "api.example.org"
PLATFORM_NET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "platform-net.sh")

# An HTTP backend: answers every path with its name; /health with the status in its control file
# (200 when the file is missing). Threaded, HTTP/1.1 keep-alive, as a real service.
BACKEND = r'''
import http.server, socketserver, sys
name, addr, port, control = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        status = 200
        if self.path.startswith("/health"):
            try:
                with open(control) as f:
                    status = int(f.read().strip() or 200)
            except OSError:
                pass
        body = (name + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
Server((addr, port), Handler).serve_forever()
'''

# The client: THREADS loops of GET / with Host: DOMAIN through Caddy, one JSON line per request
# (start time, duration, status or error, the backend that answered), until the stop file appears
# or MAX_SECONDS pass.
CLIENT = r'''
import http.client, json, os, sys, threading, time
port, host, out, stop_file, threads = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
deadline = time.time() + 900
lock = threading.Lock()
log = open(out, "a", buffering=1)
def loop():
    while time.time() < deadline and not os.path.exists(stop_file):
        start = time.time()
        record = {"t": start}
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            conn.request("GET", "/", headers={"Host": host})
            response = conn.getresponse()
            body = response.read().decode(errors="replace").strip()
            conn.close()
            record.update(status=response.status, backend=body if response.status == 200 else None,
                          error=None if response.status == 200 else body[:200])
        except Exception as e:
            record.update(status=None, backend=None, error=f"{type(e).__name__}: {e}")
        record["dt"] = time.time() - start
        with lock:
            log.write(json.dumps(record) + "\n")
        time.sleep(0.02)
workers = [threading.Thread(target=loop) for _ in range(threads)]
for w in workers: w.start()
for w in workers: w.join()
'''


# ---- helpers --------------------------------------------------------------------------------------

def wait_for(predicate, timeout, what, interval=0.2):
    return netns.wait_for(predicate, timeout, interval, what)


def require_caddy():
    return require_ci_prerequisite(shutil.which("caddy") is not None, "caddy (Debian package caddy)")


class Hub:
    """The platform's central state: config.yaml, the state file, and the tools run against them
    (optionally inside a namespace)."""

    def __init__(self, root, admin_port, listen, site=None, response_timeout="3s"):
        self.root, self.site = root, site
        self.config = os.path.join(root, "config.yaml")
        self.state = os.path.join(root, "state", "anemone.db")
        self.admin = f"http://127.0.0.1:{admin_port}"
        os.makedirs(root, exist_ok=True)
        self.write_config(listen, response_timeout)

    def write_config(self, listen, response_timeout="3s"):
        listen_list = ", ".join(json.dumps(address) for address in listen)
        with open(self.config, "w") as f:
            f.write(f"server:\n  name: hub\npaths:\n  secrets: {self.root}/secrets\n  logs: {self.root}/logs\n"
                    f"  run: {self.root}/run\nstate:\n  path: {self.state}\n"
                    f"platform:\n  enabled: true\n  caddy_admin: {self.admin}\n  http_listen: [{listen_list}]\n"
                    f"  tls: off\n  response_timeout: {response_timeout}\n")

    def argv(self, tool, *args):
        argv = [os.path.join(BIN, tool), "--config", self.config, *args]
        return self.site.argv(argv) if self.site else argv

    def run(self, tool, *args, check=0, timeout=60):
        proc = subprocess.run(self.argv(tool, *args), capture_output=True, text=True, errors="replace",
                              timeout=timeout, stdin=subprocess.DEVNULL)
        if check is not None and proc.returncode != check:
            raise AssertionError(f"{tool} {' '.join(args)}: expected exit {check}, got {proc.returncode}\n"
                                 f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    def json(self, tool, *args):
        return json.loads(self.run(tool, *args, "--json").stdout)

    def health(self):
        """{backend name: state} from `health-checker status --json`."""
        status = self.json("health-checker", "status")
        return {b["name"]: b["state"] for s in status["services"] for b in s["backends"]}


def start_caddy(root, admin_port, popen):
    """Caddy with only its admin API on loopback; caddy-sync loads the rest. Its storage stays in
    the scratch directory."""
    home = os.path.join(root, "caddy-home")
    os.makedirs(home, exist_ok=True)
    initial = os.path.join(root, "caddy-initial.json")
    with open(initial, "w") as f:
        json.dump({"admin": {"listen": f"127.0.0.1:{admin_port}"}}, f)
    env = dict(os.environ, HOME=home, XDG_DATA_HOME=os.path.join(home, "data"),
               XDG_CONFIG_HOME=os.path.join(home, "config"))
    return popen(["caddy", "run", "--config", initial], env=env)


def caddy_live_config(hub):
    return hub.json("caddy-sync", "status")


def get(port, host=DOMAIN, path="/", timeout=5):
    """(status, body) of one GET through Caddy on loopback."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace").strip()
    finally:
        conn.close()


def platform_yaml(backends, policy="round_robin", interval="1s", timeout="500ms", rise=2, fall=3):
    """backends: [(site, addr, port, extra dict)]"""
    sites = sorted({b[0] for b in backends})
    lines = ["sites:"] + [f"  - name: {s}" for s in sites]
    lines += ["services:", "  - name: api", f"    domains: [{DOMAIN}]",
              f"    health: {{path: /health, interval: {interval}, timeout: {timeout}, rise: {rise}, fall: {fall},"
              f" expect_status: 200}}",
              f"    policy: {policy}", "    backends:"]
    for site, addr, port, extra in backends:
        fields = {"site": site, "addr": addr, "port": port, **extra}
        lines.append("      - {" + ", ".join(f"{k}: {v}" for k, v in fields.items()) + "}")
    return "\n".join(lines) + "\n"


# ---- 1. the registry and Caddy on loopback --------------------------------------------------------

def test_registry_and_caddy(scratch):
    if not require_caddy():
        return
    procs = []

    def popen(argv, **kw):
        log = open(os.path.join(scratch, f"{os.path.basename(argv[0])}-{len(procs)}.log"), "ab")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kw)
        log.close()
        procs.append(proc)
        return proc

    admin_port, http_port, *ports = harness.free_ports(5)
    hub = Hub(scratch, admin_port, [f"127.0.0.1:{http_port}"])
    try:
        controls = []
        for i, port in enumerate(ports):
            control = os.path.join(scratch, f"backend{i}.status")
            controls.append(control)
            popen([sys.executable, "-c", BACKEND, f"backend{i}", "127.0.0.1", str(port), control])
        start_caddy(scratch, admin_port, popen)
        wait_for(lambda: caddy_live_config(hub)["reachable"], 15, "Caddy's admin API")

        # apply: dry run writes nothing; the real one prints each change; a second is a no-op.
        spec = os.path.join(scratch, "platform.yaml")
        with open(spec, "w") as f:
            f.write(platform_yaml([("dijon", "127.0.0.1", ports[0], {"priority": 1, "weight": 2, "tags": "[primary]"}),
                                   ("thory", "127.0.0.1", ports[1], {"priority": 2})]))
        dry = hub.json("caddy-sync", "apply", spec, "--dry-run")
        assert dry["dry_run"] is True and len(dry["changes"]) == 5, dry
        assert hub.json("caddy-sync", "service", "list") == [], "--dry-run wrote to the registry"
        out = hub.run("caddy-sync", "apply", spec).stdout
        for line in ("+ site dijon", "+ site thory", "+ service api", f"+ backend api/127.0.0.1:{ports[0]}",
                     f"+ backend api/127.0.0.1:{ports[1]}", "5 change(s)"):
            assert line in out, f"apply output lacks {line!r}:\n{out}"
        assert "already matches" in hub.run("caddy-sync", "apply", spec).stdout
        backends = hub.json("caddy-sync", "backend", "list")
        assert sorted((b["name"], b["site"], b["priority"], b["weight"], b["tags"], b["drained"]) for b in backends) == \
            sorted([(f"api/127.0.0.1:{ports[0]}", "dijon", 1, 2, ["primary"], False),
                    (f"api/127.0.0.1:{ports[1]}", "thory", 2, 1, [], False)]), backends
        services = hub.json("caddy-sync", "service", "list")
        assert services[0]["domains"] == [DOMAIN] and services[0]["health"]["interval"] == "1s", services

        # Bad input: the file's error names file, line and column, and nothing is written.
        bad = os.path.join(scratch, "bad.yaml")
        with open(bad, "w") as f:
            f.write(platform_yaml([("dijon", "127.0.0.1", 70000, {})]))
        r = hub.run("caddy-sync", "apply", bad, check=2)
        assert "bad.yaml:" in r.stderr and "70000" in r.stderr and "port" in r.stderr, r.stderr
        r = hub.run("caddy-sync", "backend", "add", "api", "--site", "nowhere", "--addr", "127.0.0.1", "--port", "9",
                    check=None)
        assert r.returncode != 0 and "no site named nowhere" in r.stderr, r.stderr
        r = hub.run("caddy-sync", "service", "add", "web", "--domain", "Not_A_Domain", check=None)
        assert r.returncode != 0 and "Not_A_Domain" in r.stderr, r.stderr
        assert len(hub.json("caddy-sync", "backend", "list")) == 2

        # The CLI way in: a third backend.
        hub.run("caddy-sync", "backend", "add", "api", "--site", "thory", "--addr", "127.0.0.1", "--port",
                str(ports[2]), "--name", "third")
        assert {b["name"] for b in hub.json("caddy-sync", "backend", "list")} == {
            f"api/127.0.0.1:{ports[0]}", f"api/127.0.0.1:{ports[1]}", "third"}

        # render needs no Caddy; with no health yet, every backend is in the pool.
        rendered = json.loads(hub.run("caddy-sync", "render").stdout)
        assert rendered["admin"]["listen"] == f"127.0.0.1:{admin_port}", rendered["admin"]
        dials = json.dumps(rendered)
        for port in ports:
            assert f"127.0.0.1:{port}" in dials, f"backend on port {port} missing from the rendered config"

        # sync loads once; a second sync finds Caddy running it already.
        first = hub.json("caddy-sync", "sync")
        assert first["loaded"] is True, first
        assert hub.json("caddy-sync", "sync")["loaded"] is False
        seen = set()
        for _ in range(30):
            status, body = get(http_port)
            assert status == 200, (status, body)
            seen.add(body)
        assert seen == {"backend0", "backend1", "backend2"}, seen
        status = hub.json("caddy-sync", "status")
        assert status["in_sync"] is True and status["last_applied"]["reason"] == "sync", status

        # drain: out of rotation at the next sync, still registered.
        hub.run("caddy-sync", "backend", "drain", "third")
        assert hub.json("caddy-sync", "status")["in_sync"] is False
        assert hub.json("caddy-sync", "sync")["loaded"] is True
        assert {get(http_port)[1] for _ in range(20)} == {"backend0", "backend1"}
        assert [b["drained"] for b in hub.json("caddy-sync", "backend", "list") if b["name"] == "third"] == [True]

        # A config Caddy rejects (it cannot listen on a port another process holds): sync exits 1
        # and says so, history records the rejection, the old routing keeps serving.
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        taken = blocker.getsockname()[1]
        hub.write_config([f"127.0.0.1:{http_port}", f"127.0.0.1:{taken}"])
        r = hub.run("caddy-sync", "sync", check=1)
        assert "rejected" in r.stderr and "stays live" in r.stderr, r.stderr
        history = hub.json("caddy-sync", "history")
        assert history[0]["outcome"] == "rejected" and history[0]["error"], history[0]
        assert {get(http_port)[1] for _ in range(10)} <= {"backend0", "backend1"}, "the old routing stopped"
        status = hub.json("caddy-sync", "status")
        assert status["last_attempt"]["outcome"] == "rejected" and status["in_sync"] is False, status
        blocker.close()
        hub.write_config([f"127.0.0.1:{http_port}"])

        # rollback: back to the config before the drain (third in rotation again).
        applied = [h for h in hub.json("caddy-sync", "history") if h["outcome"] == "applied"]
        assert len(applied) == 2, applied
        back = hub.json("caddy-sync", "rollback")
        assert back["rolled_back_to"] == applied[1]["id"] and back["loaded"] is True, back
        assert "backend2" in {get(http_port)[1] for _ in range(20)}
        assert hub.json("caddy-sync", "history")[0]["reason"] == "rollback"

        # --prune removes what the file does not declare (the CLI-added backend).
        out = hub.run("caddy-sync", "apply", spec, "--prune").stdout
        assert "- backend third" in out, out
        assert len(hub.json("caddy-sync", "backend", "list")) == 2
        r = hub.run("caddy-sync", "site", "remove", "dijon", check=None)
        assert r.returncode != 0 and f"api/127.0.0.1:{ports[0]}" in r.stderr, r.stderr
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


# ---- 2. a site dies and comes back ----------------------------------------------------------------

class Client:
    """The load generator in the hub's namespace; reads back its JSON lines."""

    def __init__(self, hub_site, root, port, threads=4):
        self.out = os.path.join(root, "client.jsonl")
        self.stop_file = os.path.join(root, "client.stop")
        self.proc = hub_site.popen([sys.executable, "-c", CLIENT, str(port), DOMAIN, self.out, self.stop_file,
                                    str(threads)], name="client")

    def records(self, since=0.0, until=None):
        if not os.path.exists(self.out):
            return []
        with open(self.out) as f:
            rows = [json.loads(line) for line in f if line.endswith("\n")]
        return [r for r in rows if r["t"] >= since and (until is None or r["t"] < until)]

    @staticmethod
    def failures(rows):
        return [r for r in rows if r["status"] != 200]

    def stop(self):
        open(self.stop_file, "w").close()
        self.proc.wait(timeout=30)


def test_site_failover(scratch):
    if not (netns.require_prerequisites() and require_caddy()):
        return
    with netns.Lab(scratch) as lab:
        hub_site, site_a, site_b = lab.site("hub"), lab.site("sa"), lab.site("sb")
        links = lab.mesh([hub_site, site_a, site_b], public_base=41, link_base=160)
        wg_hub = hub_site.wireguard(listen_port=51820)
        wg_a, wg_b = site_a.wireguard(listen_port=51821), site_b.wireguard(listen_port=51822)
        wg_hub.address("198.18.0.1/24")
        wg_a.address("198.18.0.2/24")
        wg_b.address("198.18.0.3/24")
        for spoke, site, port in ((wg_a, site_a, 51821), (wg_b, site_b, 51822)):
            wg_hub.add_peer(spoke.public_key, endpoint=f"{site.public_address}:{port}",
                            allowed_ips=[f"{spoke.vpn_address}/32"])
            spoke.add_peer(wg_hub.public_key, endpoint=f"{hub_site.public_address}:51820",
                           allowed_ips=["198.18.0.1/32"], keepalive=1)
        hub_site.wait_ping("198.18.0.2", timeout=15)
        hub_site.wait_ping("198.18.0.3", timeout=15)

        # Two backends per site, on the site's VPN address.
        controls = {}
        backend_specs = []
        for site, wg, prefix in ((site_a, wg_a, "a"), (site_b, wg_b, "b")):
            for port in (8081, 8082):
                name = f"{prefix}{port - 8080}"
                controls[name] = os.path.join(scratch, f"{name}.status")
                site.popen([sys.executable, "-c", BACKEND, name, wg.vpn_address, str(port), controls[name]],
                           name=f"backend-{name}")
                backend_specs.append((f"site-{prefix}", wg.vpn_address, port, {}))
        backend_name = {f"{p}{port - 8080}": f"api/{addr}:{port}"
                        for p, addr in (("a", "198.18.0.2"), ("b", "198.18.0.3")) for port in (8081, 8082)}

        # As run-core.sh does where the platform runs: Caddy's reloads hand queued connections to the
        # new listener (without it, a request arriving at the instant of a reload is reset).
        r = hub_site.run([PLATFORM_NET], check=False)
        assert r.returncode == 0, f"scripts/platform-net.sh: exit {r.returncode}: {r.stderr}"
        admin_port, http_port = 2999, 8080  # the hub's own namespace: fixed ports cannot collide
        hub = Hub(os.path.join(scratch, "hub"), admin_port, [f"127.0.0.1:{http_port}"], site=hub_site)
        caddy = start_caddy(hub.root, admin_port, lambda argv, env: hub_site.popen(argv, env=env, name="caddy"))
        wait_for(lambda: caddy_live_config(hub)["reachable"], 15, "Caddy's admin API")
        spec = os.path.join(hub.root, "platform.yaml")
        with open(spec, "w") as f:
            f.write(platform_yaml(backend_specs, interval="1s", timeout="500ms", rise=2, fall=3))
        hub.run("caddy-sync", "apply", spec)
        health_proc = hub_site.popen(hub.argv("health-checker", "run")[4:], name="health-checker")
        watch_proc = hub_site.popen(hub.argv("caddy-sync", "watch")[4:], name="caddy-sync")
        wait_for(lambda: set(hub.health().values()) == {"up"}, 20, "all four backends up")

        client = Client(hub_site, hub.root, http_port)
        try:
            started = time.time()
            wait_for(lambda: {r["backend"] for r in client.records(started)} >= set(controls), 15,
                     "requests to reach all four backends")
            time.sleep(3)
            steady = client.records(started)
            assert not Client.failures(steady), f"failures before any fault: {Client.failures(steady)[:5]}"

            # Site A dies: its links go down (WireGuard's packets to it vanish, nothing answers).
            cut = time.time()
            links[hub_site, site_a].down()
            links[site_a, site_b].down()
            wait_for(lambda: all(hub.health()[backend_name[n]] == "down" for n in ("a1", "a2")), 30,
                     "site A's backends to be marked down")
            marked_down = time.time() - cut
            # From here the service is B's alone.
            wait_for(lambda: caddy_live_config(hub)["in_sync"], 10, "Caddy to run the config without site A")
            routed = time.time()
            time.sleep(4)
            after = client.records(routed + 1)
            assert after and {r["backend"] for r in after} <= {"b1", "b2"}, \
                f"requests still reach site A after failover: {[r for r in after if r['backend'] not in ('b1', 'b2')][:5]}"
            assert not Client.failures(after), f"failures after failover: {Client.failures(after)[:5]}"
            cut_rows = client.records(cut, routed + 1)
            cut_failures = Client.failures(cut_rows)
            slowest = max(r["dt"] for r in cut_rows)
            print(f"  site A cut: marked down after {marked_down:.1f}s; {len(cut_failures)} of {len(cut_rows)} "
                  f"requests failed during the failover; slowest {slowest:.1f}s")
            # Only requests in flight at the cut may fail: those started before anything could
            # know (one per client thread, plus those sent before Caddy's own active check, 1 s
            # interval + 0.5 s timeout, benched site A).
            late = [r for r in cut_failures if r["t"] > cut + 2.0]
            assert not late, f"requests started well after the cut failed: {late[:5]}"
            assert len(cut_failures) <= 8, f"{len(cut_failures)} failed requests at the cut: {cut_failures[:8]}"

            # Site A returns: back in rotation after `rise` passes, without a failed request.
            back = time.time()
            links[hub_site, site_a].up()
            links[site_a, site_b].up()
            wait_for(lambda: all(hub.health()[backend_name[n]] == "up" for n in ("a1", "a2")), 30,
                     "site A's backends to be up again")
            up_after = time.time() - back
            wait_for(lambda: {"a1", "a2"} <= {r["backend"] for r in client.records(back)}, 15,
                     "requests to reach site A again")
            time.sleep(2)
            return_rows = client.records(back)
            assert not Client.failures(return_rows), f"failures while A returned: {Client.failures(return_rows)[:5]}"
            events = hub.json("health-checker", "status", "--events", "20")["events"]
            up_events = [e for e in events if e["to"] == "up" and e["backend"] == backend_name["a1"]]
            assert up_events and "2 passes" in up_events[0]["reason"], events
            print(f"  site A back: up after {up_after:.1f}s, 0 of {len(return_rows)} requests failed")

            # A backend alive but failing its health check: out after `fall` failures.
            sick = time.time()
            with open(controls["b2"], "w") as f:
                f.write("500\n")
            wait_for(lambda: hub.health()[backend_name["b2"]] == "down", 20, "b2 to be marked down")
            took = time.time() - sick
            events = hub.json("health-checker", "status", "--events", "20")["events"]
            down = [e for e in events if e["to"] == "down" and e["backend"] == backend_name["b2"]]
            assert down and "3 failures in a row" in down[0]["reason"] and "500" in down[0]["reason"], down
            wait_for(lambda: caddy_live_config(hub)["in_sync"], 10, "Caddy to run the config without b2")
            time.sleep(2)
            later = client.records(time.time() - 1.5)
            assert later and "b2" not in {r["backend"] for r in later}, "b2 still gets requests"
            assert not Client.failures(client.records(sick)), Client.failures(client.records(sick))[:5]
            print(f"  b2 answering 500 on /health: out of rotation after {took:.1f}s")

            # Drained: no more requests, still registered.
            hub.run("caddy-sync", "backend", "drain", backend_name["b1"])
            wait_for(lambda: caddy_live_config(hub)["in_sync"], 10, "Caddy to run the config without b1")
            time.sleep(2)
            later = client.records(time.time() - 1.5)
            assert later and "b1" not in {r["backend"] for r in later}, "a drained backend still gets requests"
            hub.run("caddy-sync", "backend", "undrain", backend_name["b1"])

            # A config Caddy would fail to apply (its listener's port is held by another process):
            # refused before it reaches Caddy (exit 1, history "rejected"), and the routing that runs
            # keeps serving every request. (Caddy 2.6 itself would serve 503s for about 2 s.)
            holder = hub_site.popen([sys.executable, "-c", "import socket, time; s = socket.socket(); "
                                     "s.bind(('127.0.0.1', 8090)); s.listen(1); time.sleep(600)"], name="holder")
            wait_for(lambda: hub_site.run(["ss", "-ltn", "sport", "= :8090"], check=False).stdout.count("LISTEN"),
                     10, "the port holder to listen")
            bad = os.path.join(hub.root, "bad-config.yaml")
            with open(hub.config) as f:
                text = f.read()
            with open(bad, "w") as f:
                f.write(text.replace(f'http_listen: ["127.0.0.1:{http_port}"]',
                                     f'http_listen: ["127.0.0.1:{http_port}", "127.0.0.1:8090"]'))
            rejected_at = time.time()
            r = hub_site.run([os.path.join(BIN, "caddy-sync"), "--config", bad, "sync"], check=False)
            assert r.returncode == 1 and "rejected" in r.stderr and "8090" in r.stderr, (r.returncode, r.stdout, r.stderr)
            history = hub.json("caddy-sync", "history")
            assert history[0]["outcome"] == "rejected" and history[0]["error"], history[0]
            time.sleep(2)
            during = client.records(rejected_at)
            assert during and not Client.failures(during), f"the rejected config disturbed routing: {Client.failures(during)[:5]}"
            lab.stop(holder)
            print(f"  a config that cannot listen: refused, recorded; 0 of {len(during)} requests failed meanwhile")

            total = client.records(started)
            with open(caddy.log_path, errors="replace") as f:
                reloads = f.read().count('"load complete"')
            print(f"  {len(total)} requests in all, {len(Client.failures(total))} failed; Caddy reloaded {reloads} times")
        finally:
            client.stop()
            for proc in (watch_proc, health_proc):
                assert lab.stop(proc, timeout=15) == 0, f"{proc.args} did not exit 0 on SIGTERM"
        with open(watch_proc.log_path, errors="replace") as f:
            assert "tcp_migrate_req" not in f.read(), "caddy-sync warns that reloads reset connections on the hub"


TESTS = [test_registry_and_caddy, test_site_failover]

if __name__ == "__main__":
    wanted = sys.argv[1:]
    harness.main([t for t in TESTS if not wanted or t.__name__ in wanted])
