#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "dataplane/media/rtp_stats.hpp"
#include "tests/unit/media/media_frames.hpp"

namespace tandem::media {
namespace {

using namespace tandem::media::test;

constexpr std::int64_t ms_ns = 1'000'000;

// Feeds one synthetic packet through parse_rtp + rtp_receive.
void feed(rtp_source_state& state, stream_stats& stats, std::uint16_t sequence, std::uint32_t timestamp,
          std::int64_t arrival_ns, std::uint32_t ssrc = 0x11223344, std::uint32_t clock_rate = 8000) {
    const auto payload = rtp_payload(sequence, timestamp, ssrc);
    const auto header = parse_rtp(payload);
    ASSERT_TRUE(header);
    rtp_receive(state, *header, arrival_ns, clock_rate, stats);
}

TEST(rtp_parse, reads_the_fixed_header) {
    auto payload = rtp_payload(0xbeef, 0x01020304, 0xcafef00d, 8);
    payload[1] |= 0x80;
    const auto header = parse_rtp(payload);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->sequence, 0xbeef);
    EXPECT_EQ(header->timestamp, 0x01020304U);
    EXPECT_EQ(header->ssrc, 0xcafef00dU);
    EXPECT_EQ(header->payload_type, 8);
    EXPECT_TRUE(header->marker);
}

TEST(rtp_parse, rejects_wrong_version_short_and_csrc_overrun) {
    auto payload = rtp_payload(1, 2, 3, 0, 0);
    EXPECT_TRUE(parse_rtp(payload));
    EXPECT_FALSE(parse_rtp(std::span(payload).first(11)));
    payload[0] = 0x40;  // version 1
    EXPECT_FALSE(parse_rtp(payload));
    payload[0] = 0x81;  // one CSRC, none present
    EXPECT_FALSE(parse_rtp(payload));
    payload.resize(16);
    EXPECT_TRUE(parse_rtp(payload));
}

TEST(rtp_parse, tells_rtcp_from_rtp_per_rfc5761) {
    EXPECT_TRUE(looks_like_rtcp(rtcp_rr(1, {})));
    EXPECT_TRUE(looks_like_rtcp(rtcp_sr(1, 2, 3)));
    EXPECT_FALSE(looks_like_rtcp(rtp_payload(1, 2, 3, 0)));
    EXPECT_FALSE(looks_like_rtcp(rtp_payload(1, 2, 3, 96)));
    const std::vector<std::uint8_t> edge_low{0x80, 191};
    const std::vector<std::uint8_t> edge_in{0x80, 192};
    const std::vector<std::uint8_t> edge_top{0x80, 223};
    const std::vector<std::uint8_t> edge_high{0x80, 224};
    EXPECT_FALSE(looks_like_rtcp(edge_low));
    EXPECT_TRUE(looks_like_rtcp(edge_in));
    EXPECT_TRUE(looks_like_rtcp(edge_top));
    EXPECT_FALSE(looks_like_rtcp(edge_high));
    EXPECT_FALSE(looks_like_rtcp(std::span<const std::uint8_t>()));
}

TEST(rtp_stats, probation_needs_two_sequential_packets) {
    rtp_source_state state;
    stream_stats stats;
    feed(state, stats, 100, 0, 0);
    EXPECT_EQ(stats.rtp_expected.load(), 0U);
    EXPECT_EQ(stats.ssrc.load(), 0x11223344U);
    feed(state, stats, 101, 160, 20 * ms_ns);
    EXPECT_EQ(stats.rtp_expected.load(), 1U);
    EXPECT_EQ(stats.rtp_lost.load(), 0U);
}

TEST(rtp_stats, thousand_packets_five_dropped_is_five_lost) {
    rtp_source_state state;
    stream_stats stats;
    const std::uint16_t first = 40000;
    for (std::uint16_t i = 0; i < 1000; ++i) {
        if (i == 10 || i == 200 || i == 201 || i == 555 || i == 998) {
            continue;
        }
        feed(state, stats, static_cast<std::uint16_t>(first + i), i * 160U, i * 20 * ms_ns);
    }
    // The first packet is the probation packet (RFC 3550 A.1): the count
    // starts at the second.
    EXPECT_EQ(stats.rtp_expected.load(), 999U);
    EXPECT_EQ(stats.rtp_lost.load(), 5U);
    EXPECT_EQ(stats.jitter_ts.load(), 0U);
}

TEST(rtp_stats, sequence_wrap_counts_a_cycle) {
    rtp_source_state state;
    stream_stats stats;
    for (std::uint32_t i = 0; i < 200; ++i) {
        feed(state, stats, static_cast<std::uint16_t>(65450 + i), i * 160,
             static_cast<std::int64_t>(i) * 20 * ms_ns);
    }
    EXPECT_EQ(state.cycles, 65536U);
    EXPECT_EQ(stats.rtp_expected.load(), 199U);
    EXPECT_EQ(stats.rtp_lost.load(), 0U);
}

TEST(rtp_stats, duplicates_and_reordering_do_not_make_loss_negative) {
    rtp_source_state state;
    stream_stats stats;
    const std::uint16_t order[] = {1, 2, 3, 5, 4, 6, 6, 6, 7, 8};
    std::int64_t t = 0;
    for (const auto seq : order) {
        feed(state, stats, seq, seq * 160U, t);
        t += 20 * ms_ns;
    }
    EXPECT_EQ(stats.rtp_expected.load(), 7U);  // 2..8
    EXPECT_EQ(stats.rtp_lost.load(), 0U);      // 9 received for 7 expected: clamped
}

TEST(rtp_stats, big_jump_resyncs_after_two_sequential_packets) {
    rtp_source_state state;
    stream_stats stats;
    std::int64_t t = 0;
    for (std::uint16_t seq = 10; seq < 20; ++seq, t += 20 * ms_ns) {
        feed(state, stats, seq, seq * 160U, t);
    }
    EXPECT_EQ(stats.rtp_expected.load(), 9U);
    feed(state, stats, 30000, 0, t);  // one stray packet: ignored
    EXPECT_EQ(stats.rtp_expected.load(), 9U);
    feed(state, stats, 20, 20 * 160U, t);
    EXPECT_EQ(stats.rtp_expected.load(), 10U);
    feed(state, stats, 50000, 0, t);  // the sender restarted
    feed(state, stats, 50001, 160, t);
    // A.1 re-syncs on the second packet: it becomes the new base.
    EXPECT_EQ(state.base_sequence, 50001U);
    EXPECT_EQ(stats.rtp_expected.load(), 11U);  // 10 before + 1 since
    EXPECT_EQ(stats.rtp_lost.load(), 0U);
}

TEST(rtp_stats, new_ssrc_starts_a_new_source_and_keeps_totals) {
    rtp_source_state state;
    stream_stats stats;
    std::int64_t t = 0;
    for (std::uint16_t seq = 0; seq < 50; ++seq, t += 20 * ms_ns) {
        if (seq != 20) {
            feed(state, stats, seq, seq * 160U, t, 0xaaaa);
        }
    }
    EXPECT_EQ(stats.rtp_lost.load(), 1U);
    for (std::uint16_t seq = 7000; seq < 7050; ++seq, t += 20 * ms_ns) {
        feed(state, stats, seq, seq * 160U, t, 0xbbbb);
    }
    EXPECT_EQ(stats.ssrc.load(), 0xbbbbU);
    EXPECT_EQ(stats.rtp_expected.load(), 49U + 49U);
    EXPECT_EQ(stats.rtp_lost.load(), 1U);
}

TEST(rtp_stats, constant_transit_gives_zero_jitter) {
    rtp_source_state state;
    stream_stats stats;
    const std::int64_t network_delay = 37 * ms_ns + 123;
    for (std::uint32_t i = 0; i < 500; ++i) {
        feed(state, stats, static_cast<std::uint16_t>(i), 9000 + i * 160,
             5'000 * ms_ns + network_delay + i * 20 * ms_ns);
    }
    EXPECT_EQ(stats.jitter_ts.load(), 0U);
}

// Arrivals alternately on time and 10 ms late (80 units at 8 kHz): every
// transit difference is 80, so the A.8 estimate converges to 80.
TEST(rtp_stats, alternating_80_units_converges_to_80) {
    rtp_source_state state;
    stream_stats stats;
    double reference = 0;
    for (std::uint32_t i = 0; i < 1000; ++i) {
        const std::int64_t late = (i % 2 == 1) ? 10 * ms_ns : 0;
        feed(state, stats, static_cast<std::uint16_t>(i), i * 160,
             static_cast<std::int64_t>(i) * 20 * ms_ns + late);
        if (i >= 2) {  // the first packet is probation, the second has no previous transit
            reference += (80.0 - reference) / 16.0;
        }
    }
    EXPECT_NEAR(reference, 80.0, 0.01);
    EXPECT_NEAR(static_cast<double>(stats.jitter_ts.load()), 80.0, 1.0);

    // After 10 packets the estimate is still climbing: compare to the float form.
    rtp_source_state early;
    stream_stats early_stats;
    reference = 0;
    for (std::uint32_t i = 0; i < 12; ++i) {
        const std::int64_t late = (i % 2 == 1) ? 10 * ms_ns : 0;
        feed(early, early_stats, static_cast<std::uint16_t>(i), i * 160,
             static_cast<std::int64_t>(i) * 20 * ms_ns + late);
        if (i >= 2) {
            reference += (80.0 - reference) / 16.0;
        }
    }
    EXPECT_NEAR(static_cast<double>(early_stats.jitter_ts.load()), reference, 1.0);
}

TEST(rtp_stats, jitter_uses_the_rule_clock_rate) {
    rtp_source_state state;
    stream_stats stats;
    for (std::uint32_t i = 0; i < 1000; ++i) {
        const std::int64_t late = (i % 2 == 1) ? 10 * ms_ns : 0;
        feed(state, stats, static_cast<std::uint16_t>(i), i * 960,
             static_cast<std::int64_t>(i) * 20 * ms_ns + late, 7, 48000);
    }
    EXPECT_NEAR(static_cast<double>(stats.jitter_ts.load()), 480.0, 1.0);
}

TEST(rtcp_parse, receiver_report_blocks) {
    report_block_values first{0x1111, 25, 3, 1000, 40, 0x12345678, 6553};
    report_block_values second{0x2222, 128, -2, 2000, 99, 0, 0};
    const auto rr = rtcp_rr(0xabcd, {first, second});
    const auto summary = parse_rtcp(rr);
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->packets, 1U);
    EXPECT_EQ(summary->sender_ssrc, 0xabcdU);
    EXPECT_FALSE(summary->has_sender_report);
    ASSERT_TRUE(summary->has_report_block);
    EXPECT_EQ(summary->block.ssrc, 0x1111U);
    EXPECT_EQ(summary->block.fraction_lost, 25);
    EXPECT_EQ(summary->block.cumulative_lost, 3);
    EXPECT_EQ(summary->block.extended_highest_sequence, 1000U);
    EXPECT_EQ(summary->block.jitter_ts, 40U);
    EXPECT_EQ(summary->block.last_sr, 0x12345678U);
    EXPECT_EQ(summary->block.delay_since_last_sr, 6553U);

    const auto preferred = parse_rtcp(rr, 0x2222U);
    ASSERT_TRUE(preferred);
    EXPECT_EQ(preferred->block.ssrc, 0x2222U);
    EXPECT_EQ(preferred->block.fraction_lost, 128);
    EXPECT_EQ(preferred->block.cumulative_lost, -2);  // 24-bit sign extension

    const auto absent = parse_rtcp(rr, 0x9999U);
    ASSERT_TRUE(absent);
    EXPECT_EQ(absent->block.ssrc, 0x1111U);
}

TEST(rtcp_parse, compound_sender_report_with_sdes) {
    auto compound = rtcp_sr(0x5555, 0x00010002, 0x00030004, {report_block_values{0x6666, 1, 2, 3, 4, 5, 6}});
    append_sdes(compound, 0x5555);
    const auto summary = parse_rtcp(compound);
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->packets, 2U);
    EXPECT_TRUE(summary->has_sender_report);
    EXPECT_EQ(summary->sr_ntp_middle, 0x00020003U);
    EXPECT_EQ(summary->sender_ssrc, 0x5555U);
    ASSERT_TRUE(summary->has_report_block);
    EXPECT_EQ(summary->block.ssrc, 0x6666U);
}

