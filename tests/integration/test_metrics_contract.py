"""The metrics both processes export match deploy/metrics.md.

The whole appliance runs on the default config inside a network namespace
(as in test_appliance.py); one media session goes through the data plane
over ng (offer, answer, delete) and two SIP requests reach the signaling
process (an OPTIONS answered 200 and an INVITE answered 480), so families
created on first use exist. Then both /metrics endpoints are scraped and
checked by tools/lib/metrics_contract.py: every family documented, every
documented family exported, same type and labels, Prometheus naming
conventions, and nothing that identifies a call in any series.
"""

import re
import sys
import uuid

import pytest

from conftest import REPO, wait_for
from ng import NgClient

sys.path.insert(0, str(REPO / "tools" / "lib"))
import metrics_contract  # noqa: E402

CONTRACT = REPO / "deploy" / "metrics.md"
SIGNALING_PORT = 9480
DATAPLANE_PORT = 9481
# Events of the "appears" column that this test triggers before scraping.
TRIGGERED = ("sip_request", "sip_rejected")

OFFER = ("v=0\r\no=alice 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
         "m=audio {port} RTP/AVP 0\r\na=sendrecv\r\n")




def scrape(netns, port):
    return netns.run("curl", "-sf", f"http://127.0.0.1:{port}/metrics").stdout


def sip_transaction(sock, method, call_id, tag, cseq=1):
    """Sends one SIP request over UDP to 127.0.0.1:5060; returns the final
    status code (provisional responses skipped; ACKs a non-2xx INVITE answer)."""
    local_port = sock.getsockname()[1]
    branch = "z9hG4bK" + uuid.uuid4().hex[:16]
    headers = (f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch={branch};rport\r\n"
               f"Max-Forwards: 70\r\n"
               f"From: <sip:contract@127.0.0.1>;tag={tag}\r\n"
               f"To: <sip:nobody@127.0.0.1>\r\n"
               f"Call-ID: {call_id}\r\n")
    request = (f"{method} sip:nobody@127.0.0.1 SIP/2.0\r\n{headers}CSeq: {cseq} {method}\r\n"
               f"Contact: <sip:contract@127.0.0.1:{local_port}>\r\nContent-Length: 0\r\n\r\n")
    sock.sendto(request.encode(), ("127.0.0.1", 5060))
    for _ in range(20):
        reply = sock.recvfrom(65536)[0].decode("utf-8", "replace")
        status = int(reply.split(" ", 2)[1])
        if status < 200:
            continue
        if method == "INVITE" and status >= 300:
            to = re.search(r"^(To|t):\s*(.*)$", reply, re.M | re.I).group(2).strip()
            ack = (f"ACK sip:nobody@127.0.0.1 SIP/2.0\r\n{headers.replace('To: <sip:nobody@127.0.0.1>', 'To: ' + to)}"
                   f"CSeq: {cseq} ACK\r\nContent-Length: 0\r\n\r\n")
            sock.sendto(ack.encode(), ("127.0.0.1", 5060))
        return status
    pytest.fail(f"no final response to {method}")


