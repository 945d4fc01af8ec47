"""Kamailio anchoring media in an rtpengine-compatible relay, end to end.

Inside one network namespace: Kamailio (deploy/kamailio/kamailio.cfg, the
stock `rtpengine` module) proxies SIPp calls from a UAC to a UAS and hands
each SDP to a relay over the ng protocol. The UAC plays PCMU from a pcap to
the address the answer gives (the relay's), the UAS echoes every packet
back, so RTP crosses the relay in both directions. The relay is a
parameter: `rtpengine` (rtpengine-daemon in userspace, the reference that
proves the harness) and `tandem` (tandem-dataplane behind a net_tap).

  SIP:  UAC 127.0.0.1:UAC  ->  Kamailio 127.0.0.1:K  ->  UAS 127.0.0.1:UAS
  ng:   Kamailio -> 127.0.0.1:NG (the relay's control socket)
  RTP:  UAC 192.0.2.11 <-> relay 192.0.2.2 <-> UAS 192.0.2.12

rtpengine runs on the kernel's stack, so its RTP is local traffic and the
capture is on `lo` (which holds the 192.0.2.x addresses); the data plane
owns 192.0.2.2 behind its tap, so the capture is on the tap. Either way,
the test asserts what an operator would: the calls complete, RTP reaches
both endpoints from the relay and never directly, the relay's ng `query`
counts packets on both call legs while the call is up, the call is gone
from the relay after the BYE (Kamailio sent `delete`), and for tandem its
tandem_relay_forwarded_total on /metrics covers what the capture saw.
"""

import re
import shutil
import uuid
from pathlib import Path

import pytest

from conftest import BUILD, free_udp_port, wait_for
from media_helpers import (RELAY_IPV4, UAC_MEDIA_IPV4, UAS_MEDIA_IPV4, Capture, add_media_addresses,
                           copy_scenarios, ng_request, run_id, run_sipp, sipp_report, start_kamailio,
                           start_rtpengine, start_tandem_dataplane, stop_sipp, stream_packets, udp_listening,
                           write_rtp_pcap)

CALLS = 2
MEDIA_SECONDS = 2.0
UAC_SCENARIO = "kamailio_uac_rtp.xml"
UAS_SCENARIO = "kamailio_uas_rtp_echo.xml"
UAC_MEDIA_PORT = 16000
UAS_MEDIA_PORT = 18000
# Bounds, not expectations: a run takes about 6 s.
SIPP_TIMEOUT_S = 30

SCRAPE = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())"


def require(program, package):
    if shutil.which(program) is None:
        pytest.skip(f"{program} not installed (apt package {package})")


def tandem_dataplane_binary():
    """The data plane from TANDEM_BUILD_DIR (or build/); fails when it is not built."""
    candidate = Path(BUILD) / "dataplane" / "tandem-dataplane"
    if not candidate.exists():
        pytest.fail(f"tandem-dataplane is not built in {BUILD} (set TANDEM_BUILD_DIR)")
    return candidate


class Relay:
    """The media relay under test and where its traffic can be seen."""

    def __init__(self, kind, ng_port, capture_iface, proc, metrics_port=None):
        self.kind = kind
        self.ng_port = ng_port
        self.capture_iface = capture_iface
        self.proc = proc
        self.metrics_port = metrics_port


@pytest.fixture(params=["rtpengine", "tandem"])
def relay(request, netns, processes, tmp_path):
    ng_port = free_udp_port()
    if request.param == "rtpengine":
        require("rtpengine", "rtpengine-daemon")
        # The media addresses are the namespace's own (on lo; no dummy
        # interfaces without the dummy kernel module): rtpengine binds 192.0.2.2.
        add_media_addresses(netns, "lo", relay_on_iface=True)
        proc = start_rtpengine(netns, processes, ng_port)
        return Relay("rtpengine", ng_port, "lo", proc)
    iface = "tkm" + uuid.uuid4().hex[:8]
    metrics_port = free_udp_port()
    proc = start_tandem_dataplane(netns, processes, tmp_path, tandem_dataplane_binary(), ng_port,
                                  metrics_port, iface)
    return Relay("tandem", ng_port, iface, proc, metrics_port)


