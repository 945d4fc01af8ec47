"""Shared fixtures for the integration suite: real processes, real sockets.

Every test that needs a network gets its own network namespace (created
here, deleted afterwards), so kernel peers, taps and listening ports never
touch the host's interfaces and tests can run side by side.
"""

import ctypes
import os
import shutil
import threading
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("TANDEM_BUILD_DIR", REPO / "build"))
DEFAULT_CONFIG = REPO / "deploy" / "config" / "tandem.yaml"


def binary(name):
    """Path of a built program (dataplane/tandem-dataplane, ...)."""
    for candidate in (BUILD / "dataplane" / name, BUILD / "signaling" / name, BUILD / "tools" / name):
        if candidate.exists():
            return candidate
    pytest.fail(f"{name} is not built in {BUILD}")


def require_root():
    if os.geteuid() != 0:
        pytest.skip("needs root for network namespaces and taps")


class NetNs:
    """A network namespace owned by one test."""

    def __init__(self):
        self.name = "tandem-it-" + uuid.uuid4().hex[:8]
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.run("ip", "link", "set", "lo", "up")

    def prefix(self):
        return ["ip", "netns", "exec", self.name]

    def run(self, *args, check=True, **kwargs):
        return subprocess.run(self.prefix() + [str(a) for a in args], check=check,
                              capture_output=True, text=True, **kwargs)

    def popen(self, args, **kwargs):
        return subprocess.Popen(self.prefix() + [str(a) for a in args], **kwargs)

    def socket(self, family=socket.AF_INET, kind=socket.SOCK_DGRAM):
        """A socket created inside the namespace (setns in a throwaway thread:
        a socket stays in the namespace it was created in)."""
        made = {}

        def create():
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            with open(f"/var/run/netns/{self.name}") as handle:
                if libc.setns(handle.fileno(), 0x40000000) != 0:  # CLONE_NEWNET
                    made["error"] = OSError(ctypes.get_errno(), "setns failed")
                    return
            made["socket"] = socket.socket(family, kind)

        thread = threading.Thread(target=create)
        thread.start()
        thread.join()
        if "error" in made:
            raise made["error"]
        return made["socket"]

    def delete(self):
        subprocess.run(["ip", "netns", "delete", self.name], check=False)


@pytest.fixture
def netns():
    require_root()
    ns = NetNs()
    yield ns
    ns.delete()


class Process:
    """A started program whose output goes to a log file in tmp_path."""

    def __init__(self, name, args, log_path, ns=None, env=None):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "w")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        cmd = [str(a) for a in args]
        self.proc = (ns.popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=full_env,
                              start_new_session=True)
                     if ns else
                     subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=full_env,
                                      start_new_session=True))

    def output(self):
        self.log.flush()
        return Path(self.log_path).read_text(errors="replace")

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM, wait; returns the exit code (SIGKILL after timeout)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


@pytest.fixture
def processes(tmp_path):
    """Factory: start(name, args, ns=None) -> Process; all stopped at teardown."""
    started = []

    def start(name, args, ns=None, env=None):
        p = Process(name, args, tmp_path / f"{name}.log", ns=ns, env=env)
        started.append(p)
        return p

    yield start
    for p in reversed(started):
        p.stop()


def wait_for(predicate, timeout=15.0, interval=0.1, what="condition"):
    """Polls predicate() until truthy; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def load_default_config():
    with open(DEFAULT_CONFIG) as f:
        return yaml.safe_load(f)


def write_config(path, overrides=None):
    """Writes the default config with nested `overrides` merged in."""
    cfg = load_default_config()

    def merge(base, extra):
        for key, value in extra.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                merge(base[key], value)
            else:
                base[key] = value

    merge(cfg, overrides or {})
    Path(path).write_text(yaml.safe_dump(cfg, sort_keys=False))
    return Path(path)


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def have(program):
    return shutil.which(program) is not None


@pytest.fixture
def appliance(netns, tmp_path):
    """The whole appliance as `tools/tandem run` starts it (tools/lib/supervise.py
    on the default config), inside the test's namespace. Yields (process,
    log path); stops it with SIGINT (Ctrl-C) afterwards if the test did not."""
    import sys

    log_path = tmp_path / "supervise.log"
    log = open(log_path, "w")
    proc = netns.popen([sys.executable, REPO / "tools" / "lib" / "supervise.py",
                        "--build", BUILD, "--config", DEFAULT_CONFIG],
                       stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "running; Ctrl-C stops everything" in log_path.read_text() or proc.poll() is not None,
                 timeout=90, what="the appliance to come up")
        assert proc.poll() is None, log_path.read_text()
        yield proc, log_path
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
