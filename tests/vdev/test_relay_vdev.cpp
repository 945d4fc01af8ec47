// The RTP relay end to end inside one process, wired as appliance.cpp wires
// it: a media::session_manager takes ng requests (offer, answer, delete,
// query) and pushes relay_commands into media::worker_rings; the real
// io::worker drains its ring between bursts and relays on a DPDK port.
// Ports are net_ring devices (the test feeds the rx ring and drains the tx
// ring), plus one net_pcap case with send/expect captures as YANET's
// autotests do. Every case compares the frames the worker sent byte by
// byte with frames built independently in the test.
//
// The worker reads the steady clock itself (learning windows); the session
// manager runs on a manual clock. Nothing here waits on wall time except
// the strict-source case, which sleeps past a 5 ms learning window.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <rte_dev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/io/eal.hpp"
#include "dataplane/io/port.hpp"
#include "dataplane/io/worker.hpp"
#include "dataplane/media/relay_table.hpp"
#include "dataplane/media/session_manager.hpp"
#include "dataplane/media/worker_rings.hpp"
#include "dataplane/packet/build.hpp"
#include "dataplane/packet/bytes.hpp"
#include "dataplane/packet/headers.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/metrics/worker_counters.hpp"
#include "gateway/ng/bencode.hpp"
#include "gateway/sdp/sdp.hpp"
#include "tests/unit/media/media_frames.hpp"
#include "tests/vdev/vdev_support.hpp"

namespace tandem::dataplane::io {
namespace {

using bytes = std::vector<std::uint8_t>;
using media::relay_counter;

// ---------------------------------------------------------------------------
// EAL and the mbuf pool, once per program.

using test::eal_environment;
[[maybe_unused]] auto* const environment =
    ::testing::AddGlobalTestEnvironment(new eal_environment("test_relay_vdev", "tandem-relay-vdev"));

// ---------------------------------------------------------------------------
// The network around the port: two phones on the port's /24 (and /64), a
// NAT box, an intruder. Documentation prefixes only; nothing leaves the
// process.

const packet::mac_address a_mac{0x02, 0, 0, 0, 0, 0x0a};
const packet::mac_address b_mac{0x02, 0, 0, 0, 0, 0x14};
const packet::mac_address nat_mac{0x02, 0, 0, 0, 0, 0x1e};
const packet::mac_address intruder_mac{0x02, 0, 0, 0, 0, 0x1f};
const packet::ipv4_address our_ip{192, 0, 2, 2};
const packet::ipv4_address a_ip{192, 0, 2, 10};
const packet::ipv4_address b_ip{192, 0, 2, 20};
const packet::ipv4_address nat_ip{192, 0, 2, 30};
const packet::ipv4_address intruder_ip{192, 0, 2, 31};
const packet::ipv6_address our_ip6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
const packet::ipv6_address a_ip6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a};
const packet::ipv6_address b_ip6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x14};

constexpr std::uint16_t port_min = 30000;
constexpr std::uint16_t port_max = 30099;

// ---------------------------------------------------------------------------
// Frames built here, independently of the relay's rewrite.

template <std::size_t N>
void put(bytes& frame, std::size_t offset, const std::array<std::uint8_t, N>& value) {
    std::copy(value.begin(), value.end(), frame.begin() + static_cast<std::ptrdiff_t>(offset));
}

bytes arp_frame(const packet::mac_address& destination, const packet::mac_address& source,
                std::uint16_t operation, const packet::mac_address& sender_mac,
                const packet::ipv4_address& sender_ip, const packet::mac_address& target_mac,
                const packet::ipv4_address& target_ip) {
    bytes frame(42, 0);
    put(frame, 0, destination);
    put(frame, 6, source);
    packet::store_be16(frame, 12, packet::ether_type_arp);
    packet::store_be16(frame, 14, 1);
    packet::store_be16(frame, 16, packet::ether_type_ipv4);
    frame[18] = 6;
    frame[19] = 4;
    packet::store_be16(frame, 20, operation);
    put(frame, 22, sender_mac);
    put(frame, 28, sender_ip);
    put(frame, 32, target_mac);
    put(frame, 38, target_ip);
    return frame;
}

bytes udp4(const packet::mac_address& from_mac, const packet::mac_address& to_mac,
           const packet::ipv4_address& from, const packet::ipv4_address& to, std::uint16_t source_port,
           std::uint16_t destination_port, std::span<const std::uint8_t> payload) {
    return packet::build_udp(packet::ipv4_flow{from_mac, to_mac, from, to}, source_port, destination_port,
                             payload);
}

// IPv6/UDP with hop limit 64 (what the relay writes) and a full checksum
// computed by the tests' reference sum, not dataplane/packet's.
bytes udp6(const packet::mac_address& from_mac, const packet::mac_address& to_mac,
           const packet::ipv6_address& from, const packet::ipv6_address& to, std::uint16_t source_port,
           std::uint16_t destination_port, std::span<const std::uint8_t> payload) {
    const std::size_t udp_size = 8 + payload.size();
    bytes frame(14 + 40 + udp_size, 0);
    put(frame, 0, to_mac);
    put(frame, 6, from_mac);
    packet::store_be16(frame, 12, packet::ether_type_ipv6);
    frame[14] = 0x60;
    packet::store_be16(frame, 18, static_cast<std::uint16_t>(udp_size));
    frame[20] = packet::ip_protocol_udp;
    frame[21] = 64;
    put(frame, 22, from);
    put(frame, 38, to);
    packet::store_be16(frame, 54, source_port);
    packet::store_be16(frame, 56, destination_port);
    packet::store_be16(frame, 58, static_cast<std::uint16_t>(udp_size));
    std::copy(payload.begin(), payload.end(), frame.begin() + 62);
    const std::uint16_t checksum =
        media::test::ref_udp_checksum_with_pseudo(from, to, std::span<const std::uint8_t>(frame).subspan(54));
    packet::store_be16(frame, 60, checksum);
    return frame;
}

