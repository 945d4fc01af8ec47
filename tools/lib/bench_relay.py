#!/usr/bin/env python3
"""`tools/tandem bench relay`: RTP relay throughput, latency and memory.

Three relays, measured in the same run, on the same 2-core machine:

  testpmd    dpdk-testpmd io forwarding on one core, net_memif server, frames
             looped back unchanged: the ceiling of the virtual-device path.
  tandem     tandem-dataplane (busy polling, one worker core) relaying N
             G.711 calls created through ng offer/answer, net_memif server.
  rtpengine  rtpengine-daemon in userspace (--table=-1, one thread, pinned
             to one core) relaying the same calls created the same way, fed
             through kernel UDP sockets on loopback.

The DPDK generator (tools/bench/relay_gen, memif client) and the socket
generator (tools/bench/udp_gen) run on the other core. Each searches the
highest total offered rate whose step loses < 0.01 % (bounded steps:
--duration-ms of sending plus a drain), then sends one step at half that
rate for latency. Latency is the generator's round trip through the relay,
from a timestamp in the RTP payload. Memory per session is the relay's RSS
growth across call creation divided by the calls.

Prints a Markdown table and writes it to BUILD/bench/relay.md; the raw step
results go to BUILD/bench/relay.json and every process's output to
BUILD/bench/relay/. Ratios, not absolute numbers, are the result: other load
on the machine moves every row, so the tool records the load average and
warns when the machine was not idle.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

TESTPMD = "/usr/bin/dpdk-testpmd"
RTPENGINE = "/usr/bin/rtpengine"
GENERATOR_CPU = 0
RELAY_CPU = 1


def log(message):
    print(f"bench relay: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


def boosted(boost, nofile=None):
    """preexec_fn: own session (so its own scheduler autogroup), and with
    boost that autogroup and the process at nice -20, so a busy-polling relay
    or generator is not time-sliced with whatever else runs on its core."""

    def setup():
        os.setsid()
        if nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        if boost:
            try:
                with open("/proc/self/autogroup", "w") as f:
                    f.write("-20")
            except OSError:
                pass
            try:
                os.nice(-20)
            except OSError:
                pass

    return setup


class Processes:
    """Every process this run started; stop() ends them by pid."""

    def __init__(self, log_dir, boost):
        self.log_dir = log_dir
        self.boost = boost
        self.running = []

    def start(self, name, argv, stdin=None, nofile=None):
        out = open(self.log_dir / f"{name}.log", "w")
        out.write("$ " + " ".join(str(a) for a in argv) + "\n")
        out.flush()
        process = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT,
                                   stdin=stdin, preexec_fn=boosted(self.boost, nofile))
        self.running.append((name, process, out))
        return process

    def stop(self, process, timeout=10):
        for entry in list(self.running):
            name, candidate, out = entry
            if candidate is not process:
                continue
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.send_signal(signal.SIGKILL)
                    process.wait()
            out.close()
            self.running.remove(entry)

    def stop_all(self):
        for _, process, _ in list(reversed(self.running)):
            self.stop(process)


def run_json(name, argv, log_dir, boost, timeout):
    """Runs a generator or ng_calls to completion; returns its JSON lines."""
    path = log_dir / f"{name}.log"
    with open(path, "w") as out:
        out.write("$ " + " ".join(str(a) for a in argv) + "\n")
        out.flush()
        try:
            completed = subprocess.run([str(a) for a in argv], stdout=subprocess.PIPE, stderr=out,
                                       preexec_fn=boosted(boost), timeout=timeout, text=True)
        except subprocess.TimeoutExpired:
            return None, f"{name} did not finish within {timeout} s (see {path})"
        out.write(completed.stdout)
    lines = []
    for line in completed.stdout.splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    if completed.returncode != 0 and not lines:
        tail = [line for line in path.read_text().strip().splitlines() if not line.startswith("$ ")][-2:]
        return None, f"{name} exited with {completed.returncode}: " + " | ".join(tail)
    return lines, None


def cpu_seconds(pid):
    """User + system CPU time of a process (all its threads), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def ng_ping(port, timeout=0.3):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(b"bench1 d7:command4:pinge", ("127.0.0.1", port))
            reply, _ = s.recvfrom(65536)
        except OSError:
            return False
    return b"pong" in reply