def test_exported_metrics_match_the_contract(netns, appliance, tmp_path):
    call_id = "contract-call-" + uuid.uuid4().hex[:8]
    from_tag, to_tag = "contract-from-" + uuid.uuid4().hex[:6], "contract-to-" + uuid.uuid4().hex[:6]

    # Wait for signaling to see the data plane, as the alert rules assume.
    wait_for(lambda: re.search(r"^tandem_media_control_up 1$", scrape(netns, SIGNALING_PORT), re.M),
             timeout=20, what="tandem_media_control_up 1")

    ng = NgClient(sock=netns.socket())
    try:
        offer = ng.request("offer", call_id=call_id, from_tag=from_tag, sdp=OFFER.format(ip="192.0.2.11", port=4000))
        assert offer["result"] == "ok", offer
        answer = ng.request("answer", call_id=call_id, from_tag=from_tag, to_tag=to_tag,
                            sdp=OFFER.format(ip="192.0.2.12", port=5000).replace("alice", "bob"))
        assert answer["result"] == "ok", answer
        deleted = ng.request("delete", call_id=call_id, from_tag=from_tag)
        assert deleted["result"] == "ok", deleted
    finally:
        ng.close()

    sip = netns.socket()
    try:
        sip.bind(("127.0.0.1", 0))
        sip.settimeout(5)
        assert sip_transaction(sip, "OPTIONS", call_id + "-options", from_tag) == 200
        assert 300 <= sip_transaction(sip, "INVITE", call_id, from_tag) <= 699
    finally:
        sip.close()

    texts = {"signaling": wait_for(lambda: (lambda t: t if "tandem_sip_requests_rejected_total" in t else None)(
                 scrape(netns, SIGNALING_PORT)), timeout=10, what="the SIP counters"),
             "dataplane": scrape(netns, DATAPLANE_PORT)}
    for process, text in texts.items():
        (tmp_path / f"{process}.metrics").write_text(text)  # for `metrics_contract.py regenerate`
    scrapes = {process: metrics_contract.parse_exposition(text) for process, text in texts.items()}
    assert scrapes["dataplane"]["tandem_sessions_total"].samples[0][2] not in ("0", "0.0")

    entries, exceptions = metrics_contract.parse_contract(CONTRACT.read_text())
    problems = metrics_contract.check(entries, exceptions, scrapes, TRIGGERED)
    assert not problems, "\n".join(problems) + f"\n(scrapes kept in {tmp_path})"

    # No series names the call: ids and tags never become label values.
    for process, text in texts.items():
        for needle in (call_id, from_tag, to_tag):
            assert needle not in text, f"{process} exports {needle!r}"


def test_the_checker_catches_drift():
    """The checker itself: an undocumented family, a wrong type, a missing
    family, a bad name and a per-call label are all reported."""
    entries, exceptions = metrics_contract.parse_contract(CONTRACT.read_text())
    text = "\n".join([
        "# HELP tandem_sessions x", "# TYPE tandem_sessions counter", "tandem_sessions 1",
        "# HELP tandem_new_thing x", "# TYPE tandem_new_thing gauge", 'tandem_new_thing{call_id="a"} 1',
        "# HELP tandem_calls x", "# TYPE tandem_calls counter", "tandem_calls 1",
    ])
    problems = "\n".join(metrics_contract.check(entries, exceptions,
                                                {"dataplane": metrics_contract.parse_exposition(text)}))
    assert "tandem_new_thing (gauge) is exported but not documented" in problems
    assert "tandem_sessions is a counter, documented as gauge" in problems
    assert "tandem_ports_free is documented but not exported" in problems
    assert "tandem_calls: a counter ends in _total" in problems
    assert "label call_id takes per-call" in problems
    # A family documented as appearing after an event is only required once
    # the event happened.
    assert "tandem_sip_requests_rejected_total" not in "\n".join(
        metrics_contract.check(entries, exceptions, {"signaling": {}}))
    assert "tandem_sip_requests_rejected_total is documented but not exported" in "\n".join(
        metrics_contract.check(entries, exceptions, {"signaling": {}}, ["sip_rejected"]))


def test_regenerating_from_the_documented_families_changes_nothing():
    """The table round-trips: regenerate() on scrapes shaped like the
    document reproduces the document (so a regenerate after a code change
    shows only the real change in the diff)."""
    text = CONTRACT.read_text()
    entries, _ = metrics_contract.parse_contract(text)
    scrapes = {p: {} for p in metrics_contract.PROCESSES}
    for name, documented in entries.items():
        if documented.appears:
            continue
        for process in documented.processes:
            item = metrics_contract.family(name, documented.type, documented.meaning)
            item.samples.append((name, {label: "x" for label in documented.labels}, "1"))
            scrapes[process][name] = item
    assert metrics_contract.regenerate(text, scrapes) == text
