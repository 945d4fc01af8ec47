"""The whole appliance as `tools/tandem run` starts it, on the default config.

The supervisor runs inside a network namespace made for the test, so the
default ports (SIP 5060, ng 2223, metrics 9480/9481) and the TAP interface
`tandem0` with 192.0.2.0/24 never touch the host.
"""

import re
import signal
import sys

from conftest import REPO, have, wait_for

SIPP_OPTIONS = REPO / "tests" / "integration" / "scenarios" / "options.xml"


def ng_request(ns, payload, port=2223):
    """Sends one ng datagram from inside the namespace; returns the reply bytes."""
    code = (
        "import socket,sys\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(2)\n"
        f"s.sendto({payload!r},('127.0.0.1',{port}))\n"
        "sys.stdout.write(s.recvfrom(65536)[0].decode('latin-1'))\n"
    )
    return ns.run(sys.executable, "-c", code).stdout


def scrape(ns, port):
    return ns.run("curl", "-sf", f"http://127.0.0.1:{port}/metrics").stdout


def metric_value(text, name, labels=""):
    pattern = re.escape(name) + (r"\{[^}]*" + labels + r"[^}]*\}" if labels else r"(\{[^}]*\})?") + r" ([0-9.e+-]+)"
    match = re.search(pattern, text)
    return float(match.group(match.lastindex)) if match else None




def test_default_appliance_answers_everything_and_stops_cleanly(netns, appliance):
    proc, log_path = appliance
    output = log_path.read_text()
    assert "SIP listens on udp:0.0.0.0:5060" in output
    assert "SIP listens on tcp:0.0.0.0:5060" in output
    assert "http://127.0.0.1:9480/metrics" in output
    assert "http://127.0.0.1:9481/metrics" in output

    # ng control: ping -> pong, with the cookie echoed.
    assert ng_request(netns, b"abc123 d7:command4:pinge") == "abc123 d6:result4:ponge"

    # ARP and ICMP answered by DPDK on the TAP (the supervisor gave the
    # kernel side 192.0.2.1/24).
    netns.run("ping", "-c", "3", "-W", "2", "192.0.2.2")
    neighbours = netns.run("ip", "neigh", "show", "192.0.2.2").stdout
    assert re.search(r"lladdr ([0-9a-f]{2}:){5}[0-9a-f]{2}", neighbours), neighbours

    # SIP OPTIONS over UDP and TCP, with SIPp.
    if have("sipp"):
        for transport in ("u1", "t1"):
            result = netns.run("sipp", "-sf", SIPP_OPTIONS, "-m", "3", "-r", "10", "-t", transport,
                               "-timeout", "20s", "-timeout_error", "-nostdin", "127.0.0.1:5060", check=False,
                               cwd="/tmp")
            assert result.returncode == 0, result.stdout + result.stderr

    # Both /metrics endpoints, and the signaling process sees the data plane up.
    signaling = wait_for(lambda: (lambda t: t if metric_value(t, "tandem_media_control_up") == 1 else None)(
        scrape(netns, 9480)), timeout=20, what="tandem_media_control_up 1")
    assert 'tandem_build_info{process="signaling"' in signaling
    assert metric_value(signaling, "tandem_sip_requests_total", 'method="OPTIONS"') >= 6
    dataplane = scrape(netns, 9481)
    assert 'tandem_build_info{process="dataplane"' in dataplane
    assert metric_value(dataplane, "tandem_port_rx_packets_total") > 0

    # Ctrl-C stops everything cleanly.
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0, log_path.read_text()
