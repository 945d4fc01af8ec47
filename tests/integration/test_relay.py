"""tandem-dataplane relaying RTP between kernel peers through its net_tap
port, driven over the ng protocol as Kamailio's rtpengine module would.

Topology, inside a namespace made for the test:
    A 192.0.2.11:4000  --RTP-->  192.0.2.2:X  (data plane)  --RTP--> B 192.0.2.12:5000
    B                  --RTP-->  192.0.2.2:Y                 --RTP--> A
The kernel side of the tap holds .1, .11 and .12; the data plane learns
their MAC through ARP like it would a real next hop.
"""

import re
import socket
import struct
import time
import uuid

import pytest

from conftest import binary, wait_for, write_config
from ng import NgClient

OUR_IPV4 = "192.0.2.2"
A_IP, A_PORT = "192.0.2.11", 4000
B_IP, B_PORT = "192.0.2.12", 5000

OFFER = (
    "v=0\r\no=alice 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    "a=candidate:1 1 UDP 2130706431 {ip} {port} typ host\r\na=sendrecv\r\n"
)


def rtp(sequence, timestamp, ssrc, payload=b"\xff" * 160):
    return struct.pack("!BBHII", 0x80, 0, sequence & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc) + payload


def sdp_port(sdp):
    return int(re.search(r"^m=audio (\d+) ", sdp, re.M).group(1))


@pytest.fixture
def relay(netns, processes, tmp_path):
    iface = "trl" + uuid.uuid4().hex[:8]
    config = write_config(tmp_path / "tandem.yaml", {
        "dataplane": {
            "eal": {"lcores": "0-1", "file_prefix": "it-" + iface},
            "ports": [{"name": "media0", "device": f"net_tap0,iface={iface}", "ipv4": OUR_IPV4,
                       "ipv4_prefix": 24}],
            "control": {"address": "127.0.0.1", "port": 2223},
            "media": {"port_min": 30000, "port_max": 30099, "timeout_s": 30},
        },
        "metrics": {"enabled": True, "dataplane": {"address": "127.0.0.1", "port": 9481}},
    })
    dataplane = processes("dataplane", [binary("tandem-dataplane"), "--config", config], ns=netns)
    wait_for(lambda: "ready" in dataplane.output() or not dataplane.alive(), what="the data plane to start")
    assert dataplane.alive(), dataplane.output()
    for address in ("192.0.2.1/24", f"{A_IP}/24", f"{B_IP}/24"):
        netns.run("ip", "addr", "add", address, "dev", iface)
    netns.run("ip", "link", "set", iface, "up")
    ng = NgClient(sock=netns.socket())
    yield netns, ng, dataplane
    ng.close()


def open_peer(netns, ip, port):
    sock = netns.socket()
    sock.bind((ip, port))
    sock.settimeout(0.5)
    return sock


def receive_all(sock, limit):
    got = []
    try:
        while len(got) < limit:
            data, source = sock.recvfrom(2048)
            got.append((data, source))
    except socket.timeout:
        pass
    return got


def set_up_call(ng, call_id, flags=()):
    offer = ng.request("offer", call_id=call_id, from_tag="tag-a", sdp=OFFER.format(ip=A_IP, port=A_PORT),
                       flags=list(flags), replace=["origin", "session-connection"])
    assert offer["result"] == "ok", offer
    answer = ng.request("answer", call_id=call_id, from_tag="tag-a", to_tag="tag-b",
                        sdp=OFFER.format(ip=B_IP, port=B_PORT).replace("alice", "bob"))
    assert answer["result"] == "ok", answer
    assert "a=candidate" not in offer["sdp"] and f"c=IN IP4 {OUR_IPV4}" in offer["sdp"]
    return sdp_port(answer["sdp"]), sdp_port(offer["sdp"])  # where A sends, where B sends


def warm_up(sender, receiver, destination, tries=20, ssrc=0x0BAD):
    """The first datagrams may be spent resolving the receiver's MAC (ARP).
    Same SSRC as the media that follows, or the relay's SSRC continuity
    would (rightly) map the later stream onto the warm-up's SSRC."""
    for attempt in range(tries):
        sender.sendto(rtp(60000 + attempt, attempt * 160, ssrc), destination)
        if receive_all(receiver, 1):
            return True
    return False


