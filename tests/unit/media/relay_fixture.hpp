#pragma once
// A worker's relay state for tests: a table with two sibling streams
// (A <-> B), a neighbour table, per-worker counters and a manual clock.
//
//   A 192.0.2.10:4000 (on link)  --> us:10000 --(from 10002)--> B 198.51.100.20:5000 (via gateway)
//   B                            --> us:10002 --(from 10000)--> A

#include <gtest/gtest.h>

#include <vector>

#include "dataplane/media/relay_table.hpp"
#include "dataplane/packet/classify.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/metrics/worker_counters.hpp"
#include "tests/unit/media/media_frames.hpp"

namespace tandem::media::test {

inline constexpr std::uint16_t port_a = 10000;  // A sends here
inline constexpr std::uint16_t port_b = 10002;  // B sends here

class relay_fixture : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(neighbours.add_static(ip_address::v4(gateway_ip), gateway_mac));
        ASSERT_TRUE(neighbours.add_static(ip_address::v6(gateway_ip6), gateway_mac));
        ASSERT_TRUE(neighbours.learn(ip_address::v4(peer_a_ip), peer_mac, now()));
        ASSERT_TRUE(neighbours.learn(ip_address::v6(peer_a_ip6), peer_mac, now()));
    }

    [[nodiscard]] std::int64_t now() const { return clock.now_ns(); }

    static stream_rule rule_a(std::uint16_t flags = 0) {
        stream_rule rule;
        rule.stream_id = 1;
        rule.local_port = port_a;
        rule.egress_port = port_b;
        rule.expected_source = endpoint4(peer_a_ip, 4000);
        rule.destination = endpoint4(peer_b_ip, 5000);
        rule.flags = flags;
        return rule;
    }
    static stream_rule rule_b(std::uint16_t flags = 0) {
        stream_rule rule;
        rule.stream_id = 2;
        rule.local_port = port_b;
        rule.egress_port = port_a;
        rule.expected_source = endpoint4(peer_b_ip, 5000);
        rule.destination = endpoint4(peer_a_ip, 4000);
        rule.flags = flags;
        return rule;
    }

    bool apply(relay_command::kind what, const stream_rule& rule) {
        return table.apply(relay_command{what, rule});
    }
    bool upsert(const stream_rule& rule) { return apply(relay_command::kind::upsert, rule); }

    relay_result send(std::vector<std::uint8_t>& frame, checksum_mode mode = checksum_mode::software) {
        const auto what = packet::classify(frame, net.identity);
        return relay_udp(table, neighbours, net, frame, what, now(), relay_counters{&counters, 0, 0}, mode);
    }
    // A packet from A (or another port of A's address) to `to`.
    relay_result send_from_a(std::uint16_t source_port = 4000, std::uint16_t to = port_a) {
        auto frame = udp4(peer_a_ip, source_port, to, rtp_payload(1, 2, 3));
        auto result = send(frame);
        last_frame = frame;
        return result;
    }
    relay_result send_from_b(std::uint16_t to = port_b) {
        auto frame = udp4(peer_b_ip, 5000, to, rtp_payload(1, 2, 3));
        auto result = send(frame);
        last_frame = frame;
        return result;
    }

    [[nodiscard]] std::uint64_t count(relay_counter which) const {
        return counters.get(0, static_cast<std::size_t>(which));
    }
    [[nodiscard]] std::uint64_t total_count() const {
        std::uint64_t sum = 0;
        for (std::size_t i = 0; i < relay_counter_count; ++i) {
            sum += counters.get(0, i);
        }
        return sum;
    }
    [[nodiscard]] stream_stats_snapshot stats_of(std::uint16_t port, std::uint32_t id) const {
        const auto s = table.stats(port, id);
        EXPECT_TRUE(s) << "no stream " << id << " on port " << port;
        return s.value_or(stream_stats_snapshot{});
    }
    [[nodiscard]] std::uint16_t destination_port_of_last_frame() const {
        return static_cast<std::uint16_t>((last_frame[36] << 8) | last_frame[37]);
    }

    manual_clock clock{1'000'000'000'000};
    relay_table table{relay_table_config{20000, 8}};
    neighbour_table neighbours;
    port_network net = network();
    metrics::worker_counters counters{relay_counter_specs, 1};
    std::vector<std::uint8_t> last_frame;
};

}  // namespace tandem::media::test
