"""Shared helpers for integration tests: a scratch site (config, source tree, repository) and a
runner for the built tools. Stdlib only. A scratch directory is removed when the test passes and
kept (its path printed) when it fails."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import hashlib
import traceback

BIN = os.environ.get("ANEMONE_BIN") or os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin")
PASSPHRASE = "correct horse battery staple"


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"exit {self.code}\nstdout: {self.out}\nstderr: {self.err}"


class Site:
    """One site: its config file, a source tree and a local repository target, all under root."""

    def __init__(self, root, name="site-a", targets=None, retention=None, excludes=None):
        self.root = root
        self.name = name
        self.source = os.path.join(root, "source")
        self.repo = os.path.join(root, "repo")
        self.state = os.path.join(root, "state", "anemone.db")
        self.config = os.path.join(root, "config.yaml")
        os.makedirs(self.source, exist_ok=True)
        retention = retention or {"keep_last": 3}
        targets = targets or [{"name": "local", "type": "local", "path": self.repo}]
        lines = [
            "server:", f"  name: {name}",
            "paths:", f"  secrets: {root}/secrets", f"  logs: {root}/logs",
            "state:", f"  path: {self.state}",
            "backup:", "  sources:", "    - name: data", f"      path: {self.source}",
        ]
        if excludes:
            lines.append("      exclude: [" + ", ".join(json.dumps(e) for e in excludes) + "]")
        lines.append("  targets:")
        for t in targets:
            lines.append(f"    - name: {t['name']}")
            lines.append(f"      type: {t.get('type', 'local')}")
            lines.append(f"      path: {t['path']}")
            for key in ("host", "port", "user", "identity_file", "host_key", "connections"):
                if key in t:
                    lines.append(f"      {key}: {json.dumps(t[key])}")
            r = t.get("retention", retention)
            lines.append("      retention: {" + ", ".join(f"{k}: {v}" for k, v in r.items()) + "}")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def env(self, passphrase=PASSPHRASE):
        env = dict(os.environ)
        env.pop("ANEMONE_PASSPHRASE_FILE", None)
        env["ANEMONE_PASSPHRASE"] = passphrase
        return env

    def run(self, *args, passphrase=PASSPHRASE, timeout=600, tool="backup-sender", check=None):
        proc = subprocess.run([os.path.join(BIN, tool), "--config", self.config, *args], env=self.env(passphrase),
                              capture_output=True, text=True, errors="replace", timeout=timeout,
                              stdin=subprocess.DEVNULL)
        result = Result(proc)
        if check is not None and result.code != check:
            raise AssertionError(f"backup-sender {' '.join(args)}: expected exit {check}, got {result!r}")
        return result

    def popen(self, *args, passphrase=PASSPHRASE, tool="backup-sender"):
        return subprocess.Popen([os.path.join(BIN, tool), "--config", self.config, *args], env=self.env(passphrase),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def init(self):
        return self.run("init", "--kdf", "interactive", check=0)

    def write(self, relative, data, mode=None):
        path = os.path.join(self.source, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        if mode is not None:
            os.chmod(path, mode)
        return path


def tree_manifest(root):
    """Everything a user would compare after a restore: type, mode, size, mtime, content hash,
    symlink target, and which paths are hard links of each other."""
    manifest = {}
    inodes = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            entry = {"mode": oct(st.st_mode)}
            if os.path.islink(path):
                entry["target"] = os.readlink(path)
            elif os.path.isfile(path):
                with open(path, "rb") as f:
                    entry["sha256"] = hashlib.sha256(f.read()).hexdigest()
                entry["size"] = st.st_size
                entry["mtime_ns"] = st.st_mtime_ns
                if st.st_nlink > 1:
                    entry["link_group"] = inodes.setdefault(st.st_ino, rel)
            elif os.path.isdir(path):
                entry["mtime_ns"] = st.st_mtime_ns
            manifest[rel] = entry
    return manifest


def random_bytes(seed, size):
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.blake2b(f"{seed}:{counter}".encode(), digest_size=64).digest()
        counter += 1
    return bytes(out[:size])


def free_ports(count):
    """`count` distinct free loopback TCP ports: the probe sockets stay bound until all are chosen,
    so two calls of the kernel's picker cannot hand out the same port."""
    import socket
    probes = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probes.append(probe)
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def require_ci_prerequisite(available, what):
    """In CI a missing prerequisite fails the test; elsewhere it is reported and skipped."""
    if available:
        return True
    if os.environ.get("CI") == "true":
        raise AssertionError(f"prerequisite missing in CI: {what}")
    print(f"SKIP: {what} is not available here", file=sys.stderr)
    return False