def test_rtp_is_relayed_both_ways_with_rewritten_addresses(relay):
    netns, ng, _ = relay
    a = open_peer(netns, A_IP, A_PORT)
    b = open_peer(netns, B_IP, B_PORT)
    port_for_a, port_for_b = set_up_call(ng, "call-both-ways")
    assert port_for_a != port_for_b and port_for_a % 2 == 0

    assert warm_up(a, b, (OUR_IPV4, port_for_a), ssrc=0xAAAA), "A's RTP never reached B"
    assert warm_up(b, a, (OUR_IPV4, port_for_b), ssrc=0xBBBB), "B's RTP never reached A"

    for sequence in range(100):
        a.sendto(rtp(sequence, sequence * 160, 0xAAAA), (OUR_IPV4, port_for_a))
        b.sendto(rtp(sequence, sequence * 160, 0xBBBB), (OUR_IPV4, port_for_b))
    at_b = receive_all(b, 100)
    at_a = receive_all(a, 100)
    assert len(at_b) == 100 and len(at_a) == 100
    # Each side sees the data plane's address and the other leg's port as
    # the source, and the payload untouched.
    assert {source for _, source in at_b} == {(OUR_IPV4, port_for_b)}
    assert {source for _, source in at_a} == {(OUR_IPV4, port_for_a)}
    assert at_b[-1][0] == rtp(99, 99 * 160, 0xAAAA)

    query = ng.request("query", call_id="call-both-ways")
    assert query["result"] == "ok"
    assert query["totals"]["RTP"]["packets"] >= 200
    stream_a = query["tags"]["tag-a"]["medias"][0]["streams"][0]
    assert stream_a["local port"] == port_for_a and stream_a["stats"]["packets"] >= 100
    assert stream_a["SSRC"] == 0xAAAA
    assert stream_a["packets lost"] == 0

    deleted = ng.request("delete", call_id="call-both-ways", from_tag="tag-a")
    assert deleted["result"] == "ok" and deleted["totals"]["RTP"]["packets"] >= 200
    # After delete the ports forward nothing.
    a.sendto(rtp(500, 0, 0xAAAA), (OUR_IPV4, port_for_a))
    assert receive_all(b, 1) == []
    # The ended streams' quality reached the histograms.
    scrape = netns.run("curl", "-sf", "http://127.0.0.1:9481/metrics").stdout
    assert re.search(r"^tandem_stream_loss_ratio_count 2$", scrape, re.M), scrape
    assert re.search(r"^tandem_jitter_seconds_count 2$", scrape, re.M)
    assert re.search(r"^tandem_packets_lost_total 0$", scrape, re.M)
    assert re.search(r'^tandem_packets_total\{lcore="1"\} [1-9]', scrape, re.M)


def test_latching_follows_a_nat_and_strict_source_blocks_bleed(relay):
    netns, ng, _ = relay
    b = open_peer(netns, B_IP, B_PORT)
    a_behind_nat = open_peer(netns, A_IP, 4100)  # not the SDP's port 4000
    port_for_a, port_for_b = set_up_call(ng, "call-nat", flags=["strict-source"])

    # A speaks from 4100; the relay learns it and B's media goes there.
    assert warm_up(a_behind_nat, b, (OUR_IPV4, port_for_a))
    assert warm_up(b, a_behind_nat, (OUR_IPV4, port_for_b)), "B's media did not follow A's learned address"

    # After the learning window, an attacker's packets to A's port are dropped.
    time.sleep(3.5)
    attacker = open_peer(netns, "192.0.2.1", 4200)
    for sequence in range(10):
        attacker.sendto(rtp(sequence, 0, 0xEEEE), (OUR_IPV4, port_for_a))
    assert all(data[8:12] != struct.pack("!I", 0xEEEE) for data, _ in receive_all(b, 10))
    query = ng.request("query", call_id="call-nat")
    stream_a = query["tags"]["tag-a"]["medias"][0]["streams"][0]
    assert stream_a["endpoint"]["port"] == 4100
    assert stream_a["stats"]["errors"] >= 10


def test_reinvite_moves_media_without_dropping_the_call(relay):
    netns, ng, _ = relay
    a = open_peer(netns, A_IP, A_PORT)
    a_new = open_peer(netns, A_IP, 4200)
    b = open_peer(netns, B_IP, B_PORT)
    port_for_a, port_for_b = set_up_call(ng, "call-move", flags=["asymmetric"])
    assert warm_up(b, a, (OUR_IPV4, port_for_b))
    # Re-INVITE from A: media now at port 4200, on hold (sendonly).
    reoffer = ng.request("offer", call_id="call-move", from_tag="tag-a", to_tag="tag-b",
                         sdp=OFFER.format(ip=A_IP, port=4200).replace("a=sendrecv", "a=sendonly"),
                         flags=["asymmetric"])
    assert reoffer["result"] == "ok" and sdp_port(reoffer["sdp"]) == port_for_b
    assert "a=sendonly" in reoffer["sdp"]
    for sequence in range(5):
        b.sendto(rtp(sequence, 0, 0xBBBB), (OUR_IPV4, port_for_b))
    assert len(receive_all(a_new, 5)) == 5
    assert receive_all(a, 1) == []


def test_garbage_and_malformed_ng_requests_are_counted_not_fatal(relay):
    netns, ng, dataplane = relay
    raw = netns.socket()
    raw.settimeout(1)
    for junk in (b"", b"nocookie", b"c1 d7:command5:offere", b"c2 i12e", b"c3 d3:sdp" + b"9" * 40):
        raw.sendto(junk, ("127.0.0.1", 2223))
    replies = receive_all(raw, 10)
    assert any(b"error" in data for data, _ in replies)
    huge = "v=0\r\n" + "a=x\r\n" * 5000
    reply = ng.request("offer", call_id="bogus", from_tag="x", sdp=huge)
    assert reply["result"] == "error" and "Failed to parse SDP" in reply["error-reason"]
    reply = ng.request("offer", call_id="bogus", from_tag="x",
                       sdp=OFFER.format(ip=A_IP, port=A_PORT).replace("m=audio 4000", "m=audio 99999"))
    assert reply["result"] == "error"
    # Garbage UDP to a media port with no stream.
    a = open_peer(netns, A_IP, A_PORT)
    for _ in range(5):
        a.sendto(b"\x00" * 3, (OUR_IPV4, 30050))
    assert ng.request("ping")["result"] == "pong"
    assert dataplane.alive()
    scrape = netns.run("curl", "-sf", "http://127.0.0.1:9481/metrics").stdout
    assert re.search(r'^tandem_relay_dropped_no_stream_total\{lcore="1"\} [1-9]', scrape, re.M), scrape
    assert re.search(r"^tandem_ng_request_errors_total [1-9]", scrape, re.M)