// A neighbour advertisement (solicited, override) for `target` with the
// target link-layer address option, to our unicast address.
bytes neighbor_advertisement(const packet::mac_address& mac, const packet::ipv6_address& target,
                             const packet::mac_address& to_mac) {
    bytes frame(14 + 40 + 32, 0);
    put(frame, 0, to_mac);
    put(frame, 6, mac);
    packet::store_be16(frame, 12, packet::ether_type_ipv6);
    frame[14] = 0x60;
    packet::store_be16(frame, 18, 32);
    frame[20] = packet::ip_protocol_icmpv6;
    frame[21] = 255;
    put(frame, 22, target);
    put(frame, 38, our_ip6);
    frame[54] = packet::icmpv6_neighbor_advertisement;
    frame[58] = 0x60;  // solicited, override
    put(frame, 62, target);
    frame[78] = 2;  // target link-layer address
    frame[79] = 1;
    put(frame, 80, mac);
    const auto icmp = std::span<std::uint8_t>(frame).subspan(54);
    const std::uint32_t pseudo =
        packet::ipv6_pseudo_header_sum(target, our_ip6, packet::ip_protocol_icmpv6, icmp.size());
    packet::store_be16(icmp, 2, packet::checksum_finish(packet::checksum_add(icmp, pseudo)));
    return frame;
}

bytes rtp(std::uint16_t sequence, std::uint32_t ssrc = 0x11223344) {
    return media::test::rtp_payload(sequence, 160U * sequence, ssrc);
}

std::string hex(const bytes& frame) {
    std::string out;
    char digits[4];
    for (std::size_t i = 0; i < frame.size(); ++i) {
        std::snprintf(digits, sizeof digits, "%02x", frame[i]);
        out += digits;
        out += (i % 16 == 15) ? "\n" : " ";
    }
    return out;
}

// Byte-by-byte comparison with a readable failure.
void expect_frames(const std::vector<bytes>& sent, const std::vector<bytes>& expected) {
    ASSERT_EQ(sent.size(), expected.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
        EXPECT_EQ(sent[i], expected[i]) << "frame " << i << " sent:\n"
                                        << hex(sent[i]) << "\nexpected:\n"
                                        << hex(expected[i]);
    }
}

// ---------------------------------------------------------------------------
// SDP and ng requests, as Kamailio's rtpengine module sends them.

std::string sdp_body(const std::string& address, std::uint16_t port, const char* session = "1") {
    const std::string family = address.find(':') != std::string::npos ? "IP6" : "IP4";
    const std::string where = "IN " + family + " " + address;
    std::string body = "v=0\r\n";
    body += "o=- " + std::string(session) + " " + session + " " + where + "\r\n";
    body += "s=-\r\n";
    body += "c=" + where + "\r\n";
    body += "t=0 0\r\n";
    body += "m=audio " + std::to_string(port) + " RTP/AVP 0 101\r\n";
    body += "a=rtpmap:0 PCMU/8000\r\n";
    body += "a=rtpmap:101 telephone-event/8000\r\n";
    body += "a=fmtp:101 0-16\r\n";
    body += "a=ptime:20\r\n";
    body += "a=sendrecv\r\n";
    return body;
}

ng::value request(const std::string& command, const std::string& call_id, const std::string& from_tag,
                  const std::string& to_tag, const std::string& sdp, ng::list flags = {}) {
    ng::dict entries{
        {"command", ng::value(command)},
        {"call-id", ng::value(call_id)},
        {"from-tag", ng::value(from_tag)},
        {"flags", ng::value(std::move(flags))},
        {"replace", ng::value(ng::list{ng::value("origin"), ng::value("session-connection")})},
    };
    if (!to_tag.empty()) {
        entries.emplace("to-tag", ng::value(to_tag));
    }
    if (!sdp.empty()) {
        entries.emplace("sdp", ng::value(sdp));
    }
    return ng::value(std::move(entries));
}

// The port the rewritten SDP tells the other side to send to, 0 on error.
std::uint16_t media_port_of(const ng::value& reply) {
    if (reply.find_string("result").value_or("") != "ok") {
        ADD_FAILURE() << "ng reply: " << ng::encode(reply);
        return 0;
    }
    auto parsed = sdp::parse(reply.find_string("sdp").value_or(""));
    if (!parsed || parsed.value().media.empty()) {
        ADD_FAILURE() << "reply SDP does not parse: " << ng::encode(reply);
        return 0;
    }
    return parsed.value().media[0].port;
}

// ---------------------------------------------------------------------------
// The port: net_ring, with an IPv4 and an IPv6 address (ring_port{1024, true}).

using test::ring_port;

// The queue a worker polls, with the port's place in its network (as
// appliance.cpp fills it from the port's config).
worker_queue queue_for(const ethernet_port& port) {
    worker_queue queue{port.id(), 0, port.identity(), {}, false};
    queue.network.identity = port.identity();
    queue.network.ipv4_prefix = port.ipv4_prefix();
    queue.network.ipv6_prefix = port.ipv6_prefix();
    return queue;
}

// ---------------------------------------------------------------------------
// The control side and one worker, wired like appliance.cpp: one
// worker_rings table and command ring per worker, relay counters in their
// own worker_counters, the session manager feeding the rings.

struct relay_plane {
    explicit relay_plane(const media::media_settings& settings)
        : rings(1, media::relay_table_config{port_max + 1U, 1024}, 1024), manager(settings, rings, time) {}

    worker make_worker(const ethernet_port& port) {
        worker_settings settings;
        settings.index = 0;
        settings.queues = {queue_for(port)};
        settings.burst_size = 32;
        settings.polling = polling_mode::busy;
        settings.relay =
            relay_binding{&rings.table(0), &rings.commands(0), &relay_counters, eal_environment::pool()};
        return worker(std::move(settings), counters, quit);
    }

