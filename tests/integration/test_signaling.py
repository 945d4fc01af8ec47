"""tandem-signaling on its own: SIP over UDP and TCP, metrics, config checks.

Each test runs the process in its own network namespace, listening on
loopback, and drives it with SIPp. No data plane runs unless a test starts
its stand-in (a few lines of Python answering the ng `ping`), so INVITEs get
503 + Retry-After, or 480 "No route" once the stand-in answers.

Every request is counted, also the ones Sofia rejects before the application
sees them (405, 501, 481, 416, 420): tandem_sip_requests_total{method},
tandem_sip_responses_total{method,code}, tandem_sip_requests_rejected_total{method,code},
with unknown method names as method="other".
"""

import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import binary, free_udp_port, wait_for, write_config

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
PYTHON = "/usr/bin/python3"

# A stand-in for the data plane's ng socket: answers every request with
# {result: pong}, echoing the cookie (ng: "<cookie> <bencoded dict>").
FAKE_NG = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    data, peer = s.recvfrom(65536)
    cookie = data.split(b" ", 1)[0]
    s.sendto(cookie + b" d6:result4:ponge", peer)
"""

SCRAPE = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())"


def require_sipp():
    if shutil.which("sipp") is None:
        pytest.skip("sipp not installed (apt package sip-tester)")


class Signaling:
    """A running tandem-signaling inside `ns` with its ports."""

    def __init__(self, ns, processes, tmp_path, ng_port=None, health_interval_ms=200, listen=None):
        self.ns = ns
        self.sip_port = free_udp_port()
        self.metrics_port = free_udp_port()
        self.ng_port = ng_port or free_udp_port()
        listen = listen or [
            {"transport": "udp", "address": "127.0.0.1", "port": self.sip_port},
            {"transport": "tcp", "address": "127.0.0.1", "port": self.sip_port},
        ]
        self.config = write_config(tmp_path / "tandem.yaml", {
            "signaling": {
                "listen": listen,
                "user_agent": "Tandem-it",
                "media_control": {
                    "dataplane": {"address": "127.0.0.1", "port": self.ng_port},
                    "timeout_ms": 100,
                    "retries": 0,
                    "health_interval_ms": health_interval_ms,
                },
            },
            "metrics": {"enabled": True, "signaling": {"address": "127.0.0.1", "port": self.metrics_port}},
            "logging": {"level": "debug"},
        })
        self.proc = processes("signaling", [binary("tandem-signaling"), "--config", self.config], ns=ns)
        wait_for(lambda: "SIP listening on" in self.proc.output() or not self.proc.alive(),
                 what="tandem-signaling to listen")
        assert self.proc.alive(), self.proc.output()

    def metrics(self):
        result = self.ns.run(PYTHON, "-c", SCRAPE, f"http://127.0.0.1:{self.metrics_port}/metrics",
                             check=False, timeout=10)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def metric(self, line_prefix):
        """Value of the first sample whose line starts with line_prefix, or None."""
        for line in self.metrics().splitlines():
            if line.startswith(line_prefix + " "):
                return float(line.split()[-1])
        return None

    def assert_rejected(self, method, code, label=None):
        """The request and its rejection were counted once each (label: the method label)."""
        label = label or method
        rejected = f'tandem_sip_requests_rejected_total{{code="{code}",method="{label}"}}'
        wait_for(lambda: self.metric(rejected) is not None, what=f"{method} {code} counted")
        # Retransmissions are recognised, so one request counts once.
        assert self.metric(rejected) == 1, self.metrics()
        assert self.metric(f'tandem_sip_responses_total{{code="{code}",method="{label}"}}') == 1
        assert self.metric(f'tandem_sip_requests_total{{method="{label}"}}') == 1


def sipp(ns, tmp_path, scenario, port, calls=1, transport="u1", host="127.0.0.1", extra=()):
    """Runs a SIPp client scenario to completion (bounded); returns the CompletedProcess."""
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    args = ["sipp", "-sf", scenario, "-m", calls, "-r", 10, "-l", 1, "-t", transport,
            "-i", host, "-timeout", "20s", "-timeout_error", "-trace_err", "-nostdin", target, *extra]
    return subprocess.run(ns.prefix() + [str(a) for a in args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=False)


def sipp_errors(tmp_path):
    return "\n".join(p.read_text(errors="replace") for p in tmp_path.glob("*_errors.log"))


def assert_sipp_ok(run, tmp_path):
    assert run.returncode == 0, f"sipp exit {run.returncode}\n{run.stdout[-3000:]}\n{sipp_errors(tmp_path)}"


def test_options_over_udp_and_metrics(netns, processes, tmp_path):
    require_sipp()
    sig = Signaling(netns, processes, tmp_path)
    assert_sipp_ok(sipp(netns, tmp_path, SCENARIOS / "options.xml", sig.sip_port, calls=5), tmp_path)
    wait_for(lambda: (sig.metric('tandem_sip_requests_total{method="OPTIONS"}') or 0) >= 5,
             what="OPTIONS counted")
    assert sig.metric('tandem_sip_responses_total{code="200",method="OPTIONS"}') >= 5
    # Nothing answers ng pings in this namespace.
    wait_for(lambda: (sig.metric('tandem_media_control_pings_total{result="timeout"}') or 0) >= 1,
             what="a ping to time out")
    assert sig.metric("tandem_media_control_up") == 0
    assert sig.proc.stop() == 0, sig.proc.output()


def test_options_over_tcp(netns, processes, tmp_path):
    require_sipp()
    sig = Signaling(netns, processes, tmp_path)
    assert_sipp_ok(sipp(netns, tmp_path, SCENARIOS / "options.xml", sig.sip_port, calls=3, transport="t1"),
                   tmp_path)


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_invite_without_data_plane_gets_503_with_retry_after(netns, processes, tmp_path, transport):
    require_sipp()
    sig = Signaling(netns, processes, tmp_path)
    assert_sipp_ok(sipp(netns, tmp_path, SCENARIOS / "invite_503.xml", sig.sip_port, calls=3,
                        transport=transport), tmp_path)
    wait_for(lambda: (sig.metric('tandem_sip_responses_total{code="503",method="INVITE"}') or 0) >= 3,
             what="503s counted")
    assert sig.metric('tandem_sip_requests_total{method="INVITE"}') >= 3
    assert sig.proc.stop() == 0, sig.proc.output()


def test_invite_with_data_plane_up_gets_480_no_route(netns, processes, tmp_path):
    require_sipp()
    ng_port = free_udp_port()
    processes("fake-ng", [PYTHON, "-c", FAKE_NG, ng_port], ns=netns)
    sig = Signaling(netns, processes, tmp_path, ng_port=ng_port)
    wait_for(lambda: sig.metric("tandem_media_control_up") == 1, what="the data plane to be seen up")
    assert sig.metric('tandem_media_control_pings_total{result="ok"}') >= 1
    assert_sipp_ok(sipp(netns, tmp_path, SCENARIOS / "invite_480.xml", sig.sip_port, calls=2), tmp_path)
    assert "No route" in sig.proc.output()


@pytest.mark.parametrize("method", ["REGISTER", "MESSAGE", "SUBSCRIBE", "PUBLISH", "INFO"])
def test_methods_not_implemented_get_405_with_allow(netns, processes, tmp_path, method):
    require_sipp()
    sig = Signaling(netns, processes, tmp_path)
    template = (SCENARIOS / "method_405.xml").read_text()
    scenario = tmp_path / f"{method.lower()}_405.xml"
    scenario.write_text(template.replace("REGISTER", method))
    assert_sipp_ok(sipp(netns, tmp_path, scenario, sig.sip_port), tmp_path)
    # nua answers these itself; they are counted all the same.
    sig.assert_rejected(method, 405)
    assert sig.proc.stop() == 0, sig.proc.output()


@pytest.mark.parametrize("method", ["BYE", "CANCEL"])
def test_out_of_dialog_bye_and_cancel_get_481(netns, processes, tmp_path, method):
    require_sipp()
    sig = Signaling(netns, processes, tmp_path)
    template = (SCENARIOS / "sig_out_of_dialog_481.xml").read_text()
    scenario = tmp_path / f"sig_{method.lower()}_481.xml"
    scenario.write_text(template.replace("BYE", method))
    assert_sipp_ok(sipp(netns, tmp_path, scenario, sig.sip_port), tmp_path)
    sig.assert_rejected(method, 481)
    assert sig.proc.stop() == 0, sig.proc.output()


def udp_request(ns, sig, method, uri, extra_headers=""):
    """Sends one request over UDP from 127.0.0.1:5999; returns the response text."""
    request = (f"{method} {uri} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-it-{method.lower()}\r\n"
               "From: <sip:it@127.0.0.1>;tag=it1\r\nTo: <sip:x@127.0.0.1>\r\n"
               f"Call-ID: {method.lower()}-1@it\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\n{extra_headers}"
               "Content-Length: 0\r\n\r\n")
    client = ("import socket, sys\n"
              "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)\n"
              "s.bind(('127.0.0.1', 5999)); s.sendto(sys.argv[1].encode(), ('127.0.0.1', int(sys.argv[2])))\n"
              "print(s.recv(65536).decode())\n")
    result = ns.run(PYTHON, "-c", client, request, sig.sip_port, check=False, timeout=20)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_unknown_method_gets_501(netns, processes, tmp_path):
    """RFC 3261 8.2.1: a method the UAS does not recognise is 501, not 405."""
    sig = Signaling(netns, processes, tmp_path)
    response = udp_request(netns, sig, "FROBNICATE", f"sip:x@127.0.0.1:{sig.sip_port}")
    assert response.startswith("SIP/2.0 501"), response
    # Counted under "other": peers cannot invent label values.
    sig.assert_rejected("FROBNICATE", 501, label="other")
    assert "FROBNICATE" not in sig.metrics()
    assert sig.proc.stop() == 0, sig.proc.output()


@pytest.mark.parametrize("uri, headers, code", [
    ("mailto:x@127.0.0.1", "", 416),                      # RFC 3261 8.2.2.1
    ("sip:x@127.0.0.1", "Require: frobnication\r\n", 420),  # RFC 3261 8.2.2.3
])
def test_options_rejected_by_the_stack_are_counted(netns, processes, tmp_path, uri, headers, code):
    sig = Signaling(netns, processes, tmp_path)
    response = udp_request(netns, sig, "OPTIONS", uri, headers)
    assert response.startswith(f"SIP/2.0 {code}"), response
    sig.assert_rejected("OPTIONS", code)


def test_ipv6_listener(netns, processes, tmp_path):
    require_sipp()
    if netns.run("ip", "-6", "addr", "show", "dev", "lo", check=False).stdout.find("::1") < 0:
        pytest.skip("no IPv6 on loopback")
    port = free_udp_port()
    sig = Signaling(netns, processes, tmp_path, listen=[
        {"transport": "udp", "address": "::1", "port": port},
        {"transport": "tcp", "address": "::1", "port": port},
    ])
    assert f"udp [::1]:{port}" in sig.proc.output()
    assert_sipp_ok(sipp(netns, tmp_path, SCENARIOS / "options.xml", port, host="::1"), tmp_path)
    assert_sipp_ok(sipp(netns, tmp_path, SCENARIOS / "options.xml", port, host="::1", transport="t1"), tmp_path)


def test_port_in_use_fails_at_start(netns, processes, tmp_path):
    first = Signaling(netns, processes, tmp_path)
    config = write_config(tmp_path / "second.yaml", {
        "signaling": {"listen": [{"transport": "udp", "address": "127.0.0.1", "port": first.sip_port}]},
        "metrics": {"enabled": False},
    })
    result = netns.run(binary("tandem-signaling"), "--config", config, check=False, timeout=30)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"127.0.0.1:{first.sip_port}" in result.stdout + result.stderr


def test_sigterm_exits_zero(netns, processes, tmp_path):
    sig = Signaling(netns, processes, tmp_path)
    sig.proc.proc.send_signal(signal.SIGTERM)
    assert sig.proc.proc.wait(timeout=15) == 0, sig.proc.output()
    assert "stopped" in sig.proc.output()


def test_check_config_good_and_bad(tmp_path):
    good = write_config(tmp_path / "good.yaml")
    result = subprocess.run([binary("tandem-signaling"), "--check-config", good], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{good}: ok"

    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("user_agent:", "user_agnet:"))
    result = subprocess.run([binary("tandem-signaling"), "--check-config", bad], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(rf"{re.escape(str(bad))}:\d+: .*user_agnet", result.stderr), result.stderr

    missing = tmp_path / "missing.yaml"
    result = subprocess.run([binary("tandem-signaling"), "--check-config", missing], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert str(missing) in result.stderr


def test_version(tmp_path):
    result = subprocess.run([binary("tandem-signaling"), "--version"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0
    assert result.stdout.startswith("tandem-signaling ")
