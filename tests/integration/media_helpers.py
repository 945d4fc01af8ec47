"""Helpers for media tests: a relay (rtpengine or tandem-dataplane) behind
Kamailio, SIPp endpoints that send RTP, captures that count it, and a
hand-written ng client.

Everything here runs programs inside a test's network namespace (conftest's
NetNs) and keeps every wait bounded. The bencode codec is written here on
purpose: the tests must not trust the project's own codec.
"""

import os
import secrets
import shutil
import signal
import struct
import subprocess
import time
from pathlib import Path

from conftest import REPO, wait_for, write_config

PYTHON = "/usr/bin/python3"
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
KAMAILIO_CFG = REPO / "deploy" / "kamailio" / "kamailio.cfg"

# The media subnet. The relay owns RELAY_IPV4 (rtpengine on a dummy
# interface, or the data plane behind its tap); the kernel side holds the
# other addresses, one per SIPp endpoint, so every RTP packet names who sent it.
RELAY_IPV4 = "192.0.2.2"
KERNEL_IPV4 = "192.0.2.1"
UAC_MEDIA_IPV4 = "192.0.2.11"
UAS_MEDIA_IPV4 = "192.0.2.12"
MEDIA_PREFIX = 24


from ng import bdecode, bencode  # noqa: E402,F401  (one codec for every test)


# Runs inside the namespace: one ng request (hex on argv) over UDP with a few
# bounded retries; prints the reply in hex, or nothing on silence.
_NG_REQUEST = r"""
import socket, sys
host, port, request = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
cookie = request.split(b" ", 1)[0]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
for attempt in range(3):
    s.sendto(request, (host, port))
    try:
        while True:
            reply = s.recv(65536)
            if reply.split(b" ", 1)[0] == cookie:
                print(reply.hex())
                sys.exit(0)
    except socket.timeout:
        pass
"""


def ng_request(ns, port, message, host="127.0.0.1"):
    """Sends one ng command dict to host:port inside ns; the reply dict, or None on silence."""
    cookie = secrets.token_hex(6).encode()
    request = cookie + b" " + bencode(message)
    result = ns.run(PYTHON, "-c", _NG_REQUEST, host, port, request.hex(), check=False, timeout=15)
    text = result.stdout.strip()
    if result.returncode != 0 or not text:
        return None
    reply = bytes.fromhex(text)
    return bdecode(reply.split(b" ", 1)[1])


def ng_ping(ns, port):
    reply = ng_request(ns, port, {"command": "ping"})
    return reply is not None and reply.get("result") == "pong"


def stream_packets(query_reply):
    """{tag: packets received on that tag's streams} from an ng query reply.

    rtpengine's shape: tags -> TAG -> medias -> [ {streams -> [ {stats ->
    {packets}} ]} ]; a stream's stats count what arrived from that side.
    """
    totals = {}
    tags = (query_reply or {}).get("tags") or {}
    for tag, monologue in tags.items():
        count = 0
        for media in monologue.get("medias") or []:
            for stream in media.get("streams") or []:
                count += int((stream.get("stats") or {}).get("packets", 0))
        totals[tag] = count
    return totals


# ---------------------------------------------------------------- RTP pcap

def write_rtp_pcap(path, seconds=2.0, ptime_ms=20, payload_type=0, dst_port=6000):
    """A pcap (Ethernet/IPv4/UDP/RTP) of PCMU silence that SIPp's
    play_pcap_audio replays: it keeps payload and timing and rewrites
    addresses and ports. Returns the number of packets."""
    count = int(seconds * 1000 / ptime_ms)
    samples = 8000 * ptime_ms // 1000
    ssrc = 0x7A4D0001
    src, dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i in range(count):
        rtp = struct.pack("!BBHII", 0x80, (0x80 if i == 0 else 0) | payload_type,
                          i & 0xFFFF, (i * samples) & 0xFFFFFFFF, ssrc) + b"\xff" * samples
        udp = struct.pack("!HHHH", dst_port, dst_port, 8 + len(rtp), 0) + rtp
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0, src, dst)
        checksum = _ip_checksum(header)
        ip = header[:10] + struct.pack("!H", checksum) + header[12:]
        frame = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip + udp
        usec = i * ptime_ms * 1000
        out.append(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)) + frame)
    Path(path).write_bytes(b"".join(out))
    return count