    [[nodiscard]] std::uint64_t count(worker_counter which) const {
        return counters.get(0, static_cast<std::size_t>(which));
    }
    [[nodiscard]] std::uint64_t count(relay_counter which) const {
        return relay_counters.get(0, static_cast<std::size_t>(which));
    }

    media::worker_rings rings;
    metrics::worker_counters counters{worker_counter_specs, 1};
    metrics::worker_counters relay_counters{media::relay_counter_specs, 1};
    manual_clock time{1'000'000'000};
    std::atomic<bool> quit{false};
    media::session_manager manager;
};

media::media_settings default_media_settings() {
    media::media_settings settings;
    settings.ipv4_address = "192.0.2.2";
    settings.ipv6_address = "2001:db8::2";
    settings.port_min = port_min;
    settings.port_max = port_max;
    settings.timeout_s = 60;
    settings.learning_window_ms = 3000;
    return settings;
}

class relay_test : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(ring.ok());
        free_before_ = rte_mempool_avail_count(eal_environment::pool());
        plane = std::make_unique<relay_plane>(media_settings());
        the_worker = std::make_unique<worker>(plane->make_worker(ring.port()));
    }
    void TearDown() override {
        if (!ring.ok()) {
            return;
        }
        ring.drain();
        EXPECT_EQ(rte_mempool_avail_count(eal_environment::pool()), free_before_) << "an mbuf leaked";
    }
    virtual media::media_settings media_settings() const { return default_media_settings(); }

    // One burst: the worker first applies the commands control queued.
    std::uint32_t poll() { return the_worker->poll_all(); }

    ng::value handle(const ng::value& message) { return plane->manager.handle(message); }

    // A calls B: offer from A, answer from B. Sets port_a (where A sends)
    // and port_b (where B sends).
    void call(const std::string& a_sdp, const std::string& b_sdp, const ng::list& flags = {},
              const std::string& call_id = "call-1") {
        port_b = media_port_of(handle(request("offer", call_id, "tag-a", "", a_sdp, flags)));
        port_a = media_port_of(handle(request("answer", call_id, "tag-a", "tag-b", b_sdp, flags)));
        // Applying the new streams, the worker starts resolving peers it
        // has no neighbour entry for (so no media packet is spent on it).
        EXPECT_EQ(poll(), 0U);
        solicited = ring.drain();
        ASSERT_NE(port_a, 0);
        ASSERT_NE(port_b, 0);
        ASSERT_NE(port_a, port_b);
    }
    void call_v4(const ng::list& flags = {}) {
        call(sdp_body("192.0.2.10", 4000), sdp_body("192.0.2.20", 5000), flags);
    }

    std::vector<bytes> solicited;  // ARP requests / NS the last call() caused

    // The peer asks for our address: the worker answers and learns it.
    void announce(const packet::mac_address& mac, const packet::ipv4_address& ip) {
        ring.inject(packet::build_arp_request(mac, ip, our_ip));
        EXPECT_EQ(poll(), 1U);
        expect_frames(ring.drain(),
                      {arp_frame(mac, ring.mac(), packet::arp_op_reply, ring.mac(), our_ip, mac, ip)});
    }
    void announce6(const packet::mac_address& mac, const packet::ipv6_address& ip) {
        ring.inject(packet::build_neighbor_solicitation(mac, ip, our_ip6));
        EXPECT_EQ(poll(), 1U);
        const auto sent = ring.drain();
        ASSERT_EQ(sent.size(), 1U);
        EXPECT_EQ(sent[0][54], packet::icmpv6_neighbor_advertisement);
    }

    // Sends one frame and returns what the worker sent for it.
    std::vector<bytes> send(const bytes& frame) {
        ring.inject(frame);
        EXPECT_EQ(poll(), 1U);
        return ring.drain();
    }

    // A frame from A (or B) to our port, as each phone sends it.
    bytes from_a(std::uint16_t source_port, std::uint16_t to_port, const bytes& payload) const {
        return udp4(a_mac, ring.mac(), a_ip, our_ip, source_port, to_port, payload);
    }
    bytes from_b(std::uint16_t source_port, std::uint16_t to_port, const bytes& payload) const {
        return udp4(b_mac, ring.mac(), b_ip, our_ip, source_port, to_port, payload);
    }
    // What the relay must put on the wire toward a peer.
    bytes to(const packet::mac_address& mac, const packet::ipv4_address& ip, std::uint16_t from_port,
             std::uint16_t to_port, const bytes& payload) const {
        return udp4(ring.mac(), mac, our_ip, ip, from_port, to_port, payload);
    }

    const ng::value* stream_of(const ng::value& reply, const std::string& tag,
                               std::uint16_t local_port) const {
        const auto* tags = reply.find("tags");
        const auto* side = tags != nullptr ? tags->find(tag) : nullptr;
        const auto* medias = side != nullptr ? side->find("medias") : nullptr;
        if (medias == nullptr || !medias->is_list()) {
            return nullptr;
        }
        for (const auto& media : medias->items()) {
            const auto* streams = media.find("streams");
            if (streams == nullptr || !streams->is_list()) {
                continue;
            }
            for (const auto& stream : streams->items()) {
                if (stream.find_integer("local port") == local_port) {
                    return &stream;
                }
            }
        }
        return nullptr;
    }

    unsigned free_before_ = 0;
    ring_port ring{1024, true};
    std::unique_ptr<relay_plane> plane;
    std::unique_ptr<worker> the_worker;
    std::uint16_t port_a = 0;
    std::uint16_t port_b = 0;
};

// ---------------------------------------------------------------------------