def successful_calls(stats_csv):
    """SuccessfulCall(C) from the last line of a SIPp -trace_stat file."""
    lines = [line for line in Path(stats_csv).read_text(errors="replace").splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    header, last = lines[0].split(";"), lines[-1].split(";")
    column = header.index("SuccessfulCall(C)")
    return int(last[column])


def count(packets, src=None, dst=None):
    """Packets whose (ip, port) ends match; a None end or port matches anything."""

    def match(ip, port, want):
        return want is None or (ip == want[0] and (want[1] is None or port == want[1]))

    return sum(1 for s_ip, s_port, d_ip, d_port, _ in packets
               if match(s_ip, s_port, src) and match(d_ip, d_port, dst))


def kamailio_summary(text, chars=6000):
    """Kamailio's log lines from INFO up; the debug lines and the messages
    they dump stay in the log file in tmp_path."""
    levels = re.compile(r"^\s*\d+\(\d+\) (INFO|NOTICE|WARNING|ERROR|CRITICAL|ALERT|BUG):")
    return "\n".join(line for line in text.splitlines() if levels.match(line))[-chars:]


def sum_metric(text, name):
    values = [float(v) for v in re.findall(r"^%s(?:\{[^}]*\})? (\S+)$" % re.escape(name), text, re.M)]
    return sum(values) if values else None


def test_call_media_through_relay(relay, netns, processes, tmp_path):
    require("kamailio", "kamailio")
    require("sipp", "sip-tester")
    require("dumpcap", "tshark")

    kamailio_port, uac_port, uas_port = free_udp_port(), free_udp_port(), free_udp_port()
    kamailio = start_kamailio(netns, processes, tmp_path, kamailio_port, relay.ng_port)

    copy_scenarios(tmp_path, [UAC_SCENARIO, UAS_SCENARIO])
    packets_per_call = write_rtp_pcap(tmp_path / "rtp_pcmu.pcap", seconds=MEDIA_SECONDS)

    capture = Capture(netns, relay.capture_iface, tmp_path / "media.pcap", "udp and net 192.0.2.0/24")

    uas = run_sipp(netns, tmp_path, "uas", [
        "-sf", UAS_SCENARIO, "-i", "127.0.0.1", "-p", uas_port,
        "-mi", UAS_MEDIA_IPV4, "-mp", UAS_MEDIA_PORT, "-rtp_echo", "-m", CALLS,
    ], SIPP_TIMEOUT_S)
    wait_for(lambda: uas.poll() is not None or udp_listening(netns, "127.0.0.1", uas_port),
             timeout=10, what="the SIPp UAS to listen")

    call_prefix = "km-" + run_id()
    uac = run_sipp(netns, tmp_path, "uac", [
        "-sf", UAC_SCENARIO, "-i", "127.0.0.1", "-p", uac_port,
        "-mi", UAC_MEDIA_IPV4, "-mp", UAC_MEDIA_PORT,
        "-key", "callee", f"sip:uas@127.0.0.1:{uas_port}",
        "-cid_str", f"{call_prefix}-%u@tandem.test",
        "-m", CALLS, "-l", CALLS, "-r", "2",
        f"127.0.0.1:{kamailio_port}",
    ], SIPP_TIMEOUT_S)

    # While the first call is up, the relay must count packets on both of
    # its legs. Polled until both are seen or the caller is done: bounded by
    # the SIPp timeout.
    first_call = {"command": "query", "call-id": f"{call_prefix}-1@tandem.test", "from-tag": "uac-1"}
    best = {}
    replies = []

    def both_legs_counted():
        nonlocal best
        reply = ng_request(netns, relay.ng_port, first_call)
        replies.append(reply)
        packets = stream_packets(reply)
        if sum(packets.values()) >= sum(best.values()):
            best = packets
        return len(packets) >= 2 and all(v > 0 for v in packets.values()) or uac.poll() is not None

    wait_for(both_legs_counted, timeout=SIPP_TIMEOUT_S, interval=0.3, what="an ng query during the call")

    uac_rc = stop_sipp(uac, SIPP_TIMEOUT_S)
    # A failed caller leaves the callee waiting for calls that never come.
    uas_rc = stop_sipp(uas, 15 if uac_rc == 0 else 2)
    packets = capture.stop()
    report = (f"relay={relay.kind}\n" + sipp_report(tmp_path, "uac") + "\n" + sipp_report(tmp_path, "uas")
              + "\n--- kamailio\n" + kamailio_summary(kamailio.output()) + f"\n--- {relay.kind}\n"
              + relay.proc.output()[-6000:] + f"\n--- last query replies\n{replies[-3:]}")

    # Signalling: every call set up and torn down through Kamailio.
    assert uac_rc == 0, f"SIPp UAC exit {uac_rc}\n{report}"
    assert uas_rc == 0, f"SIPp UAS exit {uas_rc}\n{report}"
    assert successful_calls(tmp_path / "uac_stats.csv") == CALLS, report

    # SDP: each side was told to send its media to the relay.
    uac_log = (tmp_path / "uac_actions.log").read_text(errors="replace")
    uas_log = (tmp_path / "uas_actions.log").read_text(errors="replace")
    assert len(re.findall(r"media to (\S+)", uac_log)) == CALLS, uac_log
    assert set(re.findall(r"media to (\S+)", uac_log)) == {RELAY_IPV4}, uac_log
    assert set(re.findall(r"asks for media at (\S+)", uas_log)) == {RELAY_IPV4}, uas_log

    # Media: anchored in the relay in both directions, never end to end.
    uac_to_relay = count(packets, src=(UAC_MEDIA_IPV4, UAC_MEDIA_PORT), dst=(RELAY_IPV4, None))
    relay_to_uas = count(packets, src=(RELAY_IPV4, None), dst=(UAS_MEDIA_IPV4, UAS_MEDIA_PORT))
    uas_to_relay = count(packets, src=(UAS_MEDIA_IPV4, UAS_MEDIA_PORT), dst=(RELAY_IPV4, None))
    relay_to_uac = count(packets, src=(RELAY_IPV4, None), dst=(UAC_MEDIA_IPV4, UAC_MEDIA_PORT))
    direct = (count(packets, src=(UAC_MEDIA_IPV4, None), dst=(UAS_MEDIA_IPV4, None))
              + count(packets, src=(UAS_MEDIA_IPV4, None), dst=(UAC_MEDIA_IPV4, None)))
    counts = (f"sent per call {packets_per_call}, calls {CALLS}: uac->relay {uac_to_relay}, "
              f"relay->uas {relay_to_uas}, uas->relay {uas_to_relay}, relay->uac {relay_to_uac}, "
              f"direct {direct}")
    print(counts)
    print(f"ng query, packets per tag: {best}")
    assert uac_to_relay >= packets_per_call * CALLS, counts + "\n" + report
    assert relay_to_uas > 0, counts + "\n" + report
    assert uas_to_relay > 0, counts + "\n" + report
    assert relay_to_uac > 0, counts + "\n" + report
    assert direct == 0, counts
    # Local delivery loses nothing, but a relay may drop a call's first
    # packets while it latches or resolves the peer's link address: most,
    # not all, of the played audio must come through.
    assert relay_to_uas * 2 >= uac_to_relay, counts + "\n" + report
    assert relay_to_uac * 2 >= uas_to_relay, counts + "\n" + report

    # ng query during the call: both legs (from-tag and to-tag) counted.
    assert set(best) == {"uac-1", "uas-1"}, f"tags seen by query: {best}\n{report}"
    assert all(v > 0 for v in best.values()), f"packets per tag: {best}\n{report}"

    # After the BYE, Kamailio's delete removed the call from the relay.
    gone = ng_request(netns, relay.ng_port, first_call)
    assert gone is not None, "the relay stopped answering ng"
    assert gone.get("result") != "ok", f"call still known after BYE: {gone}"

    if relay.kind == "tandem":
        scrape = netns.run("/usr/bin/python3", "-c", SCRAPE, f"http://127.0.0.1:{relay.metrics_port}/metrics",
                           check=False, timeout=10)
        assert scrape.returncode == 0, scrape.stderr
        nonzero = [line for line in scrape.stdout.splitlines()
                   if re.match(r"tandem_(relay|worker_dropped)_\w+(\{[^}]*\})? [1-9]", line)]
        print("data plane counters:\n" + "\n".join(nonzero))
        forwarded = sum_metric(scrape.stdout, "tandem_relay_forwarded_total")
        assert forwarded is not None, "no tandem_relay_forwarded_total on /metrics"
        assert forwarded >= relay_to_uas + relay_to_uac, counts + f", forwarded {forwarded}"

    assert kamailio.alive(), kamailio.output()
    assert relay.proc.alive(), relay.proc.output()
