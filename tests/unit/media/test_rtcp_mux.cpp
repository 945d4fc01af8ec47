// Asymmetric rtcp-mux: A muxes RTCP onto its RTP port, B does not.
//
//   A 192.0.2.10:4000 (RTP+RTCP) --> us:10000 --RTP from 10002-->   B 198.51.100.20:5000
//                                             --RTCP from 10003-->  B 198.51.100.20:5001
//   B:5000 --> us:10002 --(from 10000)--> A:4000
//   B:5001 --> us:10003 --(from 10000)--> A:4000 (A takes RTCP on its RTP port)

#include <gtest/gtest.h>

#include "dataplane/media/rtp_stats.hpp"
#include "dataplane/packet/bytes.hpp"
#include "tests/unit/media/relay_fixture.hpp"

namespace tandem::media {
namespace {

using namespace tandem::media::test;

constexpr std::uint16_t port_b_rtcp = port_b + 1;

std::uint16_t source_port_of(const std::vector<std::uint8_t>& frame) {
    return packet::load_be16(frame, 34);
}
std::uint16_t destination_port_of(const std::vector<std::uint8_t>& frame) {
    return packet::load_be16(frame, 36);
}

class asymmetric_mux_test : public relay_fixture {
  protected:
    void SetUp() override {
        relay_fixture::SetUp();
        ASSERT_TRUE(upsert(a_rtp()));
        ASSERT_TRUE(upsert(rule_b(flag_learn)));
        stream_rule b_rtcp = rule_b(flag_learn | flag_rtcp);
        b_rtcp.stream_id = 4;
        b_rtcp.local_port = port_b_rtcp;
        b_rtcp.egress_port = port_a;  // A muxes
        b_rtcp.expected_source = endpoint4(peer_b_ip, 5001);
        b_rtcp.destination = endpoint4(peer_a_ip, 4000);
        ASSERT_TRUE(upsert(b_rtcp));
    }

    static stream_rule a_rtp(std::uint16_t extra_flags = 0) {
        stream_rule rule = rule_a(static_cast<std::uint16_t>(flag_learn | flag_rtcp_mux | extra_flags));
        rule.rtcp_egress_port = port_b_rtcp;
        rule.rtcp_destination = endpoint4(peer_b_ip, 5001);
        return rule;
    }