TEST_F(relay_test, relays_both_directions_with_rewritten_headers_and_valid_checksums) {
    call_v4();
    announce(a_mac, a_ip);
    announce(b_mac, b_ip);

    const auto a_to_b = send(from_a(4000, port_a, rtp(1)));
    expect_frames(a_to_b, {to(b_mac, b_ip, port_b, 5000, rtp(1))});
    const auto b_to_a = send(from_b(5000, port_b, rtp(7, 0x55667788)));
    expect_frames(b_to_a, {to(a_mac, a_ip, port_a, 4000, rtp(7, 0x55667788))});

    // Checked again with the media tests' independent checksum code.
    for (const auto& frames : {a_to_b, b_to_a}) {
        ASSERT_EQ(frames.size(), 1U);
        EXPECT_TRUE(media::test::ipv4_header_checksum_valid(frames[0], 14));
        EXPECT_TRUE(media::test::udp_checksum_valid(frames[0], 14, 34));
    }

    EXPECT_EQ(plane->count(relay_counter::forwarded), 2U);
    // Two ARP requests when the streams were applied, two ARP replies, two RTP.
    EXPECT_EQ(solicited.size(), 2U);
    EXPECT_EQ(plane->count(worker_counter::tx_packets), 6U);
    EXPECT_EQ(plane->count(worker_counter::relayed_bytes), 2U * rtp(1).size());

    const auto reply = handle(request("query", "call-1", "tag-a", "", ""));
    ASSERT_EQ(reply.find_string("result").value_or(""), "ok") << ng::encode(reply);
    const auto* a_stream = stream_of(reply, "tag-a", port_a);
    const auto* b_stream = stream_of(reply, "tag-b", port_b);
    ASSERT_NE(a_stream, nullptr) << ng::encode(reply);
    ASSERT_NE(b_stream, nullptr) << ng::encode(reply);
    EXPECT_EQ(a_stream->find("stats")->find_integer("packets"), 1);
    EXPECT_EQ(a_stream->find("stats")->find_integer("bytes"), static_cast<std::int64_t>(rtp(1).size()));
    EXPECT_EQ(a_stream->find_integer("SSRC"), 0x11223344);
    EXPECT_EQ(b_stream->find_integer("SSRC"), 0x55667788);
    EXPECT_EQ(reply.find("totals")->find("RTP")->find_integer("packets"), 2);
}

TEST_F(relay_test, a_conversation_keeps_flowing_in_order) {
    call_v4();
    announce(a_mac, a_ip);
    announce(b_mac, b_ip);
    // Several frames per burst, both directions interleaved.
    std::vector<bytes> expected;
    for (std::uint16_t sequence = 1; sequence <= 10; ++sequence) {
        ring.inject(from_a(4000, port_a, rtp(sequence)));
        expected.push_back(to(b_mac, b_ip, port_b, 5000, rtp(sequence)));
        ring.inject(from_b(5000, port_b, rtp(sequence, 0x99)));
        expected.push_back(to(a_mac, a_ip, port_a, 4000, rtp(sequence, 0x99)));
    }
    EXPECT_EQ(poll(), 20U);
    expect_frames(ring.drain(), expected);
    EXPECT_EQ(plane->count(relay_counter::forwarded), 20U);
}

// A is behind a NAT: its SDP names an address nobody can reach, its packets
// come from the NAT's public address and port. The worker latches onto that
// source at once, and control learns it through the event ring.
TEST_F(relay_test, latches_onto_a_peer_behind_nat_and_sends_the_reverse_direction_there) {
    call(sdp_body("192.0.2.99", 4000), sdp_body("192.0.2.20", 5000));
    announce(nat_mac, nat_ip);
    announce(b_mac, b_ip);

    const auto via_nat = udp4(nat_mac, ring.mac(), nat_ip, our_ip, 61000, port_a, rtp(1));
    expect_frames(send(via_nat), {to(b_mac, b_ip, port_b, 5000, rtp(1))});
    expect_frames(send(from_b(5000, port_b, rtp(1, 0x99))),
                  {to(nat_mac, nat_ip, port_a, 61000, rtp(1, 0x99))});

    // Control folds the event in and tells every worker (set_destination);
    // the direction toward A still goes to the NAT.
    plane->manager.poll();
    expect_frames(send(from_b(5000, port_b, rtp(2, 0x99))),
                  {to(nat_mac, nat_ip, port_a, 61000, rtp(2, 0x99))});

    const auto reply = handle(request("query", "call-1", "tag-a", "", ""));
    const auto* stream = stream_of(reply, "tag-a", port_a);
    ASSERT_NE(stream, nullptr) << ng::encode(reply);
    const auto* endpoint = stream->find("endpoint");
    ASSERT_NE(endpoint, nullptr);
    EXPECT_EQ(endpoint->find_string("address").value_or(""), "192.0.2.30");
    EXPECT_EQ(endpoint->find_integer("port"), 61000);
    EXPECT_EQ(stream->find("advertised endpoint")->find_string("address").value_or(""), "192.0.2.99");
    EXPECT_EQ(plane->count(relay_counter::dropped_unresolved), 0U);  // nothing went to 192.0.2.99
}

class strict_relay_test : public relay_test {
  protected:
    media::media_settings media_settings() const override {
        auto settings = default_media_settings();
        settings.learning_window_ms = 5;
        return settings;
    }
};

TEST_F(strict_relay_test, drops_other_sources_once_the_learning_window_closed) {
    call_v4(ng::list{ng::value("strict-source")});
    announce(a_mac, a_ip);
    announce(b_mac, b_ip);
    expect_frames(send(from_a(4000, port_a, rtp(1))), {to(b_mac, b_ip, port_b, 5000, rtp(1))});

    // Past the window (it starts at the first packet), the source is locked.
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    const auto intruder = udp4(intruder_mac, ring.mac(), intruder_ip, our_ip, 4000, port_a, rtp(2));
    EXPECT_TRUE(send(intruder).empty());
    const auto other_port = from_a(4002, port_a, rtp(3));  // right address, wrong port
    EXPECT_TRUE(send(other_port).empty());
    EXPECT_EQ(plane->count(relay_counter::dropped_source), 2U);

    // The locked peer still gets through, and B's media still goes to it.
    expect_frames(send(from_a(4000, port_a, rtp(4))), {to(b_mac, b_ip, port_b, 5000, rtp(4))});
    expect_frames(send(from_b(5000, port_b, rtp(1, 9))), {to(a_mac, a_ip, port_a, 4000, rtp(1, 9))});

    const auto reply = handle(request("query", "call-1", "tag-a", "", ""));
    const auto* stream = stream_of(reply, "tag-a", port_a);
    ASSERT_NE(stream, nullptr) << ng::encode(reply);
    EXPECT_EQ(stream->find("stats")->find_integer("errors"), 2);
    EXPECT_EQ(stream->find("stats")->find_integer("packets"), 2);
}

