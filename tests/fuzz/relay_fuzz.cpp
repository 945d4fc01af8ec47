// Fuzz harness: arbitrary bytes as a received frame through the worker's
// path (neighbour learning, classify, relay_udp) against a table with a few
// streams of every kind (learning, strict, RTCP, muxed, IPv6, blackhole),
// then the RTP/RTCP parsers on the same bytes. Any crash, sanitizer report
// or out-of-bounds rewrite is a bug; relay_udp must also count every call
// exactly once.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dataplane/media/relay_table.hpp"
#include "dataplane/packet/classify.hpp"
#include "gateway/metrics/worker_counters.hpp"

namespace {

using namespace tandem;
using namespace tandem::media;

const packet::mac_address our_mac{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const packet::ipv4_address our_ip{192, 0, 2, 2};
const packet::ipv6_address our_ip6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};

media_endpoint v4(std::uint8_t last, std::uint16_t port) {
    media_endpoint e;
    e.family = 4;
    e.address[0] = 192;
    e.address[1] = 0;
    e.address[2] = 2;
    e.address[3] = last;
    e.port = port;
    return e;
}

// Behind the gateway.
media_endpoint far_v4(std::uint16_t port) {
    media_endpoint e;
    e.family = 4;
    e.address[0] = 198;
    e.address[1] = 51;
    e.address[2] = 100;
    e.address[3] = 20;
    e.port = port;
    return e;
}

media_endpoint v6(std::uint8_t last, std::uint16_t port) {
    media_endpoint e;
    e.family = 6;
    e.address = our_ip6;
    e.address[15] = last;
    e.port = port;
    return e;
}

stream_rule rule(std::uint32_t id, std::uint16_t local, std::uint16_t egress, media_endpoint expected,
                 media_endpoint destination, std::uint16_t flags) {
    stream_rule r;
    r.stream_id = id;
    r.local_port = local;
    r.egress_port = egress;
    r.expected_source = expected;
    r.destination = destination;
    r.flags = flags;
    r.learning_window_ms = 1000;
    return r;
}

struct worker {
    relay_table table{relay_table_config{20000, 64}};
    neighbour_table neighbours{neighbour_config{64, 300'000'000'000, 1'000'000'000}};
    port_network network;
    metrics::worker_counters counters{relay_counter_specs, 1};
    std::vector<stream_rule> rules;
    std::int64_t now_ns = 1'000'000'000;

    worker() {
        network.identity = packet::port_identity{our_mac, our_ip, our_ip6};
        network.ipv4_gateway = packet::ipv4_address{192, 0, 2, 254};
        rules = {
            rule(1, 10000, 10002, v4(10, 4000), far_v4(5000), flag_learn | flag_rtcp_mux),
            rule(2, 10002, 10000, far_v4(5000), v4(10, 4000),
                 flag_learn | flag_strict_source | flag_rtcp_mux),
            rule(3, 10001, 10003, v4(10, 4001), v4(20, 5001), flag_rtcp),
            rule(4, 10003, 10001, v4(20, 5001), v4(10, 4001), flag_rtcp | flag_strict_source),
            rule(5, 10004, 10006, v6(10, 4000), v6(20, 5000), flag_learn),
            rule(6, 10006, 10004, v6(20, 5000), media_endpoint{}, flag_learn),
            rule(7, 10008, 10010, media_endpoint{}, v4(30, 6000), flag_blackhole),
            rule(8, 10010, 10008, media_endpoint{}, v6(30, 6000), 0),  // family mismatch for IPv4
        };
    }

    // Every input starts from the same state: fresh neighbours, fresh
    // learning and statistics (remove + upsert), no pending events.
    void reset() {
        neighbours = neighbour_table{neighbour_config{64, 300'000'000'000, 1'000'000'000}};
        neighbours.add_static(ip_address::v4({192, 0, 2, 254}), {0x02, 0, 0, 0, 0, 0xfe});
        neighbours.add_static(ip_address::v4({192, 0, 2, 10}), {0x02, 0, 0, 0, 0, 0x0a});
        for (const auto& r : rules) {
            table.apply(relay_command{relay_command::kind::remove, r});
            table.apply(relay_command{relay_command::kind::upsert, r});
        }
        while (table.events().pop()) {
        }
    }
};

std::uint64_t total(const metrics::worker_counters& counters) {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < relay_counter_count; ++i) {
        sum += counters.get(0, i);
    }
    return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static worker w;
    w.reset();
    w.now_ns += 1'000'000;

    // The frame twice: the second copy 1.5 s later, after the learning
    // window closed, with checksums left to the (imaginary) NIC.
    std::vector<std::uint8_t> frame;
    for (int pass = 0; pass < 2; ++pass) {
        frame.assign(data, data + size);
        (void)w.neighbours.learn_from_frame(frame, w.now_ns);
        const auto what = packet::classify(frame, w.network.identity);
        const std::uint64_t before = total(w.counters);
        const auto mode = pass == 0 ? checksum_mode::software : checksum_mode::offload;
        const relay_result result = relay_udp(w.table, w.neighbours, w.network, frame, what, w.now_ns,
                                              relay_counters{&w.counters, 0, 0}, mode);
        if (total(w.counters) != before + 1) {
            std::abort();
        }
        if (result.forwarded() && result.frame_length > frame.size()) {
            std::abort();
        }
        if (result.needs_resolution()) {
            std::uint8_t request[128];
            (void)build_solicitation_into(request, w.network, result.next_hop);
        }
        w.now_ns += 1'500'000'000;
    }

    const std::span<const std::uint8_t> bytes(data, size);
    if (const auto rtcp = parse_rtcp(bytes, 0x1234U)) {
        if (rtcp->packets == 0 || rtcp->packets > max_rtcp_packets) {
            std::abort();
        }
        stream_stats stats;
        sender_report_history history;
        history.record(rtcp->sr_ntp_middle, 1);
        rtcp_receive(*rtcp, w.now_ns, &history, stats);
    }
    if (const auto rtp = parse_rtp(bytes)) {
        static rtp_source_state state;
        static stream_stats stats;
        rtp_receive(state, *rtp, w.now_ns, 8000, stats);
    }
    return 0;
}