def _ip_checksum(header):
    total = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def read_pcap_udp(path):
    """[(src_ip, src_port, dst_ip, dst_port, udp_payload_len)] of the IPv4/UDP
    packets of a pcap file (Ethernet, Linux cooked v1/v2 or raw IP links)."""
    data = Path(path).read_bytes() if Path(path).exists() else b""
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    offsets = {1: 14, 113: 16, 276: 20, 101: 0, 228: 0}
    if linktype not in offsets:
        raise ValueError(f"{path}: link type {linktype} not handled")
    packets = []
    pos = 24
    while pos + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[pos + 8:pos + 12])[0]
        frame = data[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen
        link = offsets[linktype]
        if linktype == 1:
            ethertype = frame[12:14]
            if ethertype == b"\x81\x00":
                link, ethertype = 18, frame[16:18]
            if ethertype != b"\x08\x00":
                continue
        elif linktype == 113 and frame[14:16] != b"\x08\x00":
            continue
        elif linktype == 276 and frame[0:2] != b"\x08\x00":
            continue
        ip = frame[link:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 0x0F) * 4
        if len(ip) < ihl + 8:
            continue
        sport, dport, length = struct.unpack("!HHH", ip[ihl:ihl + 6])
        packets.append((".".join(map(str, ip[12:16])), sport, ".".join(map(str, ip[16:20])), dport,
                        length - 8))
    return packets


class Capture:
    """dumpcap on one interface of a namespace, writing a pcap file; bounded
    by its own duration limit in case the test never stops it."""

    def __init__(self, ns, iface, path, capture_filter="udp", limit_s=80):
        self.path = Path(path)
        self.log_path = self.path.with_suffix(".log")
        self.log = open(self.log_path, "w")
        self.proc = ns.popen(["dumpcap", "-q", "-i", iface, "-f", capture_filter, "-a", f"duration:{limit_s}",
                              "-P", "-w", str(self.path)],
                             stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        # dumpcap says "Capturing on" once the filter is installed.
        wait_for(lambda: self._started() or self.proc.poll() is not None, timeout=15,
                 what=f"dumpcap to start on {iface}")
        if self.proc.poll() is not None:
            raise RuntimeError("dumpcap failed: " + self.log_path.read_text(errors="replace"))

    def _started(self):
        return "Capturing on" in self.log_path.read_text(errors="replace")

    def stop(self):
        """Ends the capture; the UDP packets it saw (read_pcap_udp)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        return read_pcap_udp(self.path)


# ---------------------------------------------------------------- processes

def udp_listening(ns, address, port):
    result = ns.run("ss", "-Hlun", check=False)
    return f"{address}:{port} " in result.stdout


def add_media_addresses(ns, iface, relay_on_iface=False):
    """Puts the kernel-side media addresses on iface, and the relay's too for
    rtpengine, which runs on the kernel's stack. On `lo` they are host
    addresses (/32): loopback makes a whole prefix local."""
    addresses = [KERNEL_IPV4, UAC_MEDIA_IPV4, UAS_MEDIA_IPV4] + ([RELAY_IPV4] if relay_on_iface else [])
    prefix = 32 if iface == "lo" else MEDIA_PREFIX
    for address in addresses:
        ns.run("ip", "addr", "add", f"{address}/{prefix}", "dev", iface)
    ns.run("ip", "link", "set", iface, "up")


def start_rtpengine(ns, processes, ng_port, port_min=30000, port_max=30099):
    """rtpengine-daemon in userspace only (no kernel table) on RELAY_IPV4,
    which must already be an address in ns; returns its Process."""
    rtpengine = shutil.which("rtpengine") or "/usr/bin/rtpengine"
    proc = processes("rtpengine", [
        rtpengine, "--config-file=none", "--foreground", "--log-stderr", "--log-level=6",
        "--table=-1", f"--interface={RELAY_IPV4}", f"--listen-ng=127.0.0.1:{ng_port}",
        f"--port-min={port_min}", f"--port-max={port_max}", "--delete-delay=0",
    ], ns=ns)
    wait_for(lambda: not proc.alive() or ng_ping(ns, ng_port), timeout=20, what="rtpengine to answer ng ping")
    assert proc.alive(), proc.output()
    return proc


def start_tandem_dataplane(ns, processes, tmp_path, dataplane_binary, ng_port, metrics_port, iface):
    """tandem-dataplane on a net_tap port named iface, owning RELAY_IPV4;
    the kernel side of the tap gets the endpoints' addresses."""
    config = write_config(tmp_path / "tandem.yaml", {
        "dataplane": {
            "eal": {"lcores": "0-1", "file_prefix": "km-" + iface},
            "ports": [{
                "name": "media0",
                "device": f"net_tap0,iface={iface}",
                "ipv4": RELAY_IPV4,
                "ipv4_prefix": MEDIA_PREFIX,
            }],
            "control": {"address": "127.0.0.1", "port": ng_port},
        },
        "metrics": {"enabled": True, "dataplane": {"address": "127.0.0.1", "port": metrics_port}},
        "logging": {"level": "debug"},
    })
    proc = processes("dataplane", [dataplane_binary, "--config", config], ns=ns)
    wait_for(lambda: "ready" in proc.output() or not proc.alive(), timeout=30, what="the data plane to start")
    assert proc.alive(), proc.output()
    add_media_addresses(ns, iface)
    wait_for(lambda: not proc.alive() or ng_ping(ns, ng_port), timeout=15,
             what="tandem-dataplane to answer ng ping")
    assert proc.alive(), proc.output()
    return proc


def start_kamailio(ns, processes, tmp_path, sip_port, ng_port, extra_defines=()):
    """Kamailio in the foreground with deploy/kamailio/kamailio.cfg, SIP on
    127.0.0.1:sip_port and the relay's ng socket at 127.0.0.1:ng_port."""
    run_dir = tmp_path / "kamailio"
    run_dir.mkdir(exist_ok=True)
    args = ["kamailio", "-DD", "-E", "-f", KAMAILIO_CFG, "-Y", run_dir, "-P", run_dir / "kamailio.pid",
            "-w", run_dir, "-m", "64", "-M", "8",
            "-A", f"LISTEN=udp:127.0.0.1:{sip_port}",
            "-A", f'NG_SOCKET="udp:127.0.0.1:{ng_port}"',
            "-A", "WITH_DEBUG"]
    for define in extra_defines:
        args += ["-A", define]
    proc = processes("kamailio", args, ns=ns)
    wait_for(lambda: not proc.alive() or udp_listening(ns, "127.0.0.1", sip_port), timeout=20,
             what="kamailio to listen")
    assert proc.alive(), proc.output()
    return proc


def run_sipp(ns, tmp_path, name, args, timeout_s):
    """Starts sipp in ns (no terminal, logs in tmp_path); returns the Popen."""
    log = open(tmp_path / f"{name}.log", "w")
    return ns.popen(["sipp", "-nostdin", "-trace_err", "-error_file", str(tmp_path / f"{name}_errors.log"),
                     "-trace_logs", "-log_file", str(tmp_path / f"{name}_actions.log"),
                     "-trace_stat", "-stf", str(tmp_path / f"{name}_stats.csv"),
                     "-timeout", f"{timeout_s}s", "-timeout_error"] + [str(a) for a in args],
                    stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True)


def stop_sipp(proc, timeout_s):
    """Waits up to timeout_s for sipp to finish; kills it past that. Its exit code."""
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def sipp_report(tmp_path, name):
    parts = []
    for suffix in (".log", "_errors.log", "_actions.log"):
        path = tmp_path / f"{name}{suffix}"
        if path.exists():
            parts.append(f"--- {path.name}\n" + path.read_text(errors="replace")[-4000:])
    return "\n".join(parts)


def copy_scenarios(tmp_path, names):
    for name in names:
        shutil.copy(SCENARIOS / name, tmp_path / name)


def run_id():
    return f"{int(time.time())}-{secrets.token_hex(3)}"
