#!/usr/bin/env python3
"""Anemone health-checker benchmark: the cost of probing many backends.

Starts N loopback HTTP backends (default 1000) in one asyncio process, each on its own address
(127.1.x.y, all of 127/8 is loopback) and one port, registers them (`caddy-sync apply` of a
generated platform.yaml; sqlite3 INSERTs into the registry tables when caddy-sync cannot), runs
`health-checker run` with a 1 s interval and measures, after a warm-up, over --seconds (default 60):

  cpu       health-checker's utime+stime from /proc/<pid>/stat, as % of one core
  memory    VmRSS at the end and VmHWM (peak)
  probes    requests the backends answered per second (should be about N / interval)
  health    backends up at the end, per `health-checker status --json`

Loopback only. Run it outside any timing-sensitive CI window: it keeps a core fairly busy.
"""
import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"


def die(message):
    print(f"health_probes.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def addresses(count):
    # 127.1.0.1 .. 127.1.0.250, 127.1.1.1 .. : never .0 or .255 in the last byte.
    return [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(count)]


def raise_fd_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ------------------------------------------------------------------ the backends (child process)
class Backend(asyncio.Protocol):
    answered = 0

    def connection_made(self, transport):
        self.transport = transport
        self.head = b""

    def data_received(self, data):
        self.head += data
        if b"\r\n\r\n" in self.head:
            self.transport.write(RESPONSE)
            self.transport.close()
            Backend.answered += 1


async def serve(count, port, count_file):
    loop = asyncio.get_running_loop()
    servers = []
    for address in addresses(count):
        servers.append(await loop.create_server(Backend, address, port, backlog=64, reuse_address=True))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    Path(count_file + ".ready").write_text("ready\n")
    while not stop.is_set():
        Path(count_file).write_text(f"{Backend.answered}\n")
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except asyncio.TimeoutError:
            pass
    Path(count_file).write_text(f"{Backend.answered}\n")
    for server in servers:
        server.close()


def serve_main(args):
    raise_fd_limit(args.backends + 4096)
    asyncio.run(serve(args.backends, args.port, args.count_file))


# ------------------------------------------------------------------ the driver
def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.1.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15)


