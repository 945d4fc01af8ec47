// SSRC continuity (flag_ssrc_continuity): the mapping on its own
// (rtp_continuity_map), then through relay_udp on real frames, RTP and RTCP,
// with the UDP checksum checked independently after every rewrite.

#include <gtest/gtest.h>

#include "dataplane/media/rtp_stats.hpp"
#include "dataplane/packet/bytes.hpp"
#include "tests/unit/media/relay_fixture.hpp"

namespace tandem::media {
namespace {

using namespace tandem::media::test;

constexpr std::int64_t ms_ns = 1'000'000;
constexpr std::int64_t start_ns = 5'000 * ms_ns;

rtp_header_view header(std::uint16_t sequence, std::uint32_t timestamp, std::uint32_t ssrc) {
    rtp_header_view h;
    h.sequence = sequence;
    h.timestamp = timestamp;
    h.ssrc = ssrc;
    return h;
}

// Feeds `count` packets of 20 ms (160 units at 8 kHz) and returns the time
// of the last one.
std::int64_t feed(rtp_continuity_state& state, std::uint32_t ssrc, std::uint16_t first_sequence,
                  std::uint32_t first_timestamp, int count, std::int64_t first_ns) {
    for (int i = 0; i < count; ++i) {
        const auto mapped = rtp_continuity_map(
            state, header(static_cast<std::uint16_t>(first_sequence + i), first_timestamp + 160U * i, ssrc),
            first_ns + i * 20 * ms_ns, 8000);
        EXPECT_EQ(mapped.ssrc, state.output_ssrc);
    }
    return first_ns + (count - 1) * 20 * ms_ns;
}

TEST(rtp_continuity, first_source_passes_unchanged) {
    rtp_continuity_state state;
    for (std::uint16_t i = 0; i < 5; ++i) {
        const auto h = header(static_cast<std::uint16_t>(65533 + i), 4'294'967'000U + 160U * i, 0xaaaa);
        const auto mapped = rtp_continuity_map(state, h, start_ns + i * 20 * ms_ns, 8000);
        EXPECT_FALSE(mapped.changes(h)) << i;
    }
    EXPECT_TRUE(state.active);
    EXPECT_EQ(state.output_ssrc, 0xaaaaU);
    EXPECT_EQ(state.source_changes, 0U);
    EXPECT_EQ(state.timestamp_step, 160U);
    EXPECT_EQ(state.last_sequence, 1);  // wrapped
}

TEST(rtp_continuity, a_new_source_continues_sequence_and_timestamp) {
    rtp_continuity_state state;
    const std::int64_t last_ns = feed(state, 0xaaaa, 100, 1000, 5, start_ns);  // seq 100..104, ts ..1640
    // The new source starts 20 ms later with numbers of its own.
    auto mapped = rtp_continuity_map(state, header(5000, 777'777, 0xbbbb), last_ns + 20 * ms_ns, 8000);
    EXPECT_EQ(mapped.ssrc, 0xaaaaU);
    EXPECT_EQ(mapped.sequence, 105);
    EXPECT_EQ(mapped.timestamp, 1640U + 160U);
    EXPECT_EQ(state.source_changes, 1U);
    // And keeps going with the same offsets.
    mapped = rtp_continuity_map(state, header(5001, 777'777 + 160, 0xbbbb), last_ns + 40 * ms_ns, 8000);
    EXPECT_EQ(mapped.sequence, 106);
    EXPECT_EQ(mapped.timestamp, 1640U + 320U);
    EXPECT_EQ(mapped.ssrc, 0xaaaaU);
}

TEST(rtp_continuity, timestamp_gap_follows_wall_time_rounded_to_the_step) {
    rtp_continuity_state state;
    const std::int64_t last_ns = feed(state, 0xaaaa, 1, 0, 3, start_ns);  // ts 0, 160, 320
    // 2.013 s of silence between the re-INVITE and the new server's media:
    // 16104 units, rounded to 101 steps of 160.
    const auto mapped = rtp_continuity_map(state, header(9, 50, 0xbbbb), last_ns + 2013 * ms_ns, 8000);
    EXPECT_EQ(mapped.timestamp, 320U + 16160U);
    EXPECT_EQ(mapped.sequence, 4);
}

TEST(rtp_continuity, without_a_known_step_the_exact_elapsed_units_are_used) {
    rtp_continuity_state state;
    (void)rtp_continuity_map(state, header(1, 0, 0xaaaa), start_ns, 16000);
    const auto mapped = rtp_continuity_map(state, header(1, 0, 0xbbbb), start_ns + 7 * ms_ns, 16000);
    EXPECT_EQ(mapped.timestamp, 112U);  // 7 ms at 16 kHz
    // Even with no time at all the timestamp moves on.
    const auto again = rtp_continuity_map(state, header(1, 0, 0xcccc), start_ns + 7 * ms_ns, 16000);
    EXPECT_EQ(again.timestamp, 113U);
    EXPECT_EQ(again.sequence, 3);
}

TEST(rtp_continuity, late_packets_of_the_old_source_keep_their_old_mapping) {
    rtp_continuity_state state;
    std::int64_t t = feed(state, 0xaaaa, 100, 1000, 5, start_ns);  // 100..104
    t += 20 * ms_ns;
    (void)rtp_continuity_map(state, header(7000, 0, 0xbbbb), t, 8000);  // becomes 105
    // Old source's 103 arrives late: it is 103 to the receiver too, behind.
    const auto late = rtp_continuity_map(state, header(103, 1480, 0xaaaa), t + ms_ns, 8000);
    EXPECT_EQ(late.sequence, 103);
    EXPECT_EQ(late.timestamp, 1480U);
    EXPECT_EQ(late.ssrc, 0xaaaaU);
    EXPECT_EQ(state.source_changes, 1U);
    // The new source goes on undisturbed.
    const auto next = rtp_continuity_map(state, header(7001, 160, 0xbbbb), t + 20 * ms_ns, 8000);
    EXPECT_EQ(next.sequence, 106);
    EXPECT_EQ(state.current.input_ssrc, 0xbbbbU);
}

TEST(rtp_continuity, the_old_source_coming_back_for_good_is_mapped_afresh) {
    rtp_continuity_state state;
    std::int64_t t = feed(state, 0xaaaa, 100, 1000, 5, start_ns);  // 100..104
    t = feed(state, 0xbbbb, 7000, 0, 10, t + 20 * ms_ns);          // 105..114
    // Back to the first server (a second re-INVITE): its 105 would collide
    // with what B already sent, so it gets offsets and continues at 115.
    const auto back = rtp_continuity_map(state, header(105, 1800, 0xaaaa), t + 20 * ms_ns, 8000);
    EXPECT_EQ(back.sequence, 115);
    EXPECT_EQ(back.ssrc, 0xaaaaU);
    EXPECT_EQ(state.source_changes, 2U);
    EXPECT_EQ(state.current.input_ssrc, 0xaaaaU);
    EXPECT_EQ(state.previous.input_ssrc, 0xbbbbU);
}

TEST(rtp_continuity, sequence_and_timestamp_offsets_wrap) {
    rtp_continuity_state state;
    const std::int64_t t = feed(state, 0xaaaa, 65534, 4'294'967'100U, 2, start_ns);  // 65534, 65535
    const auto mapped = rtp_continuity_map(state, header(3, 10, 0xbbbb), t + 20 * ms_ns, 8000);
    EXPECT_EQ(mapped.sequence, 0);
    EXPECT_EQ(mapped.timestamp, 4'294'967'100U + 160U + 160U);  // wraps modulo 2^32
}

TEST(rtp_continuity, lookup_knows_the_current_and_previous_sources_only) {
    rtp_continuity_state state;
    EXPECT_FALSE(rtp_continuity_lookup(state, 1));
    std::int64_t t = feed(state, 1, 10, 0, 2, start_ns);
    t = feed(state, 2, 500, 0, 2, t + 20 * ms_ns);
    ASSERT_TRUE(rtp_continuity_lookup(state, 1));
    EXPECT_EQ(rtp_continuity_lookup(state, 1)->timestamp_offset, 0U);
    ASSERT_TRUE(rtp_continuity_lookup(state, 2));
    EXPECT_NE(rtp_continuity_lookup(state, 2)->timestamp_offset, 0U);
    (void)feed(state, 3, 900, 0, 1, t + 20 * ms_ns);
    EXPECT_FALSE(rtp_continuity_lookup(state, 1));
    EXPECT_TRUE(rtp_continuity_lookup(state, 3));
}

// ---------------------------------------------------------------------------
// Through relay_udp.

constexpr std::size_t ipv4_payload = 14 + 20 + 8;
constexpr std::size_t ipv6_payload = 14 + 40 + 8;

struct forwarded_rtp {
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    std::uint32_t ssrc = 0;
};

forwarded_rtp read_rtp(const std::vector<std::uint8_t>& frame, std::size_t at) {
    const std::span<const std::uint8_t> bytes(frame);
    return {packet::load_be16(bytes, at + 2), packet::load_be32(bytes, at + 4),
            packet::load_be32(bytes, at + 8)};
}

class continuity_test : public relay_fixture {
  protected:
    // A sends to port_a; RTCP of A to port_a + 1. B is the receiver.
    void SetUp() override {
        relay_fixture::SetUp();
        ASSERT_TRUE(upsert(rule_a(flag_ssrc_continuity)));
        ASSERT_TRUE(upsert(rule_b()));
        stream_rule rtcp = rule_a(flag_rtcp | flag_ssrc_continuity);
        rtcp.stream_id = 3;
        rtcp.local_port = port_a + 1;
        rtcp.egress_port = port_b + 1;
        rtcp.expected_source = endpoint4(peer_a_ip, 4001);
        rtcp.destination = endpoint4(peer_b_ip, 5001);
        ASSERT_TRUE(upsert(rtcp));
    }

    forwarded_rtp relay_rtp(std::uint16_t sequence, std::uint32_t timestamp, std::uint32_t ssrc,
                            std::uint16_t source_port = 4000) {
        auto frame = udp4(peer_a_ip, source_port, port_a, rtp_payload(sequence, timestamp, ssrc));
        const auto result = send(frame);
        EXPECT_TRUE(result.forwarded()) << static_cast<int>(result.verdict);
        EXPECT_TRUE(udp_checksum_valid(frame, 14, 34));
        last_frame = frame;
        return read_rtp(frame, ipv4_payload);
    }
};

TEST_F(continuity_test, an_ssrc_change_is_invisible_to_the_receiver) {
    for (std::uint16_t i = 0; i < 5; ++i) {
        const auto out = relay_rtp(static_cast<std::uint16_t>(100 + i), 1000 + 160U * i, 0x1111);
        EXPECT_EQ(out.sequence, 100 + i);  // the first source passes unchanged
        EXPECT_EQ(out.ssrc, 0x1111U);
        clock.advance_ms(20);
    }
    // The media moved to another server (from another port, within the
    // learning window): new SSRC, sequence and timestamp.
    for (std::uint16_t i = 0; i < 5; ++i) {
        const auto out = relay_rtp(static_cast<std::uint16_t>(40000 + i), 900'000 + 160U * i, 0x2222, 4100);
        EXPECT_EQ(out.ssrc, 0x1111U);
        EXPECT_EQ(out.sequence, 105 + i);
        EXPECT_EQ(out.timestamp, 1000 + 160U * (5 + i));
        clock.advance_ms(20);
    }
    const auto stats = stats_of(port_a, 1);
    EXPECT_EQ(stats.ssrc, 0x2222U);  // statistics describe what arrives
    EXPECT_EQ(stats.ssrc_changes, 1U);
    EXPECT_EQ(stats.packets, 10U);
}

TEST_F(continuity_test, checksums_stay_valid_for_many_values) {
    // Varied sequence/timestamp/SSRC values exercise carries in the
    // incremental update; every frame is checked by the reference sum.
    std::uint32_t ssrc = 0x01020304;
    std::uint16_t sequence = 65000;
    std::uint32_t timestamp = 0xfffff000;
    for (int round = 0; round < 200; ++round) {
        (void)relay_rtp(sequence, timestamp, ssrc);
        clock.advance_ms(20 + round % 7);
        if (round % 3 == 0) {
            ssrc = ssrc * 2654435761U + 0x9e3779b9U;
            sequence = static_cast<std::uint16_t>(sequence * 31 + 17);
            timestamp = timestamp * 69069U + 1;
        } else {
            ++sequence;
            timestamp += 160;
        }
    }
    EXPECT_EQ(read_rtp(last_frame, ipv4_payload).ssrc, 0x01020304U);
}

TEST_F(continuity_test, ipv4_without_udp_checksum_and_offload_mode) {
    (void)relay_rtp(1, 0, 0x1111);
    clock.advance_ms(20);
    auto frame = udp4(peer_a_ip, 4000, port_a, rtp_payload(77, 5000, 0x2222));
    frame[34 + 6] = 0;
    frame[34 + 7] = 0;
    ASSERT_TRUE(send(frame).forwarded());
    EXPECT_EQ(frame[40], 0);
    EXPECT_EQ(frame[41], 0);
    EXPECT_EQ(read_rtp(frame, ipv4_payload).ssrc, 0x1111U);
    EXPECT_EQ(read_rtp(frame, ipv4_payload).sequence, 2);

    clock.advance_ms(20);
    auto offloaded = udp4(peer_a_ip, 4000, port_a, rtp_payload(78, 5160, 0x2222));
    const auto result = send(offloaded, checksum_mode::offload);
    ASSERT_TRUE(result.forwarded());
    EXPECT_EQ(read_rtp(offloaded, ipv4_payload).sequence, 3);
    // The field holds the pseudo-header sum; the NIC adds the payload.
    std::uint32_t pseudo = ref_sum(std::span<const std::uint8_t>(offloaded).subspan(26, 8));
    pseudo += 17 + static_cast<std::uint32_t>(offloaded.size() - 34);
    EXPECT_EQ(packet::load_be16(offloaded, 40), ref_fold(pseudo));
}

TEST_F(continuity_test, ipv6_rewrite_keeps_the_checksum_valid) {
    stream_rule a6 = rule_a(flag_ssrc_continuity);
    a6.stream_id = 10;
    a6.expected_source = endpoint6(peer_a_ip6, 4000);
    a6.destination = endpoint6(peer_b_ip6, 5000);
    ASSERT_TRUE(upsert(a6));
    stream_rule b6 = rule_b();
    b6.stream_id = 11;
    b6.expected_source = endpoint6(peer_b_ip6, 5000);
    b6.destination = endpoint6(peer_a_ip6, 4000);
    ASSERT_TRUE(upsert(b6));
    auto first = udp6(peer_a_ip6, 4000, port_a, rtp_payload(10, 100, 0xa1));
    ASSERT_TRUE(send(first).forwarded());
    clock.advance_ms(20);
    auto second = udp6(peer_a_ip6, 4000, port_a, rtp_payload(999, 123456, 0xb2));
    ASSERT_TRUE(send(second).forwarded());
    EXPECT_TRUE(udp_checksum_valid(second, 14, 54));
    const auto out = read_rtp(second, ipv6_payload);
    EXPECT_EQ(out.ssrc, 0xa1U);
    EXPECT_EQ(out.sequence, 11);
    EXPECT_EQ(out.timestamp, 100U + 160U);
}

TEST_F(continuity_test, without_the_flag_nothing_is_rewritten) {
    ASSERT_TRUE(upsert(rule_a()));  // same stream id, flag off
    (void)relay_rtp(1, 0, 0x1111);
    clock.advance_ms(20);
    const auto out = relay_rtp(5000, 777, 0x2222);
    EXPECT_EQ(out.ssrc, 0x2222U);
    EXPECT_EQ(out.sequence, 5000);
    EXPECT_EQ(out.timestamp, 777U);
}

TEST_F(continuity_test, a_reinvite_upsert_keeps_the_mapping) {
    (void)relay_rtp(1, 0, 0x1111);
    clock.advance_ms(20);
    // Same stream, new expected source (the re-INVITE's SDP).
    stream_rule moved = rule_a(flag_ssrc_continuity);
    moved.expected_source = endpoint4(peer_a_ip, 4100);
    ASSERT_TRUE(upsert(moved));
    const auto out = relay_rtp(300, 9999, 0x2222, 4100);
    EXPECT_EQ(out.ssrc, 0x1111U);
    EXPECT_EQ(out.sequence, 2);
    // A new stream on the port starts over.
    stream_rule other = rule_a(flag_ssrc_continuity);
    other.stream_id = 42;
    ASSERT_TRUE(upsert(other));
    clock.advance_ms(20);
    EXPECT_EQ(relay_rtp(300, 9999, 0x3333).ssrc, 0x3333U);
}

TEST_F(continuity_test, dropped_packets_do_not_move_the_receivers_view) {
    (void)relay_rtp(1, 0, 0x1111);
    clock.advance_ms(20);
    // Blackholed (hold): not forwarded, so not "the last forwarded".
    ASSERT_TRUE(upsert(rule_a(flag_ssrc_continuity | flag_blackhole)));
    auto held = udp4(peer_a_ip, 4000, port_a, rtp_payload(2, 160, 0x2222));
    EXPECT_FALSE(send(held).forwarded());
    ASSERT_TRUE(upsert(rule_a(flag_ssrc_continuity)));
    clock.advance_ms(20);
    const auto out = relay_rtp(3, 320, 0x2222);
    EXPECT_EQ(out.sequence, 2);
    EXPECT_EQ(out.ssrc, 0x1111U);
}

TEST_F(continuity_test, rtcp_is_never_rewritten_as_rtp) {
    // RTCP on the muxed port: its bytes 2..11 are not an RTP header.
    ASSERT_TRUE(upsert(rule_a(flag_ssrc_continuity | flag_rtcp_mux)));
    (void)relay_rtp(1, 0, 0x1111);
    clock.advance_ms(20);
    auto rr = rtcp_rr(0x9999, {report_block_values{0x5555, 1, 2, 3, 4, 0, 0}});
    const auto original = rr;
    auto frame = udp4(peer_a_ip, 4000, port_a, rr);
    ASSERT_TRUE(send(frame).forwarded());
    EXPECT_TRUE(std::equal(original.begin(), original.end(), frame.begin() + ipv4_payload));
    EXPECT_EQ(stats_of(port_a, 1).ssrc_changes, 0U);
}

// RTCP SRs of a mapped sender, on the RTCP port (P+1) and on a muxed port.
class rtcp_continuity_test : public continuity_test, public ::testing::WithParamInterface<bool> {};

TEST_P(rtcp_continuity_test, sender_reports_follow_the_mapping) {
    const bool muxed = GetParam();
    if (muxed) {
        ASSERT_TRUE(upsert(rule_a(flag_ssrc_continuity | flag_rtcp_mux)));
    }
    const std::uint16_t rtcp_port = muxed ? port_a : static_cast<std::uint16_t>(port_a + 1);
    const std::uint16_t rtcp_source = muxed ? 4000 : 4001;
    for (std::uint16_t i = 0; i < 3; ++i) {
        (void)relay_rtp(static_cast<std::uint16_t>(10 + i), 160U * i, 0x1111);
        clock.advance_ms(20);
    }
    (void)relay_rtp(500, 70'000, 0x2222);  // mapped: ts offset 480 - 70000

    auto sr = rtcp_sr(0x2222, 0x11223344, 0x55667788);  // RTP timestamp 12345
    append_sdes(sr, 0x2222);
    auto frame = udp4(peer_a_ip, rtcp_source, rtcp_port, sr);
    const auto result = send(frame);
    ASSERT_TRUE(result.forwarded());
    EXPECT_TRUE(udp_checksum_valid(frame, 14, 34));
    const std::span<const std::uint8_t> out = std::span<const std::uint8_t>(frame).subspan(ipv4_payload);
    EXPECT_EQ(packet::load_be32(out, 4), 0x1111U);                   // SR sender SSRC
    EXPECT_EQ(packet::load_be32(out, 8), 0x11223344U);               // NTP untouched
    EXPECT_EQ(packet::load_be32(out, 16), 12345U + 480U - 70'000U);  // same offset as RTP
    EXPECT_EQ(packet::load_be32(out, 20), 100U);                     // packet count untouched
    EXPECT_EQ(packet::load_be32(out, 28 + 4), 0x1111U);              // SDES chunk SSRC
    EXPECT_EQ(static_cast<std::uint16_t>((frame[36] << 8) | frame[37]), 5001 - (muxed ? 1 : 0));

    // An SR of a sender the stream never forwarded RTP from is left alone.
    auto stranger = udp4(peer_a_ip, rtcp_source, rtcp_port, rtcp_sr(0x7777, 1, 2));
    ASSERT_TRUE(send(stranger).forwarded());
    EXPECT_EQ(packet::load_be32(stranger, ipv4_payload + 4), 0x7777U);
    EXPECT_TRUE(udp_checksum_valid(stranger, 14, 34));
}

TEST_F(continuity_test, a_header_only_sdes_does_not_rewrite_the_next_packet) {
    for (std::uint16_t i = 0; i < 2; ++i) {
        (void)relay_rtp(static_cast<std::uint16_t>(10 + i), 160U * i, 0x1111);
        clock.advance_ms(20);
    }
    (void)relay_rtp(500, 70'000, 0x2222);
    // An SDES claiming one chunk but 4 bytes long, followed by bytes that
    // happen to read as a mapped SSRC: they are not its chunk.
    const std::vector<std::uint8_t> compound{0x81, 202, 0, 0, 0, 0, 0x22, 0x22};
    const auto original = compound;
    auto frame = udp4(peer_a_ip, 4001, port_a + 1, compound);
    ASSERT_TRUE(send(frame).forwarded());
    EXPECT_TRUE(std::equal(original.begin(), original.end(), frame.begin() + ipv4_payload));
    EXPECT_TRUE(udp_checksum_valid(frame, 14, 34));
}

INSTANTIATE_TEST_SUITE_P(ports, rtcp_continuity_test, ::testing::Values(false, true),
                         [](const auto& case_info) { return case_info.param ? "muxed" : "rtcp_port"; });

}  // namespace
}  // namespace tandem::media