// Without learning ("asymmetric"), strict-source locks onto the SDP's
// address from the first packet: no window to wait for.
TEST_F(strict_relay_test, asymmetric_strict_source_drops_at_once) {
    call_v4(ng::list{ng::value("strict-source"), ng::value("asymmetric")});
    announce(a_mac, a_ip);
    announce(b_mac, b_ip);
    const auto intruder = udp4(intruder_mac, ring.mac(), intruder_ip, our_ip, 4000, port_a, rtp(1));
    EXPECT_TRUE(send(intruder).empty());
    EXPECT_EQ(plane->count(relay_counter::dropped_source), 1U);
    expect_frames(send(from_a(4000, port_a, rtp(2))), {to(b_mac, b_ip, port_b, 5000, rtp(2))});
}

// A re-INVITE moves A's media to another port: B's media follows, and A's
// packets from the new port are relayed.
TEST_F(relay_test, reinvite_with_a_new_port_moves_the_media) {
    call_v4();
    announce(a_mac, a_ip);
    announce(b_mac, b_ip);
    expect_frames(send(from_a(4000, port_a, rtp(1))), {to(b_mac, b_ip, port_b, 5000, rtp(1))});
    plane->manager.poll();  // control learns A at 4000 (the SDP's address anyway)
    expect_frames(send(from_b(5000, port_b, rtp(1, 9))), {to(a_mac, a_ip, port_a, 4000, rtp(1, 9))});

    const auto old_port_a = port_a;
    const auto old_port_b = port_b;
    call(sdp_body("192.0.2.10", 4100, "2"), sdp_body("192.0.2.20", 5000));
    EXPECT_EQ(port_a, old_port_a);  // our ports stay for the life of the call
    EXPECT_EQ(port_b, old_port_b);

    expect_frames(send(from_b(5000, port_b, rtp(2, 9))), {to(a_mac, a_ip, port_a, 4100, rtp(2, 9))});
    expect_frames(send(from_a(4100, port_a, rtp(2))), {to(b_mac, b_ip, port_b, 5000, rtp(2))});
    plane->manager.poll();
    expect_frames(send(from_b(5000, port_b, rtp(3, 9))), {to(a_mac, a_ip, port_a, 4100, rtp(3, 9))});
}

// The same re-INVITE while the worker's "learned A at 4000" event is still
// in the ring (control ticks every 20 ms; a re-INVITE can land between a
// first packet and the next tick). Folding that stale event in must not
// send B's media back to the port the re-INVITE left.
TEST_F(relay_test, reinvite_is_not_undone_by_a_learned_event_from_before_it) {
    call_v4();
    announce(a_mac, a_ip);
    announce(b_mac, b_ip);
    expect_frames(send(from_a(4000, port_a, rtp(1))), {to(b_mac, b_ip, port_b, 5000, rtp(1))});
    // No manager.poll() here: the learned_source event stays queued.
    call(sdp_body("192.0.2.10", 4100, "2"), sdp_body("192.0.2.20", 5000));
    plane->manager.poll();
    expect_frames(send(from_b(5000, port_b, rtp(2, 9))), {to(a_mac, a_ip, port_a, 4100, rtp(2, 9))});
}

TEST_F(relay_test, rtcp_on_the_next_port_is_relayed_and_counted) {
    call_v4();
    announce(a_mac, a_ip);
    announce(b_mac, b_ip);
    const auto sender_report = media::test::rtcp_sr(0x11223344, 3'900'000'000U, 0x80000000U,
                                                    {media::test::report_block_values{0x55667788, 12, 3}});
    auto compound = sender_report;
    media::test::append_sdes(compound, 0x11223344);

    expect_frames(send(from_a(4001, port_a + 1, compound)), {to(b_mac, b_ip, port_b + 1, 5001, compound)});
    const auto receiver_report =
        media::test::rtcp_rr(0x55667788, {media::test::report_block_values{0x11223344}});
    expect_frames(send(from_b(5001, port_b + 1, receiver_report)),
                  {to(a_mac, a_ip, port_a + 1, 4001, receiver_report)});

    // The worker's own count of RTCP packets on A's RTCP port...
    const auto* slot = plane->rings.table(0).slot(static_cast<std::uint16_t>(port_a + 1));
    ASSERT_NE(slot, nullptr);
    const auto stats = plane->rings.stats(static_cast<std::uint16_t>(port_a + 1), slot->rule.stream_id);
    ASSERT_TRUE(stats.has_value());
    EXPECT_EQ(stats->rtcp_packets, 2U);  // RTCP packets, not datagrams: the SR and the SDES
    EXPECT_EQ(stats->remote_fraction_lost, 12U);
    // ...and what query reports: the RTCP stream, A's reports on its RTP
    // stream, and the RTCP totals.
    const auto reply = handle(request("query", "call-1", "tag-a", "", ""));
    const auto* stream = stream_of(reply, "tag-a", static_cast<std::uint16_t>(port_a + 1));
    ASSERT_NE(stream, nullptr) << ng::encode(reply);
    EXPECT_EQ(stream->find("stats")->find_integer("packets"), 1);
    EXPECT_EQ(stream->find("stats")->find_integer("bytes"), static_cast<std::int64_t>(compound.size()));
    const auto* rtp_stream = stream_of(reply, "tag-a", port_a);
    ASSERT_NE(rtp_stream, nullptr);
    const auto* reports = rtp_stream->find("rtcp");
    ASSERT_NE(reports, nullptr) << ng::encode(reply);
    EXPECT_EQ(reports->find_integer("packets"), 2);
    EXPECT_EQ(reports->find_integer("fraction lost"), 12);
    EXPECT_EQ(reply.find("totals")->find("RTCP")->find_integer("packets"), 2);
    EXPECT_EQ(reply.find("totals")->find("RTP")->find_integer("packets"), 0);
}