def main(tests):
    """Runs each test function with its own scratch directory; prints a closing line ctest reads."""
    base = os.path.join(tempfile.gettempdir(), "anemone-integration")
    os.makedirs(base, exist_ok=True)
    failed = 0
    for test in tests:
        scratch = tempfile.mkdtemp(prefix=test.__name__ + "-", dir=base)
        try:
            test(scratch)
            shutil.rmtree(scratch, ignore_errors=True)
            print(f"PASS {test.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL {test.__name__} (scratch kept at {scratch})")
            traceback.print_exc()
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


# ---- Added for test_backup_cli.py / test_bad_input.py (additions only; nothing above changed) ----

def tree_manifest_bytes(root, owners=None):
    """Like tree_manifest, but with bytes paths (names that are not UTF-8 compare exactly), the root
    directory itself (as b"."), symlink mtimes, and owners (uid/gid; by default only when running as
    root, since only root can restore them). Hard-link groups are named by their smallest path, so
    the result does not depend on directory listing order."""
    if owners is None:
        owners = os.geteuid() == 0
    root_b = os.fsencode(root)
    manifest = {}
    groups = {}

    def describe(path, rel):
        st = os.lstat(path)
        entry = {"mode": oct(st.st_mode), "mtime_ns": st.st_mtime_ns}
        if owners:
            entry["uid"], entry["gid"] = st.st_uid, st.st_gid
        if os.path.islink(path):
            entry["target"] = os.readlink(path)
        elif os.path.isfile(path):
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            entry["sha256"] = h.hexdigest()
            entry["size"] = st.st_size
            if st.st_nlink > 1:
                groups.setdefault((st.st_dev, st.st_ino), []).append(rel)
        manifest[rel] = entry

    describe(root_b, b".")
    for dirpath, dirnames, filenames in os.walk(root_b):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            describe(path, os.path.relpath(path, root_b))
    for members in groups.values():
        for rel in members:
            manifest[rel]["link_group"] = min(members)
    return manifest


def manifest_diff(expected, actual, limit=20):
    """Human-readable differences between two manifests ("" when equal)."""
    lines = []
    for key in sorted(set(expected) | set(actual)):
        if expected.get(key) != actual.get(key):
            lines.append(f"  {key!r}: expected {expected.get(key)} got {actual.get(key)}")
    more = f"\n  ... and {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


def directory_digest(root):
    """Every entry under root (bytes paths) with its type and, for files, a content hash: equal
    digests mean the directory is byte-for-byte unchanged (names and contents)."""
    root_b = os.fsencode(root)
    digest = {}
    if not os.path.lexists(root_b):
        return None
    for dirpath, dirnames, filenames in os.walk(root_b):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root_b)
            if os.path.islink(path):
                digest[rel] = "link:" + os.fsdecode(os.readlink(path))
            elif os.path.isdir(path):
                digest[rel] = "dir"
            else:
                with open(path, "rb") as f:
                    digest[rel] = "file:" + hashlib.sha256(f.read()).hexdigest()
    return digest


