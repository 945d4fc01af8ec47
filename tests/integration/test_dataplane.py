"""tandem-dataplane as a real process on a net_tap port inside a network
namespace: the kernel on the other side of the tap is the peer. It must
answer ARP, ICMP echo (v4 and v6, with neighbour discovery), ng ping over
UDP, export port and worker counters on /metrics, and exit 0 on SIGTERM.
"""

import re
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import binary, have, wait_for, write_config

CONTROL_PORT = 2223
METRICS_PORT = 9481
OUR_IPV4 = "192.0.2.2"
PEER_IPV4 = "192.0.2.1"
OUR_IPV6 = "2001:db8::2"
PEER_IPV6 = "2001:db8::1"

# Runs inside the namespace: one ng request over UDP, prints the reply.
# The bencode is written by hand on purpose: the test does not trust our codec.
NG_PING = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for attempt in range(5):
    s.sendto(b"it%d d7:command4:pinge" % attempt, ("127.0.0.1", int(sys.argv[1])))
    try:
        print(s.recv(4096).decode())
        break
    except socket.timeout:
        pass
"""

SCRAPE = r"""
import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())
"""


def in_ns(ns, code, *args):
    return ns.run("/usr/bin/python3", "-c", code, *args, check=False)


def metric(text, name, labels):
    match = re.search(r"^%s\{%s\} (\S+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return float(match.group(1)) if match else None


def start_dataplane(netns, processes, tmp_path, lcores):
    iface = "tdp" + uuid.uuid4().hex[:8]
    config = write_config(tmp_path / "tandem.yaml", {
        "dataplane": {
            "eal": {"lcores": lcores, "file_prefix": "it-" + iface},
            "ports": [{
                "name": "media0",
                "device": f"net_tap0,iface={iface}",
                "ipv4": OUR_IPV4,
                "ipv4_prefix": 24,
                "ipv6": OUR_IPV6,
                "ipv6_prefix": 64,
            }],
            "control": {"address": "127.0.0.1", "port": CONTROL_PORT},
        },
        "metrics": {"enabled": True, "dataplane": {"address": "127.0.0.1", "port": METRICS_PORT}},
    })
    dataplane = processes("dataplane", [binary("tandem-dataplane"), "--config", config], ns=netns)
    wait_for(lambda: "ready" in dataplane.output() or not dataplane.alive(), what="the data plane to start")
    assert dataplane.alive(), dataplane.output()
    # The PMD created the tap and set it up; its address is ours to give.
    netns.run("ip", "addr", "add", f"{PEER_IPV4}/24", "dev", iface)
    netns.run("ip", "-6", "addr", "add", f"{PEER_IPV6}/64", "dev", iface, "nodad")
    netns.run("ip", "link", "set", iface, "up")
    return dataplane, iface


@pytest.mark.parametrize("lcores", ["0-1", "0"], ids=["worker-lcore", "main-lcore-only"])
def test_dataplane_on_tap(netns, processes, tmp_path, lcores):
    dataplane, iface = start_dataplane(netns, processes, tmp_path, lcores)
    log = dataplane.output()
    assert f"ng control listening on udp 127.0.0.1:{CONTROL_PORT}" in log
    assert f"http://127.0.0.1:{METRICS_PORT}/metrics" in log
    mac = re.search(r"media port media0 .*mac ([0-9a-f:]{17}), ipv4 192\.0\.2\.2/24", log)
    assert mac, log
    mac = mac.group(1)

    ping = netns.run("ping", "-c", "3", "-i", "0.2", "-W", "2", OUR_IPV4, check=False)
    assert ping.returncode == 0, ping.stdout + ping.stderr + dataplane.output()
    neighbour = netns.run("ip", "neigh", "show", OUR_IPV4, "dev", iface)
    assert mac in neighbour.stdout.lower(), neighbour.stdout

    if have("arping"):
        arping = netns.run("arping", "-c", "2", "-w", "5", "-I", iface, OUR_IPV4, check=False)
        assert arping.returncode == 0, arping.stdout + arping.stderr
        assert mac in arping.stdout.lower(), arping.stdout

    ping6 = netns.run("ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", OUR_IPV6, check=False)
    assert ping6.returncode == 0, ping6.stdout + ping6.stderr
    neighbour6 = netns.run("ip", "-6", "neigh", "show", OUR_IPV6, "dev", iface)
    assert mac in neighbour6.stdout.lower(), neighbour6.stdout

    reply = in_ns(netns, NG_PING, CONTROL_PORT)
    assert re.fullmatch(r"it\d d6:result4:ponge", reply.stdout.strip()), reply.stdout + reply.stderr

    scrape = in_ns(netns, SCRAPE, METRICS_PORT)
    assert scrape.returncode == 0, scrape.stderr
    text = scrape.stdout
    assert "tandem_build_info{" in text
    assert metric(text, "tandem_port_rx_packets_total", 'port="media0"') > 0
    assert metric(text, "tandem_port_tx_packets_total", 'port="media0"') > 0
    assert metric(text, "tandem_port_link_up", 'port="media0"') == 1
    worker_lcore = "1" if lcores == "0-1" else "0"
    assert metric(text, "tandem_worker_icmp_echo_replies_total", f'lcore="{worker_lcore}"') >= 1
    assert metric(text, "tandem_worker_arp_replies_total", f'lcore="{worker_lcore}"') >= 1
    assert metric(text, "tandem_worker_neighbor_advertisements_total", f'lcore="{worker_lcore}"') >= 1

    returncode = dataplane.stop()
    final_log = Path(dataplane.log_path).read_text(errors="replace")
    assert returncode == 0, final_log
    assert "stopping" in final_log


def test_unknown_ng_command_is_an_error(netns, processes, tmp_path):
    start_dataplane(netns, processes, tmp_path, "0-1")
    code = NG_PING.replace('d7:command4:pinge', 'd7:command5:dancee')
    reply = in_ns(netns, code, CONTROL_PORT)
    assert "d12:error-reason20:Unrecognized command6:result5:errore" in reply.stdout, reply.stdout + reply.stderr


def test_check_config(tmp_path):
    good = write_config(tmp_path / "good.yaml")
    result = subprocess.run([binary("tandem-dataplane"), "--check-config", "--config", good],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

    bad = tmp_path / "bad.yaml"
    bad.write_text("dataplane:\n  burst_size: 100000\n")
    result = subprocess.run([binary("tandem-dataplane"), "--check-config", "--config", bad],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "bad.yaml:2" in result.stderr and "burst_size" in result.stderr, result.stderr


def test_version():
    result = subprocess.run([binary("tandem-dataplane"), "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("tandem-dataplane ")