TEST_F(relay_test, ipv6_peers_are_relayed_over_ipv6) {
    const auto offered = handle(request("offer", "call-6", "tag-a", "", sdp_body("2001:db8::a", 4000)));
    port_b = media_port_of(offered);
    const auto answered =
        handle(request("answer", "call-6", "tag-a", "tag-b", sdp_body("2001:db8::14", 5000)));
    port_a = media_port_of(answered);
    ASSERT_NE(port_a, 0);
    ASSERT_NE(port_b, 0);
    // Each side is told our IPv6 address.
    for (const auto* reply : {&offered, &answered}) {
        const auto parsed = sdp::parse(reply->find_string("sdp").value_or(""));
        ASSERT_TRUE(parsed) << parsed.message();
        ASSERT_TRUE(parsed.value().connection.has_value());
        EXPECT_EQ(parsed.value().connection->address, "2001:db8::2");
        EXPECT_EQ(parsed.value().connection->family, sdp::address_family::ip6);
    }
    EXPECT_EQ(poll(), 0U);
    EXPECT_EQ(ring.drain().size(), 2U);  // a neighbour solicitation for each peer, at once
    announce6(a_mac, a_ip6);
    announce6(b_mac, b_ip6);

    const auto a_to_b = send(udp6(a_mac, ring.mac(), a_ip6, our_ip6, 4000, port_a, rtp(1)));
    expect_frames(a_to_b, {udp6(ring.mac(), b_mac, our_ip6, b_ip6, port_b, 5000, rtp(1))});
    const auto b_to_a = send(udp6(b_mac, ring.mac(), b_ip6, our_ip6, 5000, port_b, rtp(1, 9)));
    expect_frames(b_to_a, {udp6(ring.mac(), a_mac, our_ip6, a_ip6, port_a, 4000, rtp(1, 9))});
    for (const auto& frames : {a_to_b, b_to_a}) {
        ASSERT_EQ(frames.size(), 1U);
        EXPECT_TRUE(media::test::udp_checksum_valid(frames[0], 14, 54));
    }
    EXPECT_EQ(plane->count(relay_counter::forwarded), 2U);
    EXPECT_EQ(plane->count(relay_counter::dropped_family), 0U);
}

// The first packet toward an unknown neighbour is lost, but the worker asks
// for it (one ARP request from the pool); once the reply is in, packets flow.
TEST_F(relay_test, unresolved_next_hop_is_asked_for_when_the_stream_is_applied) {
    call_v4();
    // Both peers are unknown when the streams arrive: one ARP request each,
    // before any media.
    // A first: its address is known from the offer, B's only from the answer.
    expect_frames(solicited, {arp_frame(packet::broadcast_mac, ring.mac(), packet::arp_op_request, ring.mac(),
                                        our_ip, packet::mac_address{}, a_ip),
                              arp_frame(packet::broadcast_mac, ring.mac(), packet::arp_op_request, ring.mac(),
                                        our_ip, packet::mac_address{}, b_ip)});
    EXPECT_EQ(plane->count(worker_counter::solicitations), 2U);

    // B's ARP reply arrives before B's media: learned, consumed, not answered,
    // and A's first packet goes straight through.
    EXPECT_TRUE(
        send(arp_frame(ring.mac(), b_mac, packet::arp_op_reply, b_mac, b_ip, ring.mac(), our_ip)).empty());
    expect_frames(send(from_a(4000, port_a, rtp(1))), {to(b_mac, b_ip, port_b, 5000, rtp(1))});
    EXPECT_EQ(plane->count(relay_counter::dropped_unresolved), 0U);
    EXPECT_EQ(plane->count(relay_counter::forwarded), 1U);
}

TEST_F(relay_test, a_next_hop_that_never_answers_drops_media_and_is_asked_again_later) {
    call_v4();
    announce(a_mac, a_ip);  // B never answers ARP
    // Within the rate limiter's second the packet is dropped without a new request.
    EXPECT_TRUE(send(from_a(4000, port_a, rtp(1))).empty());
    EXPECT_EQ(plane->count(relay_counter::dropped_unresolved), 1U);
    EXPECT_EQ(plane->count(worker_counter::solicitations), 2U);
}

TEST_F(relay_test, unresolved_ipv6_next_hop_sends_a_neighbour_solicitation) {
    port_b = media_port_of(handle(request("offer", "call-6", "tag-a", "", sdp_body("2001:db8::a", 4000))));
    port_a =
        media_port_of(handle(request("answer", "call-6", "tag-a", "tag-b", sdp_body("2001:db8::14", 5000))));
    // Applying the streams solicits both peers at once.
    EXPECT_EQ(poll(), 0U);
    const auto solicitations = ring.drain();
    ASSERT_EQ(solicitations.size(), 2U);
    EXPECT_TRUE(solicitations[0] == packet::build_neighbor_solicitation(ring.mac(), our_ip6, b_ip6) ||
                solicitations[1] == packet::build_neighbor_solicitation(ring.mac(), our_ip6, b_ip6));
    announce6(a_mac, a_ip6);

    EXPECT_TRUE(send(neighbor_advertisement(b_mac, b_ip6, ring.mac())).empty());
    expect_frames(send(udp6(a_mac, ring.mac(), a_ip6, our_ip6, 4000, port_a, rtp(2))),
                  {udp6(ring.mac(), b_mac, our_ip6, b_ip6, port_b, 5000, rtp(2))});
}