def wait_until(check, seconds, process=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        if check():
            return True
        time.sleep(0.1)
    return False


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the runs


class Bench:
    def __init__(self, options):
        self.options = options
        self.build = Path(options.build)
        self.repo = Path(options.repo)
        self.tools = self.build / "tools" / "bench"
        self.out_dir = self.build / "bench"
        self.log_dir = self.out_dir / "relay"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # memif socket paths must fit sun_path (108 bytes): keep them short.
        self.run_dir = Path(tempfile.mkdtemp(prefix="tandem-bench-", dir="/run" if os.access("/run", os.W_OK) else None))
        self.processes = Processes(self.log_dir, options.boost)
        self.rows = []
        self.raw = {}

    def generator_search_args(self, start_pps):
        o = self.options
        return ["--duration-ms", o.duration_ms, "--drain-ms", o.drain_ms, "--start-pps", start_pps,
                "--max-steps", o.max_steps, "--precision", o.precision, "--loss-max", o.loss_max,
                "--latency-load", 0.5]

    def relay_gen(self, name, socket_path, extra, start_pps):
        argv = ["taskset", "-c", GENERATOR_CPU, self.tools / "relay_gen",
                "-l", "0", "--no-huge", "-m", "1024", "--no-pci", "--file-prefix", f"tbench-gen-{os.getpid()}",
                "--vdev", f"net_memif0,role=client,socket={socket_path},socket-abstract=no,rsize=12",
                "--iova-mode=va", "--log-level=4", "--"] + extra + self.generator_search_args(start_pps)
        return run_json(name, argv, self.log_dir, self.options.boost, self.step_budget_s() + 60)

    def step_budget_s(self):
        o = self.options
        return (o.max_steps + 2) * (o.duration_ms + o.drain_ms + 10_000) / 1000 + 30

    def summary(self, lines):
        for line in reversed(lines or []):
            if line.get("type") == "summary":
                return line
        return None

    # -- testpmd
    def run_testpmd(self, calls):
        name = "testpmd"
        if not os.access(TESTPMD, os.X_OK):
            return self.row(name, calls, error=f"{TESTPMD} missing (apt-get install dpdk-dev)")
        socket_path = self.run_dir / "testpmd.sock"
        argv = ["taskset", "-c", f"{GENERATOR_CPU},{RELAY_CPU}", TESTPMD,
                "-l", f"{GENERATOR_CPU},{RELAY_CPU}", "--no-huge", "-m", "1024", "--no-pci",
                "--file-prefix", f"tbench-testpmd-{os.getpid()}",
                "--vdev", f"net_memif0,role=server,socket={socket_path},socket-abstract=no,rsize=12",
                "--iova-mode=va", "--log-level=4", "--",
                "--forward-mode=io", "--port-topology=loop", "--nb-cores=1", "--total-num-mbufs=65536",
                "--burst=32", "--stats-period=3600"]
        process = self.processes.start(name, argv, stdin=subprocess.PIPE)
        try:
            # testpmd's output is block-buffered into the log: wait for the
            # socket, then a moment for it to listen (relay_gen also retries).
            if not wait_until(socket_path.exists, 60, process):
                return self.row(name, calls, error=f"testpmd did not create its memif socket (see {self.log_dir}/testpmd.log)")
            time.sleep(1)
            lines, error = self.relay_gen("testpmd-gen", socket_path, ["--synthetic", calls], 1_000_000)
            self.raw[f"{name}"] = lines
            if error:
                return self.row(name, calls, error=error)
            return self.row(name, calls, summary=self.summary(lines), mode="io forwarding, 1 core")
        finally:
            self.processes.stop(process)

    # -- rtpengine
    def run_rtpengine(self, calls):
        name = f"rtpengine-{calls}"
        if not os.access(RTPENGINE, os.X_OK):
            return self.row("rtpengine", calls, error=f"{RTPENGINE} missing (apt-get install rtpengine-daemon)")
        # Without rtcp-mux rtpengine holds 4 sockets per call (RTP and RTCP
        # on each side).
        needed = 4 * calls + 1024
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and needed > hard:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
            except (ValueError, OSError):
                return self.row("rtpengine", calls, error=f"needs {needed} open files, the hard limit is {hard} "
                                "and cannot be raised here (no CAP_SYS_RESOURCE): raise `ulimit -Hn` or use fewer calls")
        ng_port = free_udp_port()
        argv = ["taskset", "-c", RELAY_CPU, RTPENGINE, "--config-file=none", "--foreground", "--table=-1",
                "--interface=127.0.0.1", f"--listen-ng=127.0.0.1:{ng_port}",
                "--port-min=10000", "--port-max=59999", "--num-threads=1", "--media-num-threads=1",
                "--timeout=600", "--silent-timeout=600", "--delete-delay=0",
                "--log-stderr", "--log-level=2", f"--pidfile={self.run_dir}/rtpengine.pid"]
        process = self.processes.start(name, argv, nofile=needed)
        try:
            if not wait_until(lambda: ng_ping(ng_port), 20, process):
                return self.row("rtpengine", calls, error=f"rtpengine did not answer ng ping (see {self.log_dir}/{name}.log)")
            time.sleep(0.5)
            before = rss_kib(process.pid)
            calls_file = self.run_dir / f"{name}.calls"
            # One socket per side in the generator: every call's leg A is
            # 127.0.0.1:61000 and leg B 127.0.0.1:61002.
            lines, error = run_json(f"{name}-ng", [self.tools / "ng_calls", "--ng", f"127.0.0.1:{ng_port}",
                                                   "--calls", calls, "--out", calls_file,
                                                   "--a-address", "127.0.0.1", "--a-port", 61000,
                                                   "--b-address", "127.0.0.1", "--b-port", 61002,
                                                   "--port-step", 0, "--call-id-prefix", "rtpe"],
                                    self.log_dir, False, 600)
            if error or not lines or lines[-1].get("failed"):
                return self.row("rtpengine", calls, error=error or f"ng: {lines[-1].get('first_error')}")
            setup = lines[-1]
            time.sleep(0.5)
            after = rss_kib(process.pid)
            cpu_before = cpu_seconds(process.pid)
            lines, error = run_json(f"{name}-gen", ["taskset", "-c", GENERATOR_CPU, self.tools / "udp_gen",
                                                    "--calls", calls_file]
                                    + self.generator_search_args(50_000),
                                    self.log_dir, self.options.boost, self.step_budget_s() + 60)
            cpu_after = cpu_seconds(process.pid)
            self.raw[name] = {"setup": setup, "steps": lines}
            if error:
                return self.row("rtpengine", calls, error=error)
            row = self.row("rtpengine", calls, summary=self.summary(lines), rss=(before, after), setup=setup,
                           mode="userspace, 1 thread")
            # When the generator, not rtpengine, set the limit, what one core
            # of rtpengine can do is estimated from its cost per packet: all
            # packets it relayed over the CPU time it spent on them (its
            # syscalls include delivering to the receiver on loopback).
            relayed = sum(line["result"]["received"] for line in lines or [] if line.get("type") == "step")
            if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before and relayed:
                row["pps_per_cpu_second"] = relayed / (cpu_after - cpu_before)
                row["cpu_seconds"] = cpu_after - cpu_before
            return row
        finally:
            self.processes.stop(process)

    # -- tandem
    def tandem_config(self, socket_path, ng_port):
        base_path = self.repo / "deploy" / "config" / "tandem.yaml"
        config = yaml.safe_load(base_path.read_text()) or {}
        dataplane = config.setdefault("dataplane", {})
        eal = dataplane.setdefault("eal", {})
        eal.update({"lcores": f"{GENERATOR_CPU}-{RELAY_CPU}", "no_huge": True, "memory_mb": 2048,
                    # net_memif registers a multi-process action, which --no-shconf
                    # (what in_memory means without hugepages) refuses.
                    "in_memory": False, "file_prefix": f"tbench-dp-{os.getpid()}"})
        dataplane["ports"] = [{"name": "bench0",
                               "device": f"net_memif0,role=server,socket={socket_path},socket-abstract=no,rsize=12",
                               "ipv4": "198.18.0.1", "ipv4_prefix": 24}]
        dataplane["polling"] = "busy"
        dataplane["mbufs"] = 65535
        dataplane["control"] = {"address": "127.0.0.1", "port": ng_port}

        # Session limits live wherever the media settings landed in the
        # schema; raise every such key found in the default file.
        def raise_limits(node):
            if isinstance(node, dict):
                for key, value in list(node.items()):
                    if key in ("port_min", "first_port"):
                        node[key] = 10000
                    elif key in ("port_max", "last_port"):
                        node[key] = 59999
                    elif key == "max_sessions":
                        node[key] = max(int(value or 0), 2 * max(self.options.calls))
                    elif key in ("timeout_s", "silent_timeout_s"):
                        node[key] = 600
                    else:
                        raise_limits(value)

        raise_limits(dataplane)
        config.setdefault("metrics", {})["enabled"] = False
        config.setdefault("logging", {})["level"] = "warn"
        path = self.run_dir / "tandem.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path, dataplane

    def run_tandem(self, calls):
        name = f"tandem-{calls}"
        binary = self.build / "dataplane" / "tandem-dataplane"
        if not binary.exists():
            return self.row("tandem", calls, error=f"{binary} is not built")
        socket_path = self.run_dir / "tandem.sock"
        ng_port = free_udp_port()
        config_path, dataplane = self.tandem_config(socket_path, ng_port)
        process = self.processes.start(name, [binary, "--config", config_path])
        try:
            if not wait_until(lambda: ng_ping(ng_port), 60, process):
                return self.row("tandem", calls,
                                error=f"tandem-dataplane did not answer ng ping (see {self.log_dir}/{name}.log)")
            time.sleep(0.5)
            before = rss_kib(process.pid)
            calls_file = self.run_dir / f"{name}.calls"
            lines, error = run_json(f"{name}-ng", [self.tools / "ng_calls", "--ng", f"127.0.0.1:{ng_port}",
                                                   "--calls", calls, "--out", calls_file,
                                                   "--a-address", "198.18.0.10", "--a-port", 2000,
                                                   "--b-address", "198.18.0.11", "--b-port", 2000,
                                                   "--port-step", 2, "--call-id-prefix", "tandem"],
                                    self.log_dir, False, 600)
            if error or not lines:
                return self.row("tandem", calls, error=f"relay not available: {error}")
            setup = lines[-1]
            if setup.get("failed"):
                return self.row("tandem", calls, error=f"relay not available: ng offer/answer failed "
                                f"({setup.get('failed')} of {calls}: {setup.get('first_error')})")
            time.sleep(0.5)
            after = rss_kib(process.pid)
            lines, error = self.relay_gen(f"{name}-gen", socket_path, ["--calls", calls_file], 1_000_000)
            self.raw[name] = {"setup": setup, "steps": lines}
            if error:
                return self.row("tandem", calls, error=error)
            summary = self.summary(lines)
            return self.row("tandem", calls, summary=summary, rss=(before, after), setup=setup,
                            mode=f"{dataplane.get('polling')} polling, 1 worker")
        finally:
            self.processes.stop(process)

    def row(self, relay, calls, summary=None, rss=None, setup=None, error=None, mode=""):
        row = {"relay": relay, "calls": calls, "mode": mode, "error": error}
        if summary and summary.get("best"):
            best = summary["best"]
            row.update(pps=best["achieved_pps"], p50_ns=best["p50_ns"], p99_ns=best["p99_ns"],
                       generator_bound=summary.get("generator_bound", False))
            if summary.get("at_load"):
                row.update(load_p50_ns=summary["at_load"]["p50_ns"], load_p99_ns=summary["at_load"]["p99_ns"])
        elif summary is not None and not error:
            row["error"] = "no step passed the loss criterion"
        if rss and rss[0] is not None and rss[1] is not None:
            row["bytes_per_session"] = (rss[1] - rss[0]) * 1024 / calls
        if setup:
            row["setup_calls_per_s"] = calls / setup["seconds"] if setup.get("seconds") else None
        self.rows.append(row)
        log(f"{relay} ({calls} calls): " + (row["error"] or f"{row.get('pps', 0):,.0f} pps"))
        return row

    def cleanup(self):
        self.processes.stop_all()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        # EAL runtime directories of this run's DPDK processes (memif needs
        # the multi-process socket, so they are not --no-shconf).
        for runtime in Path("/var/run/dpdk").glob(f"tbench-*-{os.getpid()}"):
            shutil.rmtree(runtime, ignore_errors=True)


# ---------------------------------------------------------------- report


def fmt_pps(value):
    return f"{value / 1e6:.2f} M" if value >= 1e6 else f"{value / 1e3:.0f} k"


def fmt_us(ns):
    return f"{ns / 1000:.0f}" if ns >= 100_000 else f"{ns / 1000:.1f}"


def fmt_bytes(value):
    if value is None:
        return "—"
    return f"{value / 1024:.1f} KiB" if value >= 1024 else f"{value:.0f} B"


def render(rows, context):
    testpmd = next((r for r in rows if r["relay"] == "testpmd" and r.get("pps")), None)
    rtpengine = {r["calls"]: r for r in rows if r["relay"] == "rtpengine" and r.get("pps")}
    lines = [
        "| Relay | Calls | Mode | Packets/s per core (loss < 0.01 %) | Tandem / testpmd | Tandem / rtpengine "
        "| Latency p50 / p99 at max (µs) | at 50 % load (µs) | Memory / session |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r.get("error"):
            lines.append(f"| {r['relay']} | {r['calls']:,} | {r.get('mode') or '—'} | {r['error']} | | | | | |")
            continue
        pps = fmt_pps(r["pps"]) + (" (generator-bound)" if r.get("generator_bound") else "")
        if r.get("pps_per_cpu_second"):
            pps += f"; {fmt_pps(r['pps_per_cpu_second'])} per CPU-second"
        vs_testpmd = vs_rtpengine = ""
        if r["relay"] == "tandem":
            if testpmd:
                vs_testpmd = f"{r['pps'] / testpmd['pps']:.2f}"
            if r["calls"] in rtpengine:
                peer = rtpengine[r["calls"]]
                if peer.get("generator_bound") and peer.get("pps_per_cpu_second"):
                    # rtpengine was not saturated: compare with what its CPU
                    # cost per packet says one full core would relay.
                    vs_rtpengine = f"{r['pps'] / max(peer['pps'], peer['pps_per_cpu_second']):.1f}× (per CPU-second)"
                else:
                    bound = "≤ " if peer.get("generator_bound") else ""
                    vs_rtpengine = f"{bound}{r['pps'] / peer['pps']:.1f}×"
        latency = f"{fmt_us(r['p50_ns'])} / {fmt_us(r['p99_ns'])}"
        load = f"{fmt_us(r['load_p50_ns'])} / {fmt_us(r['load_p99_ns'])}" if "load_p50_ns" in r else "—"
        calls = f"{r['calls']:,}" if r["relay"] != "testpmd" else f"({r['calls']:,} flows)"
        lines.append(f"| {r['relay']} | {calls} | {r['mode']} | {pps} | {vs_testpmd} | {vs_rtpengine} "
                     f"| {latency} | {load} | {fmt_bytes(r.get('bytes_per_session'))} |")
    notes = [
        "",
        f"Measured {context['date']} on {context['cpu']} ({context['cores']} cores), DPDK {context['dpdk']}, "
        f"rtpengine {context['rtpengine']}, Tandem {context['revision']}. One core relays, the other generates; "
        f"G.711 (172-byte RTP, 214-byte frames), both directions of every call, round robin. Steps of "
        f"{context['duration_ms']} ms; the rate is the highest whose step lost < 0.01 %. "
        "testpmd and Tandem: DPDK generator over net_memif (`--no-huge`); rtpengine: userspace "
        "(`--table=-1`, one thread), kernel UDP sockets on loopback (sendmmsg/recvmmsg). "
        "Latency is the generator's round trip through the relay. Memory per session: RSS growth across "
        "ng offer+answer of all calls, divided by the calls.",
    ]
    if context.get("busy"):
        notes.append("")
        notes.append(f"**Warning:** the machine was not idle (load average {context['load_before']:.1f} before, "
                     f"{context['load_after']:.1f} after); treat these numbers as noisy.")
    return "\n".join(lines + notes) + "\n"


def command_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def context_info(options, repo):
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    dpdk = command_output(["pkg-config", "--modversion", "libdpdk"]).strip() or "?"
    rtpengine = "?"
    version = command_output(["dpkg-query", "-W", "-f=${Version}", "rtpengine-daemon"]).strip()
    if version:
        rtpengine = version
    revision = command_output(["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"]).strip() or "unknown"
    return {"date": time.strftime("%Y-%m-%d"), "cpu": cpu, "cores": os.cpu_count(), "dpdk": dpdk,
            "rtpengine": rtpengine, "revision": revision, "duration_ms": options.duration_ms,
            "machine": platform.node()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--calls", default="1000,10000", help="comma-separated call counts (default 1000,10000)")
    parser.add_argument("--only", default="testpmd,tandem,rtpengine", help="which relays to run")
    parser.add_argument("--duration-ms", type=int, default=3000, help="sending time per step")
    parser.add_argument("--drain-ms", type=int, default=300)
    parser.add_argument("--max-steps", type=int, default=12, help="bound on steps per search, retries included")
    parser.add_argument("--precision", type=float, default=0.05)
    parser.add_argument("--loss-max", type=float, default=0.0001)
    parser.add_argument("--no-boost", dest="boost", action="store_false",
                        help="do not run the relays and generators at nice -20 in their own autogroups")
    parser.add_argument("--quick", action="store_true", help="1000 calls, 1 s steps: a smoke run")
    options = parser.parse_args()
    if options.quick:
        options.calls = "1000"
        options.duration_ms = 1000
        options.max_steps = 10
    options.calls = [int(c) for c in str(options.calls).split(",") if c]
    only = set(options.only.split(","))
    if os.geteuid() != 0:
        log("needs root (DPDK memory, memif sockets, raised file limits)")
        return 2
    if (os.cpu_count() or 1) < 2:
        log("needs 2 cores: one relays, one generates")
        return 2

    bench = Bench(options)
    context = context_info(options, bench.repo)
    for tool in ("relay_gen", "udp_gen", "ng_calls"):
        if not (bench.tools / tool).exists():
            log(f"{bench.tools / tool} is not built")
            return 2
    context["load_before"] = os.getloadavg()[0]
    if context["load_before"] > 1.5:
        log(f"load average is {context['load_before']:.1f}: other work shares the cores, numbers will be noisy")

    def on_signal(*_):
        bench.cleanup()
        sys.exit(130)

    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    try:
        cases = []
        if "testpmd" in only:
            cases.append(("testpmd io forwarding (ceiling)", "testpmd", bench.run_testpmd, max(options.calls)))
        for calls in options.calls:
            if "tandem" in only:
                cases.append((f"tandem-dataplane, {calls} calls", "tandem", bench.run_tandem, calls))
            if "rtpengine" in only:
                cases.append((f"rtpengine, {calls} calls", "rtpengine", bench.run_rtpengine, calls))
        for title, relay, run, calls in cases:
            log(title)
            try:
                run(calls)
            except (OSError, subprocess.SubprocessError, ValueError) as problem:
                bench.row(relay, calls, error=f"{type(problem).__name__}: {problem}")
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        bench.cleanup()
    context["load_after"] = os.getloadavg()[0]
    context["busy"] = min(context["load_before"], context["load_after"]) > 1.5

    # testpmd first, then per call count tandem before rtpengine.
    order = {"testpmd": 0, "tandem": 1, "rtpengine": 2}
    rows = sorted(bench.rows, key=lambda r: (r["relay"] != "testpmd", r["calls"], order.get(r["relay"], 9)))
    table = render(rows, context)
    bench.out_dir.mkdir(parents=True, exist_ok=True)
    (bench.out_dir / "relay.md").write_text(table)
    (bench.out_dir / "relay.json").write_text(json.dumps({"context": context, "rows": rows, "raw": bench.raw},
                                                         indent=1, default=str))
    print(table, end="")
    log(f"done in {time.monotonic() - started:.0f} s; table in {bench.out_dir / 'relay.md'}, "
        f"steps in {bench.out_dir / 'relay.json'}, logs in {bench.log_dir}")
    return 0 if any(r.get("pps") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