    relay_result from_a(std::span<const std::uint8_t> payload, std::uint16_t source_port = 4000) {
        last_frame = udp4(peer_a_ip, source_port, port_a, payload);
        const auto result = send(last_frame);
        if (result.forwarded()) {
            EXPECT_TRUE(udp_checksum_valid(last_frame, 14, 34));
        }
        return result;
    }
    relay_result from_b(std::uint16_t to, std::span<const std::uint8_t> payload, std::uint16_t source_port) {
        last_frame = udp4(peer_b_ip, source_port, to, payload);
        const auto result = send(last_frame);
        if (result.forwarded()) {
            EXPECT_TRUE(udp_checksum_valid(last_frame, 14, 34));
        }
        return result;
    }
    [[nodiscard]] std::size_t events_queued() {
        std::size_t n = 0;
        while (table.events().pop()) {
            ++n;
        }
        return n;
    }
};

TEST_F(asymmetric_mux_test, rtcp_from_the_muxed_side_leaves_by_the_other_sides_rtcp_port) {
    ASSERT_TRUE(from_a(rtp_payload(1, 160, 0xa)).forwarded());
    EXPECT_EQ(source_port_of(last_frame), port_b);
    EXPECT_EQ(destination_port_of(last_frame), 5000);

    const auto rr = rtcp_rr(0xa, {report_block_values{0xb, 12, 3, 100, 80, 0, 0}});
    ASSERT_TRUE(from_a(rr).forwarded());
    EXPECT_EQ(source_port_of(last_frame), port_b_rtcp);
    EXPECT_EQ(destination_port_of(last_frame), 5001);
    EXPECT_TRUE(std::equal(rr.begin(), rr.end(), last_frame.begin() + 42));  // an RR is not rewritten

    const auto stats = stats_of(port_a, 1);
    EXPECT_EQ(stats.packets, 2U);
    EXPECT_EQ(stats.rtcp_packets, 1U);
    EXPECT_EQ(stats.remote_fraction_lost, 12U);
    EXPECT_EQ(stats.ssrc, 0xaU);  // RTP accounting saw only the RTP packet
    EXPECT_EQ(count(relay_counter::forwarded), 2U);
}

TEST_F(asymmetric_mux_test, rtcp_from_the_plain_side_goes_to_the_muxed_rtp_port) {
    ASSERT_TRUE(from_b(port_b_rtcp, rtcp_sr(0xb, 1, 2), 5001).forwarded());
    EXPECT_EQ(source_port_of(last_frame), port_a);
    EXPECT_EQ(destination_port_of(last_frame), 4000);
    EXPECT_EQ(stats_of(port_b_rtcp, 4).rtcp_packets, 1U);
}

TEST_F(asymmetric_mux_test, without_a_split_rtcp_follows_rtp_on_a_muxed_port) {
    stream_rule both_mux = a_rtp();
    both_mux.rtcp_egress_port = 0;
    ASSERT_TRUE(upsert(both_mux));
    ASSERT_TRUE(from_a(rtcp_rr(0xa, {})).forwarded());
    EXPECT_EQ(source_port_of(last_frame), port_b);
    EXPECT_EQ(destination_port_of(last_frame), 5000);
}

TEST_F(asymmetric_mux_test, muxed_rtcp_does_not_disturb_rtp_learning) {
    // RTCP first, from another port of A's host: forwarded, not learned.
    ASSERT_TRUE(from_a(rtcp_rr(0xa, {}), 4999).forwarded());
    EXPECT_FALSE(table.slot(port_a)->learned_peer.known());
    EXPECT_EQ(events_queued(), 0U);

    ASSERT_TRUE(from_a(rtp_payload(1, 160, 0xa), 4000).forwarded());
    EXPECT_EQ(table.slot(port_a)->learned_peer, endpoint4(peer_a_ip, 4000));
    clock.advance_ms(20);
    ASSERT_TRUE(from_a(rtcp_rr(0xa, {}), 4999).forwarded());
    EXPECT_EQ(table.slot(port_a)->learned_peer, endpoint4(peer_a_ip, 4000));
    EXPECT_EQ(table.slot(port_b)->rule.destination, endpoint4(peer_a_ip, 4000));
    EXPECT_EQ(events_queued(), 1U);
}

TEST_F(asymmetric_mux_test, muxed_rtcp_is_still_checked_against_the_locked_peer) {
    ASSERT_TRUE(upsert(a_rtp(flag_strict_source)));
    ASSERT_TRUE(from_a(rtp_payload(1, 160, 0xa), 4000).forwarded());
    clock.advance_ms(3'000);  // the window closes
    EXPECT_TRUE(from_a(rtcp_rr(0xa, {}), 4000).forwarded());
    EXPECT_EQ(from_a(rtcp_rr(0xa, {}), 4999).verdict, relay_counter::dropped_source);
}

TEST_F(asymmetric_mux_test, learning_steers_both_rtcp_directions_at_once) {
    // B's RTCP comes from behind a NAT: A's RTCP must follow it there.
    ASSERT_TRUE(from_b(port_b_rtcp, rtcp_rr(0xb, {}), 6001).forwarded());
    EXPECT_EQ(table.slot(port_a)->rule.rtcp_destination, endpoint4(peer_b_ip, 6001));
    EXPECT_EQ(table.slot(port_a)->rule.destination, endpoint4(peer_b_ip, 5000));  // RTP untouched
    ASSERT_TRUE(from_a(rtcp_rr(0xa, {})).forwarded());
    EXPECT_EQ(destination_port_of(last_frame), 6001);

    // A's RTP from a NAT port: B's RTP and B's RTCP both go there now.
    ASSERT_TRUE(from_a(rtp_payload(1, 160, 0xa), 4500).forwarded());
    EXPECT_EQ(table.slot(port_b)->rule.destination, endpoint4(peer_a_ip, 4500));
    EXPECT_EQ(table.slot(port_b_rtcp)->rule.destination, endpoint4(peer_a_ip, 4500));
    ASSERT_TRUE(from_b(port_b_rtcp, rtcp_rr(0xb, {}), 6001).forwarded());
    EXPECT_EQ(destination_port_of(last_frame), 4500);
}

TEST_F(asymmetric_mux_test, round_trip_is_measured_both_ways_across_the_split) {
    // B's SR goes to A; A's RR about it comes back on the muxed port.
    ASSERT_TRUE(from_b(port_b_rtcp, rtcp_sr(0xb, 0x00010002, 0x00030000), 5001).forwarded());
    clock.advance_ms(300);
    const std::uint32_t lsr = (0x0002U << 16) | 0x0003U;
    ASSERT_TRUE(from_a(rtcp_rr(0xa, {report_block_values{0xb, 0, 0, 0, 0, lsr, 0x4000}})).forwarded());
    EXPECT_EQ(stats_of(port_a, 1).rtt_us, 50'000U);  // 300 ms - 250 ms held by A

    // A's SR (muxed) goes to B's RTCP port; B's RR comes back there.
    ASSERT_TRUE(from_a(rtcp_sr(0xa, 0x00050006, 0x00070000)).forwarded());
    clock.advance_ms(100);
    const std::uint32_t lsr_a = (0x0006U << 16) | 0x0007U;
    ASSERT_TRUE(from_b(port_b_rtcp, rtcp_rr(0xb, {report_block_values{0xa, 0, 0, 0, 0, lsr_a, 0x1000}}), 5001)
                    .forwarded());
    EXPECT_EQ(stats_of(port_b_rtcp, 4).rtt_us, 37'500U);  // 100 ms - 62.5 ms
}

TEST_F(asymmetric_mux_test, sender_reports_follow_ssrc_continuity_across_the_split) {
    ASSERT_TRUE(upsert(a_rtp(flag_ssrc_continuity)));
    ASSERT_TRUE(from_a(rtp_payload(1, 0, 0xa)).forwarded());
    clock.advance_ms(20);
    ASSERT_TRUE(from_a(rtp_payload(900, 5000, 0xaa)).forwarded());
    ASSERT_TRUE(from_a(rtcp_sr(0xaa, 1, 2)).forwarded());
    EXPECT_EQ(destination_port_of(last_frame), 5001);
    EXPECT_EQ(packet::load_be32(last_frame, 42 + 4), 0xaU);
}

TEST_F(asymmetric_mux_test, commands_set_and_keep_the_rtcp_destination) {
    stream_rule update;
    update.stream_id = 1;
    update.local_port = port_a;
    update.rtcp_destination = endpoint4(peer_b_ip, 7001);
    EXPECT_TRUE(apply(relay_command::kind::set_rtcp_destination, update));
    EXPECT_EQ(table.slot(port_a)->rule.rtcp_destination, endpoint4(peer_b_ip, 7001));
    EXPECT_EQ(table.slot(port_a)->rule.destination, endpoint4(peer_b_ip, 5000));
    update.stream_id = 99;
    EXPECT_FALSE(apply(relay_command::kind::set_rtcp_destination, update));
    EXPECT_EQ(table.commands_rejected(), 1U);

    // A re-INVITE upsert that does not know the address keeps the learned one.
    stream_rule again = a_rtp();
    again.rtcp_destination = media_endpoint{};
    ASSERT_TRUE(upsert(again));
    EXPECT_EQ(table.slot(port_a)->rule.rtcp_destination, endpoint4(peer_b_ip, 7001));
    // And once both sides mux, the split is gone.
    again.rtcp_egress_port = 0;
    ASSERT_TRUE(upsert(again));
    EXPECT_FALSE(table.slot(port_a)->rule.rtcp_destination.known());
}

TEST_F(asymmetric_mux_test, unknown_rtcp_destination_is_dropped_as_such) {
    stream_rule unknown = a_rtp();
    unknown.stream_id = 50;  // a fresh stream: nothing learned to keep
    unknown.rtcp_destination = media_endpoint{};
    ASSERT_TRUE(upsert(unknown));
    EXPECT_TRUE(from_a(rtp_payload(1, 160, 0xa)).forwarded());
    EXPECT_EQ(from_a(rtcp_rr(0xa, {})).verdict, relay_counter::dropped_no_destination);
    EXPECT_EQ(stats_of(port_a, 50).errors, 1U);
}

}  // namespace
}  // namespace tandem::media