// Every frame is accounted for under one named counter, and nothing that
// is not a well-formed datagram for a live stream goes out.
TEST_F(relay_test, garbage_and_short_udp_are_counted) {
    call_v4();
    announce(a_mac, a_ip);
    announce(b_mac, b_ip);
    const std::uint64_t rx_before = plane->count(worker_counter::rx_packets);

    // 1. UDP length field below the header size.
    auto short_length = from_a(4000, port_a, bytes(4, 0));
    packet::store_be16(short_length, 38, 4);
    // 2. UDP length field past the IP payload.
    auto long_length = from_a(4000, port_a, bytes(4, 0));
    packet::store_be16(long_length, 38, 200);
    // 3. Cut short: the IP header says more bytes than the frame holds.
    auto truncated = from_a(4000, port_a, rtp(1));
    truncated.resize(14 + 20 + 4);
    // 4. A corrupted IPv4 header checksum.
    auto bad_header = from_a(4000, port_a, rtp(1));
    bad_header[24] ^= 0xff;
    // 5. and 6. No stream on the port: inside and beyond the relay table.
    const auto no_stream = from_a(4000, 29000, rtp(1));
    const auto beyond_table = from_a(4000, 50000, rtp(1));
    // 7. Not RTP at all, and 8. a bare UDP header padded to the Ethernet
    // minimum: relayed as opaque datagrams (the relay does not filter
    // payloads), padding dropped.
    const bytes noise{0xde, 0xad, 0xbe};
    auto bare = from_a(4000, port_a, {});
    bare.resize(60, 0);
    // 9. A payload corrupted in transit (bad UDP checksum): relayed, and
    // still detectably corrupt on the other side.
    auto corrupted = from_a(4000, port_a, rtp(2));
    corrupted.back() ^= 0x01;

    ring.inject(short_length);
    ring.inject(long_length);
    ring.inject(truncated);
    ring.inject(bad_header);
    ring.inject(no_stream);
    ring.inject(beyond_table);
    ring.inject(from_a(4000, port_a, noise));
    ring.inject(bare);
    ring.inject(corrupted);
    EXPECT_EQ(poll(), 9U);
    const auto sent = ring.drain();
    ASSERT_EQ(sent.size(), 3U);
    EXPECT_EQ(sent[0], to(b_mac, b_ip, port_b, 5000, noise)) << hex(sent[0]);
    EXPECT_EQ(sent[1], to(b_mac, b_ip, port_b, 5000, {})) << hex(sent[1]);
    EXPECT_TRUE(media::test::ipv4_header_checksum_valid(sent[2], 14));
    EXPECT_FALSE(media::test::udp_checksum_valid(sent[2], 14, 34));

    EXPECT_EQ(plane->count(worker_counter::rx_packets) - rx_before, 9U);
    EXPECT_EQ(plane->count(worker_counter::dropped_malformed), 4U);
    EXPECT_EQ(plane->count(relay_counter::dropped_no_stream), 2U);
    EXPECT_EQ(plane->count(relay_counter::forwarded), 3U);
    EXPECT_EQ(plane->count(relay_counter::dropped_malformed), 0U);

    // The non-RTP payloads did not disturb the stream's RTP statistics.
    const auto reply = handle(request("query", "call-1", "tag-a", "", ""));
    const auto* stream = stream_of(reply, "tag-a", port_a);
    ASSERT_NE(stream, nullptr);
    EXPECT_EQ(stream->find("stats")->find_integer("packets"), 3);
    EXPECT_EQ(stream->find_integer("SSRC"), 0x11223344);
}

TEST_F(relay_test, delete_stops_the_relay_and_frees_the_ports) {
    call_v4();
    announce(a_mac, a_ip);
    announce(b_mac, b_ip);
    expect_frames(send(from_a(4000, port_a, rtp(1))), {to(b_mac, b_ip, port_b, 5000, rtp(1))});
    const auto free_pairs = plane->manager.free_port_pairs();

    const auto reply = handle(request("delete", "call-1", "tag-a", "", ""));
    EXPECT_EQ(reply.find_string("result").value_or(""), "ok") << ng::encode(reply);
    EXPECT_EQ(plane->manager.sessions(), 0U);
    EXPECT_EQ(plane->manager.free_port_pairs(), free_pairs + 2);

    EXPECT_TRUE(send(from_a(4000, port_a, rtp(2))).empty());
    EXPECT_TRUE(send(from_b(5000, port_b + 1, rtp(2))).empty());
    EXPECT_EQ(plane->count(relay_counter::dropped_no_stream), 2U);
}

// ---------------------------------------------------------------------------
// net_pcap: send/expect capture pairs. The test writes in.pcap, the worker
// reads it through the PMD and the PMD writes what the worker sent to
// out.pcap, which the test compares with the expected frames.

constexpr std::uint32_t pcap_magic_us = 0xa1b2c3d4;
constexpr std::uint32_t pcap_magic_ns = 0xa1b23c4d;

void put_le32(std::string& out, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<char>(value >> (8 * i)));
    }
}