TEST(rtcp_parse, overrunning_length_stops_the_walk) {
    auto compound = rtcp_rr(1, {report_block_values{2, 3, 4, 5, 6, 7, 8}});
    append_sdes(compound, 1);
    compound[compound.size() - 16 + 3] = 0xff;  // SDES length beyond the datagram
    const auto summary = parse_rtcp(compound);
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->packets, 1U);
    EXPECT_TRUE(summary->has_report_block);

    auto truncated = rtcp_rr(1, {report_block_values{}});
    truncated.resize(truncated.size() - 4);
    EXPECT_FALSE(parse_rtcp(truncated));
    // RC says 3 blocks but the length holds one: read what is there.
    auto lying = rtcp_rr(1, {report_block_values{9, 0, 0, 0, 0, 0, 0}});
    lying[0] = 0x83;
    const auto partial = parse_rtcp(lying);
    ASSERT_TRUE(partial);
    EXPECT_EQ(partial->block.ssrc, 9U);
}

TEST(rtcp_parse, garbage_never_crashes) {
    std::mt19937 random(7);
    std::vector<std::uint8_t> bytes;
    for (int round = 0; round < 50000; ++round) {
        bytes.resize(random() % 200);
        for (auto& b : bytes) {
            b = static_cast<std::uint8_t>(random());
        }
        if (!bytes.empty() && round % 2 == 0) {
            bytes[0] = static_cast<std::uint8_t>(0x80 | (bytes[0] & 0x3f));
        }
        const auto summary = parse_rtcp(bytes, 0x1234U);
        if (summary) {
            EXPECT_LE(summary->packets, max_rtcp_packets);
        }
        (void)parse_rtp(bytes);
    }
}

