#!/usr/bin/env python3
"""Connections reset by Caddy's config reloads, with net.ipv4.tcp_migrate_req off and on.

Caddy 2.6 (Debian's) binds a new SO_REUSEPORT listener at every `POST /load` and closes the old
one; the kernel resets the connections still queued on the old listener unless tcp_migrate_req
hands them over. This runs, in a fresh network namespace per setting (nothing on the host changes),
Caddy with a static response on 127.0.0.1:8080, a client of 4 threads opening a new connection per
GET, and RELOADS config loads 0.1 s apart; it prints requests answered and failed per setting.
scripts/platform-net.sh sets the knob where the platform runs (run-core.sh, docker-compose).

    bench/caddy_reload.py [RELOADS]        (root; caddy and curl installed; default 60 reloads)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

CLIENT = r'''
import http.client, signal, sys, threading, time
stats = {"ok": 0, "failed": 0}
def loop():
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", 8080, timeout=5)
            c.request("GET", "/"); r = c.getresponse(); r.read(); c.close()
            stats["ok" if r.status == 200 else "failed"] += 1
        except Exception:
            stats["failed"] += 1
for _ in range(4):
    threading.Thread(target=loop, daemon=True).start()
def done(*_):
    print(stats["ok"], stats["failed"], flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
while True:
    time.sleep(1)
'''


def config(body):
    return json.dumps({"admin": {"listen": "127.0.0.1:2019"}, "apps": {"http": {"servers": {"bench": {
        "listen": ["127.0.0.1:8080"], "automatic_https": {"disable": True},
        "routes": [{"handle": [{"handler": "static_response", "body": body}]}]}}}}})


def measure(migrate, reloads, scratch):
    ns = f"anemone-bench-reload-{os.getpid()}-{migrate}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    caddy = client = None
    try:
        inside = ["ip", "netns", "exec", ns]
        subprocess.run(inside + ["ip", "link", "set", "lo", "up"], check=True)
        subprocess.run(inside + ["sysctl", "-qw", f"net.ipv4.tcp_migrate_req={migrate}"], check=True)
        home = os.path.join(scratch, f"caddy-{migrate}")
        os.makedirs(home)
        initial = os.path.join(home, "initial.json")
        with open(initial, "w") as f:
            json.dump({"admin": {"listen": "127.0.0.1:2019"}}, f)
        env = dict(os.environ, HOME=home, XDG_DATA_HOME=f"{home}/data", XDG_CONFIG_HOME=f"{home}/config")
        caddy = subprocess.Popen(inside + ["caddy", "run", "--config", initial], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def load(body):
            return subprocess.run(inside + ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                                            "-H", "Content-Type: application/json", "--data", config(body),
                                            "http://127.0.0.1:2019/load"], capture_output=True, text=True).stdout

        deadline = time.monotonic() + 15
        while load("first") != "200":
            if time.monotonic() > deadline:
                raise SystemExit("Caddy's admin API did not answer in 15 s")
            time.sleep(0.2)
        client = subprocess.Popen(inside + [sys.executable, "-c", CLIENT], stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        for i in range(reloads):
            if load(f"config {i}") != "200":
                raise SystemExit(f"Caddy refused config {i}")
            time.sleep(0.1)
        client.terminate()
        ok, failed = map(int, client.communicate(timeout=30)[0].split())
        return ok, failed
    finally:
        for proc in (client, caddy):
            if proc and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
        subprocess.run(["ip", "netns", "del", ns], check=False)


def main():
    reloads = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    if os.geteuid() != 0 or not shutil.which("caddy") or not shutil.which("curl"):
        raise SystemExit("bench/caddy_reload.py: needs root, caddy and curl")
    version = subprocess.run(["caddy", "version"], capture_output=True, text=True).stdout.split()[0]
    scratch = tempfile.mkdtemp(prefix="anemone-bench-reload-")
    try:
        print(f"Caddy {version}, {reloads} config reloads 0.1 s apart, 4 client threads, a new connection per GET")
        for migrate in (0, 1):
            ok, failed = measure(migrate, reloads, scratch)
            print(f"  net.ipv4.tcp_migrate_req={migrate}: {ok} answered, {failed} failed "
                  f"({failed / reloads:.2f} per reload)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