void write_pcap(const std::filesystem::path& path, const std::vector<bytes>& frames) {
    std::string out;
    put_le32(out, pcap_magic_us);
    put_le32(out, 2U | (4U << 16));  // version 2.4
    put_le32(out, 0);                // time zone
    put_le32(out, 0);                // accuracy
    put_le32(out, 65535);            // snap length
    put_le32(out, 1);                // Ethernet
    std::uint32_t usec = 0;
    for (const auto& frame : frames) {
        put_le32(out, 1'700'000'000U);
        put_le32(out, usec += 20'000);
        put_le32(out, static_cast<std::uint32_t>(frame.size()));
        put_le32(out, static_cast<std::uint32_t>(frame.size()));
        out.append(frame.begin(), frame.end());
    }
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(out.data(), static_cast<std::streamsize>(out.size()));
}

std::uint32_t get_le32(const std::string& in, std::size_t at) {
    std::uint32_t value = 0;
    for (int i = 3; i >= 0; --i) {
        value = (value << 8) | static_cast<std::uint8_t>(in[at + static_cast<std::size_t>(i)]);
    }
    return value;
}

// The frames of a little-endian pcap file (either timestamp precision);
// nullopt when the file is not one.
std::optional<std::vector<bytes>> read_pcap(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    const std::string in((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (in.size() < 24 || (get_le32(in, 0) != pcap_magic_us && get_le32(in, 0) != pcap_magic_ns)) {
        return std::nullopt;
    }
    std::vector<bytes> frames;
    std::size_t at = 24;
    while (at + 16 <= in.size()) {
        const std::size_t captured = get_le32(in, at + 8);
        at += 16;
        if (captured > in.size() - at) {
            return std::nullopt;
        }
        frames.emplace_back(in.begin() + static_cast<std::ptrdiff_t>(at),
                            in.begin() + static_cast<std::ptrdiff_t>(at + captured));
        at += captured;
    }
    return frames;
}

TEST(pcap_relay, send_and_expect_captures) {
    const auto directory = std::filesystem::temp_directory_path() /
                           ("tandem-relay-pcap-" + std::to_string(static_cast<long>(getpid())));
    std::filesystem::create_directories(directory);
    const auto in_path = directory / "in.pcap";
    const auto out_path = directory / "out.pcap";
    // The PMD opens its rx capture when probed; the real one is written once
    // the port's MAC is known, and read after a restart of the port.
    write_pcap(in_path, {});

    const std::string name = "net_pcap_relay";
    const std::string arguments = "rx_pcap=" + in_path.string() + ",tx_pcap=" + out_path.string();
    ASSERT_EQ(rte_eal_hotplug_add("vdev", name.c_str(), arguments.c_str()), 0)
        << "net_pcap driver not available";
    std::vector<bytes> expected;
    {
        config::port_config settings;
        settings.name = "media0";
        settings.device = name;
        settings.ipv4 = "192.0.2.2";
        settings.rx_queues = 1;
        auto opened = ethernet_port::open(settings, 1, eal_environment::pool());
        ASSERT_TRUE(opened) << opened.message();
        auto port = std::move(opened.value());
        const auto our_mac = port->identity().mac;

        relay_plane plane(default_media_settings());
        const auto port_b = media_port_of(
            plane.manager.handle(request("offer", "pcap-1", "tag-a", "", sdp_body("192.0.2.10", 4000))));
        const auto port_a = media_port_of(plane.manager.handle(
            request("answer", "pcap-1", "tag-a", "tag-b", sdp_body("192.0.2.20", 5000))));
        ASSERT_NE(port_a, 0);
        ASSERT_NE(port_b, 0);

        const std::vector<bytes> send{
            packet::build_arp_request(a_mac, a_ip, our_ip),
            packet::build_arp_request(b_mac, b_ip, our_ip),
            udp4(a_mac, our_mac, a_ip, our_ip, 4000, port_a, rtp(1)),
            udp4(b_mac, our_mac, b_ip, our_ip, 5000, port_b, rtp(1, 9)),
            udp4(a_mac, our_mac, a_ip, our_ip, 4001, static_cast<std::uint16_t>(port_a + 1),
                 media::test::rtcp_rr(0x11223344, {})),
            udp4(b_mac, our_mac, b_ip, our_ip, 5000, 29000, rtp(2, 9)),  // no stream: dropped
        };
        expected = {
            // Applying the new streams, the worker asks for both peers first.
            arp_frame(packet::broadcast_mac, our_mac, packet::arp_op_request, our_mac, our_ip,
                      packet::mac_address{}, a_ip),
            arp_frame(packet::broadcast_mac, our_mac, packet::arp_op_request, our_mac, our_ip,
                      packet::mac_address{}, b_ip),
            arp_frame(a_mac, our_mac, packet::arp_op_reply, our_mac, our_ip, a_mac, a_ip),
            arp_frame(b_mac, our_mac, packet::arp_op_reply, our_mac, our_ip, b_mac, b_ip),
            udp4(our_mac, b_mac, our_ip, b_ip, port_b, 5000, rtp(1)),
            udp4(our_mac, a_mac, our_ip, a_ip, port_a, 4000, rtp(1, 9)),
            udp4(our_mac, b_mac, our_ip, b_ip, static_cast<std::uint16_t>(port_b + 1), 5001,
                 media::test::rtcp_rr(0x11223344, {})),
        };
        write_pcap(in_path, send);
        write_pcap(directory / "expect.pcap", expected);  // for a person comparing with out.pcap
        ASSERT_EQ(rte_eth_dev_stop(port->id()), 0);
        ASSERT_EQ(rte_eth_dev_start(port->id()), 0);

        auto w = plane.make_worker(*port);
        for (int i = 0; i < 1000 && plane.count(worker_counter::rx_packets) < send.size(); ++i) {  // bounded
            w.poll_all();
        }
        EXPECT_EQ(plane.count(worker_counter::rx_packets), send.size());
        EXPECT_EQ(plane.count(relay_counter::forwarded), 3U);
        EXPECT_EQ(plane.count(relay_counter::dropped_no_stream), 1U);
        port->close();  // flushes and closes out.pcap
    }
    ASSERT_EQ(rte_eal_hotplug_remove("vdev", name.c_str()), 0);

    const auto captured = read_pcap(out_path);
    ASSERT_TRUE(captured.has_value()) << out_path << " is not a pcap file";
    expect_frames(*captured, expected);
    if (!::testing::Test::HasFailure()) {
        std::filesystem::remove_all(directory);
    }
}

}  // namespace
}  // namespace tandem::dataplane::io