TEST(rtcp_stats, report_block_and_round_trip) {
    sender_report_history history;
    history.record(0x00020003, 1'000 * ms_ns);
    stream_stats stats;
    // DLSR 16384/65536 s = 250 ms; the RR comes back 300 ms after the SR.
    const auto rr = rtcp_rr(7, {report_block_values{0x1, 64, 12, 0, 33, 0x00020003, 16384}});
    const auto summary = parse_rtcp(rr);
    ASSERT_TRUE(summary);
    rtcp_receive(*summary, 1'300 * ms_ns, &history, stats);
    EXPECT_EQ(stats.rtcp_packets.load(), 1U);
    EXPECT_EQ(stats.remote_fraction_lost.load(), 64U);
    EXPECT_EQ(stats.remote_packets_lost.load(), 12);
    EXPECT_EQ(stats.remote_jitter_ts.load(), 33U);
    EXPECT_EQ(stats.rtt_us.load(), 50'000U);

    // Unknown LSR, or LSR 0: no round trip.
    stream_stats other;
    rtcp_receive(*parse_rtcp(rtcp_rr(7, {report_block_values{0x1, 0, 0, 0, 0, 0x0bad, 1}})), 2'000 * ms_ns,
                 &history, other);
    rtcp_receive(*parse_rtcp(rtcp_rr(7, {report_block_values{0x1, 0, 0, 0, 0, 0, 1}})), 2'000 * ms_ns,
                 &history, other);
    EXPECT_EQ(other.rtt_us.load(), 0U);
    EXPECT_EQ(other.rtcp_packets.load(), 2U);
}

}  // namespace
}  // namespace tandem::media