def write_urandom_file(path, size, block=16 << 20):
    """A file of size bytes of os.urandom data, written in blocks (fast, for large sources)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(block, left)
            f.write(os.urandom(n))
            left -= n
    return path


class CheckedSite(Site):
    """A Site whose every run() also asserts that no secret (the passphrase used, the default
    passphrase, and anything added to self.secrets) appears in the command's stdout or stderr."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.secrets = {PASSPHRASE}

    def assert_no_secret(self, text, what="output"):
        for secret in self.secrets:
            if secret and text and secret in text:
                raise AssertionError(f"a secret passphrase appears in {what}:\n{text}")

    def run(self, *args, check=None, **kwargs):
        passphrase = kwargs.get("passphrase")
        if passphrase and len(passphrase) >= 8:
            self.secrets.add(passphrase)
        result = super().run(*args, **kwargs)
        cmd = f"{kwargs.get('tool', 'backup-sender')} {' '.join(args)}"
        self.assert_no_secret(result.out, f"stdout of {cmd}")
        self.assert_no_secret(result.err, f"stderr of {cmd}")
        if check is not None and result.code != check:
            raise AssertionError(f"{cmd}: expected exit {check}, got {result!r}")
        return result


class SoftAssertions:
    """Collects failed expectations so one test can report every broken behaviour it saw, then
    fails at the end (done())."""

    def __init__(self):
        self.failures = []

    def check(self, condition, message):
        if not condition:
            self.failures.append(message)
        return bool(condition)

    def equal(self, actual, expected, message):
        return self.check(actual == expected, f"{message}: expected {expected!r}, got {actual!r}")

    def done(self):
        if self.failures:
            raise AssertionError(f"{len(self.failures)} expectation(s) failed:\n- " + "\n- ".join(self.failures))


class Sshd:
    """A real OpenSSH sshd on a loopback port with a config written here: key-only login as root,
    internal-sftp. Files live under /var/lib/anemone-test/<random>/ (sshd refuses key files and jails
    under group- or world-writable paths such as /tmp). Stopped by its pid in stop()."""

    def __init__(self):
        import time
        if not require_ci_prerequisite(os.path.exists("/usr/sbin/sshd"), "OpenSSH sshd (/usr/sbin/sshd)"):
            raise unittest_skip()
        os.makedirs("/var/lib/anemone-test", exist_ok=True)
        os.chmod("/var/lib/anemone-test", 0o755)
        self.dir = tempfile.mkdtemp(prefix="sshd-", dir="/var/lib/anemone-test")
        os.chmod(self.dir, 0o755)
        os.makedirs("/run/sshd", exist_ok=True)
        for key in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(self.dir, key)],
                           check=True)
        shutil.copy(os.path.join(self.dir, "client_key.pub"), os.path.join(self.dir, "authorized_keys"))
        os.chmod(os.path.join(self.dir, "authorized_keys"), 0o600)
        with open(os.path.join(self.dir, "host_key.pub")) as f:
            self.host_key = f.read().strip()
        self.identity = os.path.join(self.dir, "client_key")
        [self.port] = free_ports(1)
        config = os.path.join(self.dir, "sshd_config")
        with open(config, "w") as f:
            f.write(f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.dir}/host_key\n"
                    f"PidFile {self.dir}/sshd.pid\nAuthorizedKeysFile {self.dir}/authorized_keys\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
                    "PermitRootLogin prohibit-password\nUsePAM no\nStrictModes yes\n"
                    "Subsystem sftp internal-sftp\nLogLevel ERROR\n")
        self.config = config
        self.start()

    def start(self):
        import socket
        import time
        self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", self.config], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"sshd exited with {self.proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("sshd did not start listening")

    def cut(self):
        """Ends the server and every session it runs (its child processes), as a crash or a dropped
        link would; start() brings it back on the same port."""
        children = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    if int(fields[1]) == self.proc.pid:
                        children.append(int(entry))
                except (OSError, IndexError, ValueError):
                    pass
        self.proc.kill()
        self.proc.wait()
        for pid in children:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass

    def target(self, name, path, **overrides):
        target = {"name": name, "type": "sftp", "host": "127.0.0.1", "port": self.port, "user": "root",
                  "path": path, "identity_file": self.identity, "host_key": self.host_key}
        target.update(overrides)
        return target

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def unittest_skip():
    return SystemExit(0)
