#!/usr/bin/env python3
"""The whole core as an operator starts it: scripts/run-core.sh (keys, accounts, sshd's config, then
supervisord with the programs wireguard, sshd, sftp-quota, watcher and cron), each site in its own
network namespace (public addresses in 192.0.2.0/24, the mesh in 198.18.0.0/15).

1. One site backing up to a local repository: all five programs RUNNING, one log per program, the
   watcher's initial run makes a snapshot, `health-checker self` is healthy (text and --json); a
   watcher killed with SIGKILL is restarted by supervisord (new pid, RUNNING, a new run); sshd
   stopped makes the site unhealthy naming sshd, started again healthy; a crontab job `* * * * *`
   runs at the next minute with the passphrase from the config; SIGTERM to supervisord ends every
   process of the core and removes the WireGuard interface. With platform.enabled the platform's
   programs run too (caddy, health-checker, caddy-sync): a service declared with `caddy-sync apply`
   is answered through the supervised Caddy, and a Caddy killed with SIGKILL serves it again at
   once (`--resume`).
2. Two cores peered by invitation while they run (invite, join, accept): the running
   `wg-peer-manager up --foreground` and sshd under supervisord carry the tunnel and the logins; A in
   live mode backs up to B by itself: a file written on A is in the latest snapshot on B within the
   debounce + 20 s (the first one after peering + 10 s: a watcher without targets looks for one
   every 10 s), B's jail for A holds only ciphertext, both sites are healthy.

The passphrase reaches the core only through backup.passphrase_file (a 0600 file): run-core.sh gets
an environment without ANEMONE_PASSPHRASE*. Arguments, if any, select tests by name."""
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import netns  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RUN_CORE = os.path.join(TOP, "scripts", "run-core.sh")
PROGRAMS = ("wireguard", "sshd", "sftp-quota", "watcher", "cron")
PLATFORM_PROGRAMS = ("caddy", "health-checker", "caddy-sync")  # with platform.enabled
DEBOUNCE = 2
WG = "wg-peer-manager"
STOP_TIMEOUT = 90  # the watcher may take up to its stopwaitsecs (60 s); the others are quick


def require_core_prerequisites():
    """netns + wireguard-go, and what run-core.sh itself needs."""
    if not netns.require_prerequisites():
        return False
    for available, what in ((shutil.which("supervisord"), "supervisord"),
                            (shutil.which("supervisorctl"), "supervisorctl"),
                            (os.path.exists("/usr/sbin/sshd"), "OpenSSH sshd (/usr/sbin/sshd)"),
                            (shutil.which("ssh-keygen"), "ssh-keygen"),
                            (os.access(RUN_CORE, os.X_OK), RUN_CORE)):
        if not harness.require_ci_prerequisite(bool(available), what):
            return False
    return True