def memory_kib(pid):
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def read_count(path):
    try:
        return int(Path(path).read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


def write_config(work):
    config = work / "config.yaml"
    config.write_text(
        "server:\n  name: bench\n"
        f"paths:\n  secrets: {work}/secrets\n  logs: {work}/logs\n  run: {work}/run\n"
        f"state:\n  path: {work}/state/anemone.db\n"
    )
    for sub in ("secrets", "logs", "run", "state"):
        (work / sub).mkdir(mode=0o700, exist_ok=True)
    return config


def platform_services(count, port, interval, timeout, per_service=100):
    services = []
    addrs = addresses(count)
    for s in range(0, count, per_service):
        name = f"bench-{s // per_service}"
        services.append((name, f"{name}.bench.example.org", [(a, port) for a in addrs[s : s + per_service]]))
    return services


def write_platform(path, services, interval, timeout):
    lines = ["sites:", "  - name: bench", "services:"]
    for name, domain, backends in services:
        lines += [f"  - name: {name}", f"    domains: [{domain}]", "    health:", "      path: /health",
                  f"      interval: {interval}", f"      timeout: {timeout}", "    backends:"]
        for addr, port in backends:
            lines += ["      - site: bench", f"        addr: {addr}", f"        port: {port}"]
    path.write_text("\n".join(lines) + "\n")


def duration_ms(text):
    units = {"ms": 1, "s": 1000, "m": 60000}
    for unit in ("ms", "s", "m"):
        if text.endswith(unit) and text[: -len(unit)].isdigit():
            return int(text[: -len(unit)]) * units[unit]
    die(f"not a duration: {text!r} (e.g. 1s, 500ms)")


def register_with_sqlite(state_path, services, interval, timeout):
    """The registry tables of migration 5, written directly (caddy-sync unavailable)."""
    now = time.time_ns()
    db = sqlite3.connect(state_path)
    with db:
        db.execute("INSERT OR IGNORE INTO platform_sites (name, created_ns) VALUES ('bench', ?)", (now,))
        for name, domain, backends in services:
            db.execute(
                "INSERT OR IGNORE INTO platform_services (name, domains, policy, health_path, health_interval_ms,"
                " health_timeout_ms, health_rise, health_fall, health_expect_status, created_ns)"
                " VALUES (?, ?, 'round_robin', '/health', ?, ?, 2, 3, 200, ?)",
                (name, domain, duration_ms(interval), duration_ms(timeout), now),
            )
            db.executemany(
                "INSERT OR IGNORE INTO platform_backends (name, service, site, addr, port, priority, weight, tags,"
                " tls, drained, created_ns) VALUES (?, ?, 'bench', ?, ?, 1, 1, '', 0, 0, ?)",
                [(f"{name}/{addr}:{port}", name, addr, port, now) for addr, port in backends],
            )
    db.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", type=int, default=1000, help="loopback backends (default 1000)")
    parser.add_argument("--seconds", type=int, default=60, help="measured period (default 60)")
    parser.add_argument("--warmup", type=int, default=5, help="seconds before measuring (default 5)")
    parser.add_argument("--interval", default="1s", help="probe interval (default 1s)")
    parser.add_argument("--timeout", default="500ms", help="probe timeout (default 500ms)")
    parser.add_argument("--bin", default=str(REPO_ROOT / "build" / "bin"), help="directory of the tools")
    parser.add_argument("--workdir", help="work directory (default: a new one under /var/tmp, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve_main(args)
    if not 1 <= args.backends <= 60000:
        die("--backends must be 1..60000")

    health_checker = Path(args.bin) / "health-checker"
    caddy_sync = Path(args.bin) / "caddy-sync"
    if not os.access(health_checker, os.X_OK):
        die(f"{health_checker} not found (build first, or give --bin)")
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="anemone-bench-health-", dir="/var/tmp"))
    work.mkdir(parents=True, exist_ok=True)
    config = write_config(work)
    env = dict(os.environ, ANEMONE_CONFIG=str(config))
    env.pop("ANEMONE_LOG_LEVEL", None)
    port = free_port()
    services = platform_services(args.backends, port, args.interval, args.timeout)
    count_file = str(work / "answered")
    children = []
    try:
        server = subprocess.Popen([sys.executable, __file__, "--serve", "--backends", str(args.backends), "--port",
                                   str(port), "--count-file", count_file], stderr=open(work / "backends.log", "w"))
        children.append(server)
        deadline = time.time() + 120
        while not Path(count_file + ".ready").exists():
            if server.poll() is not None or time.time() > deadline:
                die(f"the backends did not start; see {work}/backends.log")
            time.sleep(0.1)

        platform_file = work / "platform.yaml"
        write_platform(platform_file, services, args.interval, args.timeout)
        how = "caddy-sync apply"
        applied = os.access(caddy_sync, os.X_OK) and subprocess.run(
            [str(caddy_sync), "apply", str(platform_file)], env=env, stdout=subprocess.DEVNULL,
            stderr=open(work / "apply.log", "w")).returncode == 0
        if not applied:
            how = "sqlite3 (caddy-sync apply failed or is missing; see apply.log)"
            # health-checker creates and migrates the state file, then idles on an empty registry.
            starter = subprocess.Popen([str(health_checker), "run"], env=env, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            starter.terminate()
            starter.wait(10)
            register_with_sqlite(work / "state" / "anemone.db", services, args.interval, args.timeout)

        raise_fd_limit(4096)
        log = open(work / "health-checker.log", "w")
        checker = subprocess.Popen([str(health_checker), "run"], env=env, stderr=log)
        children.append(checker)
        time.sleep(args.warmup)
        if checker.poll() is not None:
            die(f"health-checker run exited ({checker.returncode}); see {work}/health-checker.log")
        cpu0, answered0, t0 = cpu_seconds(checker.pid), read_count(count_file), time.monotonic()
        server_cpu0 = cpu_seconds(server.pid)
        time.sleep(args.seconds)
        cpu1, answered1, t1 = cpu_seconds(checker.pid), read_count(count_file), time.monotonic()
        server_cpu1 = cpu_seconds(server.pid)
        memory = memory_kib(checker.pid)

        status = subprocess.run([str(health_checker), "status", "--json", "--events", "0"], env=env,
                                capture_output=True, text=True)
        up = total = 0
        if status.returncode == 0:
            for service in json.loads(status.stdout)["services"]:
                for backend in service["backends"]:
                    total += 1
                    up += backend["state"] == "up"

        stop_started = time.monotonic()
        checker.send_signal(signal.SIGTERM)
        code = checker.wait(30)
        stop_seconds = time.monotonic() - stop_started

        elapsed = t1 - t0
        cpu = cpu1 - cpu0
        print(f"health-checker, {args.backends} loopback backends, interval {args.interval}, timeout {args.timeout}")
        print(f"  registered by:   {how}")
        print(f"  measured:        {elapsed:.1f} s after a {args.warmup} s warm-up")
        print(f"  cpu:             {cpu:.2f} s = {100 * cpu / elapsed:.1f} % of one core "
              f"({1e6 * cpu / max(answered1 - answered0, 1):.0f} us per probe)")
        print(f"  memory:          RSS {memory.get('VmRSS', 0) / 1024:.1f} MiB, peak {memory.get('VmHWM', 0) / 1024:.1f} MiB")
        print(f"  probes answered: {answered1 - answered0} ({(answered1 - answered0) / elapsed:.0f}/s; "
              f"expected about {args.backends * 1000 / duration_ms(args.interval):.0f}/s)")
        print(f"  backends up:     {up}/{total}")
        print(f"  SIGTERM:         exit {code} after {stop_seconds:.2f} s")
        print(f"  (the backends' own process used {100 * (server_cpu1 - server_cpu0) / elapsed:.1f} % of one core)")
        return 0 if code == 0 and up == args.backends else 1
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"  work directory kept: {work}")


if __name__ == "__main__":
    sys.exit(main())