def processes_of(needles):
    """(pid, command line) of processes whose command line or environment holds one of needles
    (bytes), except this test itself."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read()
        except OSError:
            continue
        if any(n in cmdline or n in environ for n in needles):
            found.append((int(entry), cmdline.replace(b"\0", b" ").decode(errors="replace").strip()))
    return found


class CoreSite:
    """One site's configuration for the whole core, in its namespace. Sources, logs, the run
    directory, the state and a local repository live in the scratch directory; secrets and the SFTP
    jails under /var/lib/anemone-test (sshd refuses key and chroot paths under a world-writable /tmp).
    start() runs scripts/run-core.sh through the lab; stop() sends supervisord SIGTERM."""

    def __init__(self, lab, scratch, site, sources=True, local_target=False, crontab="", platform=False):
        self.lab, self.site, self.name = lab, site, site.name
        self.programs = PROGRAMS + (PLATFORM_PROGRAMS if platform else ())
        self.root = os.path.join(scratch, self.name)
        os.makedirs(self.root, exist_ok=True)
        os.makedirs("/var/lib/anemone-test", exist_ok=True)
        os.chmod("/var/lib/anemone-test", 0o755)
        self.base = tempfile.mkdtemp(prefix=f"core-{self.name}-", dir="/var/lib/anemone-test")
        os.chmod(self.base, 0o755)
        self.source = os.path.join(self.root, "source")
        self.logs = os.path.join(self.root, "logs")
        self.run_dir = os.path.join(self.root, "run")
        self.state_dir = os.path.join(self.root, "state")
        self.repo = os.path.join(self.root, "repo")
        self.secrets = os.path.join(self.base, "secrets")
        self.backups = os.path.join(self.base, "backups")
        self.prefix = "c" + secrets.token_hex(2) + "-"  # Unix users of all test sites share /etc/passwd
        self.interface = "wgc" + secrets.token_hex(4)   # the UAPI socket directory is shared too
        self.socket = os.path.join(self.run_dir, "supervisor.sock")
        self.users = []
        self.proc = None
        if sources:
            os.makedirs(self.source, exist_ok=True)
        # The passphrase only in a 0600 file the config names (as config/config.yaml shows).
        os.makedirs(self.secrets, mode=0o700, exist_ok=True)
        self.passphrase_file = os.path.join(self.secrets, "repository.pass")
        fd = os.open(self.passphrase_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(harness.PASSPHRASE + "\n")
        lines = [f"server:\n  name: {self.name}\n",
                 f"paths:\n  secrets: {self.secrets}\n  logs: {self.logs}\n  run: {self.run_dir}\n",
                 f"state:\n  path: {self.state_dir}/anemone.db\n",
                 f"backup:\n  passphrase_file: {self.passphrase_file}\n  mode: live\n"
                 f"  debounce_seconds: {DEBOUNCE}\n  max_delay_seconds: 10\n"]
        if sources:
            lines.append(f"  sources:\n    - name: data\n      path: {self.source}\n")
        if local_target:
            lines.append(f"  targets:\n    - name: local\n      type: local\n      path: {self.repo}\n"
                         "      retention: {keep_last: 10}\n")
        lines += [f"sftp:\n  port: 22222\n  listen: 0.0.0.0\n  backups_dir: {self.backups}\n"
                  f"  default_quota: 1G\n  account_prefix: {self.prefix}\n",
                  f"wireguard:\n  interface: {self.interface}\n  listen_port: 51820\n  subnet: 198.18.0.0/15\n"
                  f"  endpoint: \"{site.public_address}:51820\"\n  keepalive: 5\n",
                  "health:\n  max_backup_age: 1h\n  min_free_space: 100M\n"]
        if platform:  # the namespace's own loopback: fixed ports cannot collide
            lines.append("platform:\n  enabled: true\n  caddy_admin: http://127.0.0.1:2999\n"
                         "  http_listen: [\"127.0.0.1:8080\"]\n  tls: off\n")
        self.config = os.path.join(self.root, "config.yaml")
        with open(self.config, "w") as f:
            f.write("".join(lines))
        self.crontab = os.path.join(self.root, "crontab")
        with open(self.crontab, "w") as f:
            f.write("# test_core.py's crontab\n" + crontab)

    def env(self):
        """The operator's environment, without any passphrase: the config's file must do."""
        env = dict(os.environ)
        for name in ("ANEMONE_PASSPHRASE", "ANEMONE_PASSPHRASE_FILE", "ANEMONE_CONFIG", "ANEMONE_CRONTAB"):
            env.pop(name, None)
        return env

    def tool(self, tool, *args, check=0, timeout=120):
        """A tool with --config, inside the namespace; exit status checked unless check is None."""
        proc = self.site.run([os.path.join(harness.BIN, tool), "--config", self.config, *args], check=False,
                             timeout=timeout, env=self.env())
        assert harness.PASSPHRASE not in proc.stdout + proc.stderr, f"the passphrase leaked into {tool}'s output"
        if check is not None:
            assert proc.returncode == check, f"{self.name}: {tool} {' '.join(args)[:200]}: exit {proc.returncode}, " \
                                             f"expected {check}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
        return proc

    def ctl(self, *args, timeout=60):
        """supervisorctl on this core's control socket (a Unix socket: reachable from any namespace)."""
        return netns.run(["supervisorctl", "-s", f"unix://{self.socket}", *args], check=False, timeout=timeout)

    def states(self):
        """{program: state} from `supervisorctl status` ({} while supervisord does not answer)."""
        out = self.ctl("status").stdout
        return {m.group(1): m.group(2) for m in re.finditer(r"^(\S+)\s+([A-Z]+)\b", out, re.M)}

    def pid(self, program):
        out = self.ctl("pid", program).stdout.strip()
        return int(out) if out.isdigit() and int(out) > 0 else None

    def log(self, name):
        path = os.path.join(self.logs, name)
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def diagnostics(self):
        """The core's logs, for a failure message."""
        text = ""
        if self.proc is not None and self.proc.log_path:
            with open(self.proc.log_path, errors="replace") as f:
                text += f"---- run-core.sh / supervisord stdout ----\n{f.read()[-3000:]}\n"
        for name in ("supervisord.log",) + tuple(f"{p}.log" for p in self.programs):
            text += f"---- {name} ----\n{self.log(name)[-3000:]}\n"
        return text

    def start(self):
        """scripts/run-core.sh inside the namespace; returns when all its programs are RUNNING."""
        self.lab.track_path(f"{netns.WG_SOCKET_DIR}/{self.interface}.sock")
        self.proc = self.site.popen([RUN_CORE, "--config", self.config, "--crontab", self.crontab,
                                     "--bin", harness.BIN], name=f"run-core-{self.name}", env=self.env())
        self.started = time.time()
        try:
            netns.wait_for(lambda: self.proc.poll() is not None or
                           (self.states() and all(self.states().get(p) == "RUNNING" for p in self.programs)),
                           60, 0.5, f"{self.name}: all programs RUNNING in `supervisorctl status`")
        except AssertionError as e:
            raise AssertionError(f"{e}; status now: {self.ctl('status').stdout}\n{self.diagnostics()}")
        assert self.proc.poll() is None, \
            f"{self.name}: run-core.sh ended with exit {self.proc.returncode}\n{self.diagnostics()}"
        return self

    def stop(self):
        """SIGTERM to supervisord (run-core.sh exec'd it: the same pid), bounded wait; its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(f"{self.name}: supervisord did not exit within {STOP_TIMEOUT} s of SIGTERM")

    def leftovers(self):
        """Processes of this core still there: anything in its namespace, or holding its config or
        interface on the command line or in the environment."""
        pids = netns.run(["ip", "netns", "pids", self.site.ns], check=False).stdout.split()
        in_ns = []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    in_ns.append((int(pid), f.read().replace(b"\0", b" ").decode(errors="replace").strip()))
            except OSError:
                pass
        others = processes_of([os.fsencode(self.config), os.fsencode(self.interface), os.fsencode(self.root)])
        return sorted(set(in_ns) | set(others))

    def shutdown(self):
        """Cleanup after a failure (the lab would SIGKILL supervisord after 5 s and orphan its
        programs): supervisord stopped by its pid, then whatever still runs in this site's namespace
        (only this core's processes are there) killed by pid."""
        try:
            self.stop()
        except AssertionError as e:
            print(f"cleanup: {e}", file=sys.stderr)
        for pid in netns.run(["ip", "netns", "pids", self.site.ns], check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass

    def account_for(self, peer):
        user = self.prefix + peer
        self.users.append(user)
        return user

    def close(self):
        """After the lab: the peer accounts' Unix users and the files under /var/lib/anemone-test."""
        for user in self.users:
            subprocess.run(["userdel", user], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def shut_down_on_exit(cores):
    """Inside `with lab`: whatever happened, every started core is shut down before the lab closes."""
    try:
        yield
    finally:
        for core in cores:
            core.shutdown()


def snapshots(core, target):
    proc = core.tool("backup-sender", "snapshots", "--target", target, "--json", check=None)
    return json.loads(proc.stdout) if proc.returncode == 0 else []


def health(core):
    """(exit code, stdout + stderr) of `health-checker self`, and the parsed `self --json`."""
    text = core.tool("health-checker", "self", check=None, timeout=60)
    js = core.tool("health-checker", "self", "--json", check=None, timeout=60)
    report = json.loads(js.stdout)
    return text.returncode, text.stdout + text.stderr, js.returncode, report


def assert_healthy(core, when):
    code, output, js_code, report = health(core)
    assert code == 0, f"{when}: `health-checker self` exits {code}, expected 0 (healthy):\n{output}"
    assert js_code == 0 and report["healthy"] is True and report["reasons"] == [], \
        f"{when}: `health-checker self --json` says {json.dumps(report, indent=1)}"
    names = {c["name"] for c in report["checks"]}
    assert {"wireguard", "sshd", "supervisord", "backup:local", "config-backup:local"} <= names, \
        f"{when}: the health report lacks a check: {sorted(names)}"


# ---- 1. one core under supervisord -----------------------------------------------------------------

def test_core_under_supervisord(scratch):
    if not require_core_prerequisites():
        return
    lab = netns.Lab(scratch)
    timings = {}
    begun = time.monotonic()
    cores = []
    try:
        with lab, shut_down_on_exit(cores):
            site = lab.site("core-a")
            site.add_public_address("192.0.2.1")
            crontab = '* * * * *  backup-sender snapshots --json >> "$ANEMONE_LOGS/cron-test.log" 2>&1\n'
            core = CoreSite(lab, scratch, site, local_target=True, crontab=crontab, platform=True)
            cores.append(core)
            with open(os.path.join(core.source, "hello.txt"), "w") as f:
                f.write("hello from the core test\n")
            core.tool("backup-sender", "init", "--kdf", "interactive")

            core.start()
            timings["run-core.sh to all eight programs RUNNING"] = time.time() - core.started
            try:
                for program in core.programs:
                    assert os.path.isfile(os.path.join(core.logs, f"{program}.log")), \
                        f"{core.logs}/{program}.log is missing: supervisord writes each program's log there " \
                        f"(logs: {sorted(os.listdir(core.logs))})"

                # The watcher's run at start makes a snapshot with the passphrase from the config.
                taken = netns.wait_for(lambda: snapshots(core, "local"), 30, 0.5,
                                       "a snapshot from the watcher's run at start")
                assert len(taken) == 1, f"one snapshot expected after the first run: {taken}"
                paths = {e["path"] for e in json.loads(
                    core.tool("backup-sender", "ls", "latest", "--target", "local", "--json").stdout)}
                assert "/data/hello.txt" in paths, f"the watcher's snapshot lacks /data/hello.txt: {sorted(paths)}"
                timings["start to the first snapshot"] = time.time() - core.started

                assert_healthy(core, "with the core up and a fresh snapshot")

                # The platform's programs: a service declared with caddy-sync apply is served by
                # the supervised Caddy once health-checker finds its backend up.
                backend_port = 8099
                backend = site.popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(backend_port),
                                      "--directory", core.source], name="backend")
                spec = os.path.join(core.root, "platform.yaml")
                with open(spec, "w") as f:
                    f.write("sites:\n  - name: here\nservices:\n  - name: files\n    domains: [files.example.org]\n"
                            "    health: {path: /hello.txt, interval: 1s, timeout: 500ms}\n    backends:\n"
                            f"      - {{site: here, addr: 127.0.0.1, port: {backend_port}}}\n")
                core.tool("caddy-sync", "apply", spec)
                platform_begun = time.monotonic()
                fetch = [sys.executable, "-c", "import http.client as h; c = h.HTTPConnection('127.0.0.1', 8080, "
                         "timeout=5); c.request('GET', '/hello.txt', headers={'Host': 'files.example.org'}); "
                         "r = c.getresponse(); print(r.status, r.read().decode().strip())"]
                netns.wait_for(lambda: site.run(fetch, check=False).stdout.strip() ==
                               "200 hello from the core test", 20, 0.5,
                               "Caddy (supervised) to serve files.example.org from the registered backend")
                timings["caddy-sync apply to the service answering through Caddy"] = time.monotonic() - platform_begun
                # (Before its first probes the backend is "unknown" and Caddy gets it anyway: a pool
                # is never emptied for want of health.) Then up after rise=2 passes, Caddy in sync.
                states = lambda: [b["state"] for s in json.loads(core.tool("health-checker", "status", "--json")
                                                                 .stdout)["services"] for b in s["backends"]]
                netns.wait_for(lambda: states() == ["up"], 15, 0.5, "health-checker to find the backend up")
                status = netns.wait_for(lambda: (st := json.loads(core.tool("caddy-sync", "status", "--json").stdout))
                                        ["in_sync"] and st, 10, 0.5, "Caddy to run the registry's config")
                assert status["reachable"] and status["last_applied"]["reason"] in ("watch", "verify"), status
                self_check = health(core)
                assert self_check[0] == 0, f"health-checker self with the platform running:\n{self_check[1]}"
                # run-core.sh set up the namespace so that Caddy's reloads reset no connection.
                migrate = site.run(["sysctl", "-n", "net.ipv4.tcp_migrate_req"], check=False).stdout.strip()
                assert migrate == "1", f"run-core.sh left net.ipv4.tcp_migrate_req at {migrate!r} with the platform on"
                # Caddy killed: supervisord restarts it and it serves the last config at once (--resume).
                old_caddy = core.pid("caddy")
                os.kill(old_caddy, signal.SIGKILL)
                netns.wait_for(lambda: (p := core.pid("caddy")) and p != old_caddy and
                               core.states().get("caddy") == "RUNNING", 20, 0.2, "supervisord to restart Caddy")
                netns.wait_for(lambda: site.run(fetch, check=False).stdout.strip().startswith("200"), 10, 0.2,
                               "the restarted Caddy to serve the service")
                lab.stop(backend)

                # The watcher killed: supervisord starts a new one, which runs at once (live mode).
                old = core.pid("watcher")
                assert old, f"`supervisorctl pid watcher` gives no pid: {core.ctl('status').stdout}"
                os.kill(old, signal.SIGKILL)
                killed = time.monotonic()
                new = netns.wait_for(lambda: (p := core.pid("watcher")) and p != old and
                                     core.states().get("watcher") == "RUNNING" and p, 20, 0.2,
                                     "supervisord to restart the killed watcher (a new pid, RUNNING)")
                timings["watcher SIGKILL to RUNNING again"] = time.monotonic() - killed
                assert new != old
                netns.wait_for(lambda: len(snapshots(core, "local")) >= 2, 30, 0.5,
                               "a snapshot from the restarted watcher's run at start")
                status = json.loads(core.tool("watcher", "status", "--json").stdout)
                assert status["running"] is True and status["pid"] == new, \
                    f"`watcher status` should show the restarted watcher (pid {new}): {status}"

                # sshd stopped: unhealthy, naming sshd; started: healthy again.
                r = core.ctl("stop", "sshd")
                assert r.returncode == 0 and core.states().get("sshd") == "STOPPED", \
                    f"supervisorctl stop sshd: exit {r.returncode}: {r.stdout}{r.stderr}"
                code, output, js_code, report = health(core)
                assert code != 0, f"`health-checker self` exits 0 with sshd stopped:\n{output}"
                assert "sshd" in output, f"`health-checker self` does not name sshd:\n{output}"
                failed = {c["name"] for c in report["checks"] if not c["ok"]}
                assert report["healthy"] is False and "sshd" in failed and js_code != 0, \
                    f"`health-checker self --json` with sshd stopped: {json.dumps(report, indent=1)}"
                r = core.ctl("start", "sshd")
                assert r.returncode == 0, f"supervisorctl start sshd: exit {r.returncode}: {r.stdout}{r.stderr}"
                netns.wait_for(lambda: health(core)[0] == 0, 15, 0.5, "health-checker self healthy after sshd start")
                assert_healthy(core, "after `supervisorctl start sshd`")

                # The crontab's job at the next minute boundary, with the config's passphrase.
                cron_log = os.path.join(core.logs, "cron-test.log")
                deadline = max(0.0, core.started + 75 - time.time())
                text = netns.wait_for(lambda: core.log("cron-test.log").strip(), deadline + 1, 0.5,
                                      f"the cron job to write {cron_log} (a `* * * * *` job, by the next minute)")
                # Read it again once the job is surely done writing its JSON.
                netns.wait_for(lambda: _first_json(core.log("cron-test.log")) is not None, 15, 0.5,
                               f"{cron_log} to hold the job's JSON; it has:\n{text}")
                listed = _first_json(core.log("cron-test.log"))
                # It ran at a minute boundary: before or after the restarted watcher's snapshot.
                known = {snap["id"] for snap in snapshots(core, "local")}
                assert isinstance(listed, list) and listed and {snap["id"] for snap in listed} <= known, \
                    f"the cron job's `backup-sender snapshots --json` should list the repository's snapshots " \
                    f"{sorted(known)}; {cron_log} has:\n{core.log('cron-test.log')}"
                timings["start to the cron job's output"] = time.time() - core.started
                assert os.path.isfile(os.path.join(core.logs, "cron.log")), "cron.log is missing"
            except AssertionError as e:
                raise AssertionError(f"{e}\n{core.diagnostics()}")

            # SIGTERM to supervisord: everything of this core ends, the interface goes.
            stopping = time.monotonic()
            code = core.stop()
            timings["SIGTERM to supervisord's exit"] = time.monotonic() - stopping
            assert code == 0, f"supervisord exited {code} after SIGTERM, expected 0\n{core.diagnostics()}"
            try:
                netns.wait_for(lambda: not core.leftovers(), 10, 0.2, "no process of the core left")
            except AssertionError:
                raise AssertionError(f"still running after supervisord stopped: {core.leftovers()}")
            assert site.ip("link", "show", core.interface, check=False).returncode != 0, \
                f"the WireGuard interface {core.interface} is still there after the core stopped"
            assert not os.path.exists(os.path.join(netns.WG_SOCKET_DIR, f"{core.interface}.sock")), \
                "wireguard-go's UAPI socket is still there after the core stopped"
        assert not os.path.exists(os.path.join(netns.NETNS_DIR, site.ns)), f"namespace {site.ns} not removed"
    finally:
        for core in cores:
            core.close()
        timings["the whole test"] = time.monotonic() - begun
        for what, seconds in timings.items():
            print(f"  {what}: {seconds:.1f} s")


def _first_json(text):
    """The first JSON document in text (None when there is none yet)."""
    text = text.lstrip()
    if not text:
        return None
    try:
        return json.JSONDecoder().raw_decode(text)[0]
    except ValueError:
        return None


# ---- 2. two cores, peered while running; live backups over the tunnel -------------------------------

def test_two_cores_live_mesh(scratch):
    if not require_core_prerequisites():
        return
    lab = netns.Lab(scratch)
    timings = {}
    begun = time.monotonic()
    cores = []
    try:
        with lab, shut_down_on_exit(cores):
            sa, sb = lab.site("site-a"), lab.site("site-b")
            lab.mesh([sa, sb])
            a = CoreSite(lab, scratch, sa)
            b = CoreSite(lab, scratch, sb, sources=False)  # a receiver only
            cores += [a, b]
            with open(os.path.join(a.source, "before.txt"), "w") as f:
                f.write("written before the core started\n")
            a.account_for("site-b")
            b.account_for("site-a")
            b.start()
            a.start()
            timings["both cores RUNNING"] = time.monotonic() - begun

            try:
                # Peering while both cores run: accept applies the tunnel to the running interface.
                code = a.tool(WG, "invite", "site-b", "--expires", "1h").stdout.strip()
                assert code.startswith("anemone-invite:"), code
                reply = b.tool(WG, "join", code).stdout.strip()
                assert reply.startswith("anemone-reply:"), reply
                accepted = json.loads(a.tool(WG, "accept", reply, "--json").stdout)
                assert accepted["peer"] == "site-b" and accepted["tunnel_applied"] is True, \
                    f"accept on a running core should apply the tunnel at once: {accepted}"
                peered = time.monotonic()
                a_vpn = json.loads(a.tool(WG, "show", "--json").stdout)["vpn_address"]
                b_vpn = json.loads(b.tool(WG, "show", "--json").stdout)["vpn_address"]
                sa.wait_ping(b_vpn, timeout=15)
                sb.wait_ping(a_vpn, timeout=15)
                timings["accept to a ping through the tunnel"] = time.monotonic() - peered

                # Nobody runs a backup command: files written on A reach B through the watcher.
                text = b"the plaintext marker " + secrets.token_hex(16).encode()

                def write_and_wait(bound, what):
                    """Writes a new file on A; returns the seconds until `ls latest --target site-b` on A
                    lists it (raises after bound seconds)."""
                    name = "only-in-plaintext-" + secrets.token_hex(4)
                    with open(os.path.join(a.source, name + ".txt"), "wb") as f:
                        f.write(text * 100)
                    written = time.monotonic()

                    def on_b():
                        r = a.tool("backup-sender", "ls", "latest", "--target", "site-b", "--json", check=None)
                        return r.returncode == 0 and f"/data/{name}.txt" in {e["path"] for e in json.loads(r.stdout)}
                    try:
                        netns.wait_for(on_b, bound, 1, f"/data/{name}.txt ({what}) in A's latest snapshot on "
                                                        f"site-b (live mode, debounce {DEBOUNCE} s)")
                    except AssertionError as e:
                        status = a.tool("watcher", "status", check=None)
                        raise AssertionError(f"{e}\nA's `watcher status`:\n{status.stdout}{status.stderr}")
                    return time.monotonic() - written

                # The first file after peering: A's watcher started with no target and waits for one
                # (looking every 10 s) rather than failing into its retry backoff, so this is the live
                # bound plus that check's period.
                timings["peered, the first file on A to B's snapshot"] = write_and_wait(
                    DEBOUNCE + 30, "the first file after peering")
                timings["the next file on A to B's snapshot"] = write_and_wait(DEBOUNCE + 20, "a file written "
                                                                               "after the first backup to B")

                # B's jail for A holds the repository, only as ciphertext.
                jail = os.path.join(b.backups, b.prefix + "site-a")
                assert os.path.isdir(os.path.join(jail, "repo", "snapshots")), \
                    f"B's jail for A has no repository: {os.listdir(jail)}"
                for directory, dirs, files in os.walk(jail):
                    for name in dirs + files:
                        assert "only-in-plaintext" not in name, f"a plaintext file name in B's jail: " \
                                                                f"{directory}/{name}"
                    for name in files:
                        with open(os.path.join(directory, name), "rb") as f:
                            assert text[:24] not in f.read(), f"plaintext of A in {os.path.join(directory, name)}"
                for core in (a, b):
                    states = core.states()
                    assert all(states.get(p) == "RUNNING" for p in core.programs), f"{core.name}: {states}"
                    code, output, _, report = health(core)
                    assert code == 0 and report["healthy"] is True, \
                        f"{core.name}: `health-checker self` exits {code} with the mesh up:\n{output}"
                assert "backup:site-b" in {c["name"] for c in health(a)[3]["checks"]}, \
                    "A's health report has no check of its backups to the peer site-b"
            except AssertionError as e:
                raise AssertionError(f"{e}\n==== site-a ====\n{a.diagnostics()}\n==== site-b ====\n{b.diagnostics()}")

            for core in (a, b):
                code = core.stop()
                assert code == 0, f"{core.name}: supervisord exited {code} after SIGTERM\n{core.diagnostics()}"
                try:
                    netns.wait_for(lambda: not core.leftovers(), 10, 0.2, f"no process of {core.name}'s core left")
                except AssertionError:
                    raise AssertionError(f"{core.name}: still running after supervisord stopped: {core.leftovers()}")
    finally:
        for core in cores:
            core.close()
        timings["the whole test"] = time.monotonic() - begun
        for what, seconds in timings.items():
            print(f"  {what}: {seconds:.1f} s")


TESTS = [test_core_under_supervisord, test_two_cores_live_mesh]

if __name__ == "__main__":
    wanted = sys.argv[1:]
    harness.main([t for t in TESTS if not wanted or t.__name__ in wanted])
