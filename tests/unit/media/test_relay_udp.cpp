#include <gtest/gtest.h>

#include <random>

#include "dataplane/packet/headers.hpp"
#include "tests/unit/media/relay_fixture.hpp"

namespace tandem::media {
namespace {

using namespace tandem::media::test;

constexpr std::int64_t ms_ns = 1'000'000;

class relay_udp_test : public relay_fixture {};

TEST_F(relay_udp_test, forwards_ipv4_rewriting_every_header_field) {
    ASSERT_TRUE(upsert(rule_a()));
    const auto payload = rtp_payload(7, 1120, 0xfeed);
    auto frame = udp4(peer_a_ip, 4000, port_a, payload);
    const std::size_t original_size = frame.size();

    const relay_result result = send(frame);
    ASSERT_TRUE(result.forwarded());
    EXPECT_EQ(result.frame_length, original_size);
    EXPECT_EQ(result.family, 4);
    EXPECT_EQ(result.l3_offset, 14);
    EXPECT_EQ(result.l4_offset, 34);
    EXPECT_TRUE(result.udp_checksum);

    // What a host at our address would have sent to B through the gateway
    // (build_udp uses the same IP id, flags and TTL 64).
    const auto expected =
        packet::build_udp(packet::ipv4_flow{our_mac, gateway_mac, our_ip, peer_b_ip}, port_b, 5000, payload);
    ASSERT_EQ(frame.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(frame[i], expected[i]) << "byte " << i;
    }
    // And independently of the packet library:
    EXPECT_TRUE(ipv4_header_checksum_valid(frame, 14));
    EXPECT_TRUE(udp_checksum_valid(frame, 14, 34));
    EXPECT_EQ(frame[22], 64);    // TTL
    EXPECT_EQ(frame[18], 0x12);  // IP id kept
    EXPECT_EQ(frame[19], 0x34);

    EXPECT_EQ(count(relay_counter::forwarded), 1U);
    EXPECT_EQ(total_count(), 1U);
    const auto stats = stats_of(port_a, 1);
    EXPECT_EQ(stats.packets, 1U);
    EXPECT_EQ(stats.bytes, payload.size());
    EXPECT_EQ(stats.last_packet_ns, now());
    EXPECT_EQ(stats.ssrc, 0xfeedU);
    EXPECT_EQ(stats.errors, 0U);
}

TEST_F(relay_udp_test, forwards_to_an_on_link_peer_with_its_own_mac) {
    ASSERT_TRUE(upsert(rule_b()));
    EXPECT_TRUE(send_from_b().forwarded());
    EXPECT_TRUE(std::equal(peer_mac.begin(), peer_mac.end(), last_frame.begin()));
    EXPECT_EQ(destination_port_of_last_frame(), 4000);
    EXPECT_TRUE(udp_checksum_valid(last_frame, 14, 34));
}

TEST_F(relay_udp_test, udp_checksum_stays_valid_for_many_payloads_and_addresses) {
    std::mt19937 random(3);
    for (int round = 0; round < 300; ++round) {
        stream_rule rule = rule_a();
        // Off link (1.x.x.x .. 100.x.x.x): the gateway's MAC.
        rule.destination =
            endpoint4({static_cast<std::uint8_t>(1 + random() % 100), static_cast<std::uint8_t>(random()),
                       static_cast<std::uint8_t>(random()), static_cast<std::uint8_t>(random())},
                      static_cast<std::uint16_t>(random() | 1));
        rule.egress_port = static_cast<std::uint16_t>(random() | 1);
        ASSERT_TRUE(upsert(rule));
        std::vector<std::uint8_t> payload(random() % 300);
        for (auto& b : payload) {
            b = static_cast<std::uint8_t>(random());
        }
        const packet::ipv4_address source{10, static_cast<std::uint8_t>(random()), 1, 1};
        auto frame = udp4(source, static_cast<std::uint16_t>(random() | 1), port_a, payload);
        const auto result = send(frame);
        ASSERT_TRUE(result.forwarded()) << round;
        ASSERT_TRUE(udp_checksum_valid(frame, 14, 34)) << round;
        ASSERT_TRUE(ipv4_header_checksum_valid(frame, 14)) << round;
    }
}

TEST_F(relay_udp_test, forwards_ipv6) {
    stream_rule rule = rule_a();
    rule.expected_source = endpoint6(peer_a_ip6, 4000);
    rule.destination = endpoint6(peer_b_ip6, 5000);
    ASSERT_TRUE(upsert(rule));
    const auto payload = rtp_payload(1, 160, 9);
    auto frame = udp6(peer_a_ip6, 4000, port_a, payload);
    const auto result = send(frame);
    ASSERT_TRUE(result.forwarded());
    EXPECT_EQ(result.family, 6);
    EXPECT_EQ(result.frame_length, frame.size());

    auto expected = udp6(our_ip6, port_b, 5000, payload, peer_b_ip6);
    std::copy(gateway_mac.begin(), gateway_mac.end(), expected.begin());
    std::copy(our_mac.begin(), our_mac.end(), expected.begin() + 6);
    expected[21] = 64;  // hop limit
    ASSERT_EQ(frame.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(frame[i], expected[i]) << "byte " << i;
    }
    EXPECT_TRUE(udp_checksum_valid(frame, 14, 54));
}

TEST_F(relay_udp_test, ipv6_zero_checksum_is_replaced_by_a_valid_one) {
    stream_rule rule = rule_a();
    rule.destination = endpoint6(peer_a_ip6, 5000);
    ASSERT_TRUE(upsert(rule));
    auto frame = udp6(peer_b_ip6, 4000, port_a, rtp_payload(1, 160, 9));
    frame[60] = 0;
    frame[61] = 0;
    ASSERT_TRUE(send(frame).forwarded());
    EXPECT_FALSE(frame[60] == 0 && frame[61] == 0);
    EXPECT_TRUE(udp_checksum_valid(frame, 14, 54));
}

TEST_F(relay_udp_test, ipv4_without_udp_checksum_stays_without) {
    ASSERT_TRUE(upsert(rule_a()));
    auto frame = udp4(peer_a_ip, 4000, port_a, rtp_payload(1, 2, 3));
    frame[40] = 0;
    frame[41] = 0;
    const auto result = send(frame);
    ASSERT_TRUE(result.forwarded());
    EXPECT_FALSE(result.udp_checksum);
    EXPECT_EQ(frame[40], 0);
    EXPECT_EQ(frame[41], 0);
    EXPECT_TRUE(ipv4_header_checksum_valid(frame, 14));
}

TEST_F(relay_udp_test, offload_mode_leaves_checksums_to_the_nic) {
    ASSERT_TRUE(upsert(rule_a()));
    const auto payload = rtp_payload(1, 2, 3);
    auto frame = udp4(peer_a_ip, 4000, port_a, payload);
    const auto result = send(frame, checksum_mode::offload);
    ASSERT_TRUE(result.forwarded());
    EXPECT_TRUE(result.udp_checksum);
    EXPECT_EQ(frame[24], 0);  // IPv4 header checksum: the NIC's job
    EXPECT_EQ(frame[25], 0);
    // The UDP field holds the folded pseudo-header sum (DPDK's
    // rte_ipv4_phdr_cksum), not complemented.
    std::uint32_t pseudo = ref_sum(our_ip);
    pseudo = ref_sum(peer_b_ip, pseudo);
    pseudo += 17 + static_cast<std::uint32_t>(8 + payload.size());
    const std::uint16_t folded = ref_fold(pseudo);
    EXPECT_EQ(frame[40], folded >> 8);
    EXPECT_EQ(frame[41], folded & 0xff);
    // What the NIC then computes is the correct checksum.
    std::vector<std::uint8_t> nic = frame;
    const std::uint16_t sum = ref_fold(ref_sum(std::span(nic).subspan(34)));
    nic[40] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(~sum) >> 8);
    nic[41] = static_cast<std::uint8_t>(~sum);
    EXPECT_TRUE(udp_checksum_valid(nic, 14, 34));
}

TEST_F(relay_udp_test, ethernet_padding_is_not_forwarded) {
    ASSERT_TRUE(upsert(rule_a()));
    const std::vector<std::uint8_t> tiny{0x80, 0, 0, 1};
    auto frame = udp4(peer_a_ip, 4000, port_a, tiny);
    const std::size_t ip_end = frame.size();
    frame.resize(60, 0);  // minimum Ethernet frame without FCS
    const auto result = send(frame);
    ASSERT_TRUE(result.forwarded());
    EXPECT_EQ(result.frame_length, ip_end);
    EXPECT_TRUE(udp_checksum_valid(frame, 14, 34));
    EXPECT_EQ(stats_of(port_a, 1).bytes, tiny.size());
}

TEST_F(relay_udp_test, no_stream_on_the_port) {
    ASSERT_TRUE(upsert(rule_a()));
    EXPECT_EQ(send_from_a(4000, 12346).verdict, relay_counter::dropped_no_stream);
    EXPECT_EQ(send_from_a(4000, 30000).verdict, relay_counter::dropped_no_stream);  // beyond the table
    EXPECT_EQ(count(relay_counter::dropped_no_stream), 2U);
    EXPECT_EQ(stats_of(port_a, 1).packets, 0U);
}

TEST_F(relay_udp_test, malformed_or_misclassified_input_is_dropped) {
    ASSERT_TRUE(upsert(rule_a()));
    auto frame = udp4(peer_a_ip, 4000, port_a, rtp_payload(1, 2, 3));
    const auto good = packet::classify(frame, net.identity);
    ASSERT_EQ(good.kind, packet::verdict::udp_for_us);

    const auto try_with = [&](packet::classification what) {
        auto copy = frame;
        return relay_udp(table, neighbours, net, copy, what, now(), relay_counters{&counters, 0, 0}).verdict;
    };
    auto other = good;
    other.kind = packet::verdict::icmp_echo_for_us;
    EXPECT_EQ(try_with(other), relay_counter::dropped_malformed);
    auto far = good;
    far.l4_offset = 60000;
    EXPECT_EQ(try_with(far), relay_counter::dropped_malformed);
    auto long_l4 = good;
    long_l4.l4_length = 4000;
    EXPECT_EQ(try_with(long_l4), relay_counter::dropped_malformed);
    auto zero = good;
    zero.l3_offset = 0;
    EXPECT_EQ(try_with(zero), relay_counter::dropped_malformed);
    auto shifted = good;
    shifted.l4_offset = static_cast<std::uint16_t>(good.l4_offset + 2);
    shifted.l4_length = static_cast<std::uint16_t>(good.l4_length - 2);
    EXPECT_EQ(try_with(shifted), relay_counter::dropped_malformed);
    EXPECT_EQ(try_with(packet::classification{}), relay_counter::dropped_malformed);
    EXPECT_EQ(count(relay_counter::dropped_malformed), 6U);
    // Empty frame.
    std::vector<std::uint8_t> empty;
    EXPECT_EQ(relay_udp(table, neighbours, net, empty, good, now(), relay_counters{}).verdict,
              relay_counter::dropped_malformed);
}

TEST_F(relay_udp_test, learning_follows_the_newest_source_within_the_window_then_locks) {
    stream_rule a = rule_a(flag_learn);
    a.learning_window_ms = 3000;
    ASSERT_TRUE(upsert(a));
    ASSERT_TRUE(upsert(rule_b(flag_learn)));

    // A is behind a NAT: its packets come from port 4002, not the SDP's 4000.
    ASSERT_TRUE(send_from_a(4002).forwarded());
    auto event = table.events().pop();
    ASSERT_TRUE(event);
    EXPECT_EQ(event->what, relay_event::kind::learned_source);
    EXPECT_EQ(event->stream_id, 1U);
    EXPECT_EQ(event->local_port, port_a);
    EXPECT_EQ(event->source, endpoint4(peer_a_ip, 4002));
    // The sibling now sends to the learned address, without control.
    ASSERT_TRUE(send_from_b().forwarded());
    EXPECT_EQ(destination_port_of_last_frame(), 4002);
    // B's own first packet taught us B's address (same as the SDP's).
    event = table.events().pop();
    ASSERT_TRUE(event);
    EXPECT_EQ(event->stream_id, 2U);
    EXPECT_FALSE(table.events().pop());

    // The same source again: nothing new.
    clock.advance_ms(500);
    ASSERT_TRUE(send_from_a(4002).forwarded());
    EXPECT_FALSE(table.events().pop());

    // Still in the window: a new source wins.
    clock.advance_ms(2000);
    ASSERT_TRUE(send_from_a(4004).forwarded());
    event = table.events().pop();
    ASSERT_TRUE(event);
    EXPECT_EQ(event->source.port, 4004);
    ASSERT_TRUE(send_from_b().forwarded());
    EXPECT_EQ(destination_port_of_last_frame(), 4004);

    // 3 s after the first packet the peer is locked: no strict-source, so
    // the stranger's packet is still relayed, but it does not take over.
    clock.advance_ms(500);
    ASSERT_TRUE(send_from_a(4006).forwarded());
    EXPECT_FALSE(table.events().pop());
    ASSERT_TRUE(send_from_b().forwarded());
    EXPECT_EQ(destination_port_of_last_frame(), 4004);
}

TEST_F(relay_udp_test, strict_source_after_learning_drops_strangers) {
    ASSERT_TRUE(upsert(rule_a(flag_learn | flag_strict_source)));
    ASSERT_TRUE(send_from_a(4002).forwarded());
    clock.advance_ms(1000);
    ASSERT_TRUE(send_from_a(4004).forwarded());  // in the window: learning, not checking
    clock.advance_ms(5000);
    EXPECT_EQ(send_from_a(4002).verdict, relay_counter::dropped_source);
    EXPECT_TRUE(send_from_a(4004).forwarded());
    EXPECT_EQ(count(relay_counter::dropped_source), 1U);
    const auto stats = stats_of(port_a, 1);
    EXPECT_EQ(stats.packets, 3U);
    EXPECT_EQ(stats.errors, 1U);
}

TEST_F(relay_udp_test, strict_source_without_learning_uses_the_sdp_address) {
    ASSERT_TRUE(upsert(rule_a(flag_strict_source)));
    EXPECT_EQ(send_from_a(4002).verdict, relay_counter::dropped_source);
    EXPECT_TRUE(send_from_a(4000).forwarded());
    EXPECT_FALSE(table.events().pop());  // nothing learned
    // Without an SDP address there is nothing to be strict against.
    stream_rule open = rule_a(flag_strict_source);
    open.stream_id = 9;
    open.expected_source = media_endpoint{};
    ASSERT_TRUE(upsert(open));
    EXPECT_TRUE(send_from_a(4002).forwarded());
}

TEST_F(relay_udp_test, without_learning_or_strictness_anyone_is_relayed) {
    ASSERT_TRUE(upsert(rule_a()));
    ASSERT_TRUE(upsert(rule_b()));
    EXPECT_TRUE(send_from_a(4002).forwarded());
    ASSERT_TRUE(send_from_b().forwarded());
    EXPECT_EQ(destination_port_of_last_frame(), 4000);  // asymmetric: the SDP address
    EXPECT_FALSE(table.events().pop());
}

TEST_F(relay_udp_test, learning_window_zero_learns_the_first_packet_only) {
    stream_rule a = rule_a(flag_learn | flag_strict_source);
    a.learning_window_ms = 0;
    ASSERT_TRUE(upsert(a));
    EXPECT_TRUE(send_from_a(4002).forwarded());
    EXPECT_TRUE(table.events().pop());
    EXPECT_EQ(send_from_a(4004).verdict, relay_counter::dropped_source);
}

TEST_F(relay_udp_test, full_event_ring_is_counted) {
    ASSERT_TRUE(upsert(rule_a(flag_learn)));  // window 3 s; ring holds 8
    for (std::uint16_t i = 0; i < 12; ++i) {
        ASSERT_TRUE(send_from_a(static_cast<std::uint16_t>(4100 + i)).forwarded());
    }
    EXPECT_EQ(table.events_dropped(), 4U);
    std::size_t popped = 0;
    while (table.events().pop()) {
        ++popped;
    }
    EXPECT_EQ(popped, 8U);
}

TEST_F(relay_udp_test, blackhole_counts_but_does_not_forward) {
    ASSERT_TRUE(upsert(rule_a(flag_blackhole)));
    auto frame = udp4(peer_a_ip, 4000, port_a, rtp_payload(1, 2, 3));
    const auto untouched = frame;
    EXPECT_EQ(send(frame).verdict, relay_counter::dropped_blackhole);
    EXPECT_EQ(frame, untouched);
    const auto stats = stats_of(port_a, 1);
    EXPECT_EQ(stats.packets, 1U);
    EXPECT_EQ(stats.errors, 1U);
    EXPECT_EQ(count(relay_counter::dropped_blackhole), 1U);
}

TEST_F(relay_udp_test, unknown_destination_is_dropped) {
    stream_rule a = rule_a();
    a.destination = media_endpoint{};
    ASSERT_TRUE(upsert(a));
    EXPECT_EQ(send_from_a().verdict, relay_counter::dropped_no_destination);
    EXPECT_EQ(count(relay_counter::dropped_no_destination), 1U);
}

TEST_F(relay_udp_test, other_family_destination_is_dropped) {
    stream_rule a = rule_a();
    a.destination = endpoint6(peer_b_ip6, 5000);
    ASSERT_TRUE(upsert(a));
    EXPECT_EQ(send_from_a().verdict, relay_counter::dropped_family);
    EXPECT_EQ(count(relay_counter::dropped_family), 1U);
}

TEST_F(relay_udp_test, unresolved_next_hop_asks_for_resolution_at_most_once_a_second) {
    stream_rule b = rule_b();
    b.destination = endpoint4({192, 0, 2, 77}, 4000);  // on link, never seen
    ASSERT_TRUE(upsert(b));
    auto result = send_from_b();
    EXPECT_TRUE(result.needs_resolution());
    EXPECT_EQ(result.next_hop, ip_address::v4({192, 0, 2, 77}));
    EXPECT_TRUE(result.solicit);
    clock.advance_ms(300);
    result = send_from_b();
    EXPECT_TRUE(result.needs_resolution());
    EXPECT_FALSE(result.solicit);
    clock.advance_ms(700);
    EXPECT_TRUE(send_from_b().solicit);
    EXPECT_EQ(count(relay_counter::dropped_unresolved), 3U);

    // The io layer sends the request; the answer teaches the table.
    std::array<std::uint8_t, 64> request{};
    ASSERT_EQ(build_solicitation_into(request, net, result.next_hop), 42U);
    EXPECT_EQ(request[14 + 24 + 3], 77);  // target IP
    const packet::mac_address host{0x02, 0, 0, 0, 0, 0x77};
    auto reply = packet::build_arp_request(host, {192, 0, 2, 77}, our_ip);
    reply[14 + 7] = packet::arp_op_reply;
    ASSERT_TRUE(neighbours.learn_from_frame(reply, now()));
    ASSERT_TRUE(send_from_b().forwarded());
    EXPECT_TRUE(std::equal(host.begin(), host.end(), last_frame.begin()));
}

TEST_F(relay_udp_test, unresolved_gateway_is_what_gets_solicited) {
    neighbours.remove(ip_address::v4(gateway_ip));
    ASSERT_TRUE(upsert(rule_a()));
    const auto result = send_from_a();
    EXPECT_TRUE(result.needs_resolution());
    EXPECT_EQ(result.next_hop, ip_address::v4(gateway_ip));
}

TEST_F(relay_udp_test, rtp_loss_is_counted_per_stream) {
    ASSERT_TRUE(upsert(rule_a()));
    for (std::uint16_t i = 0; i < 1000; ++i) {
        clock.advance_ms(20);
        if (i == 100 || i == 300 || i == 301 || i == 700 || i == 900) {
            continue;
        }
        auto frame = udp4(peer_a_ip, 4000, port_a, rtp_payload(i, i * 160U, 0x1234));
        ASSERT_TRUE(send(frame).forwarded());
    }
    const auto stats = stats_of(port_a, 1);
    EXPECT_EQ(stats.packets, 995U);
    EXPECT_EQ(stats.rtp_expected, 999U);
    EXPECT_EQ(stats.rtp_lost, 5U);
    EXPECT_EQ(stats.jitter_ts, 0U);
}

TEST_F(relay_udp_test, rtcp_mux_reports_go_to_rtcp_stats_not_rtp) {
    ASSERT_TRUE(upsert(rule_a(flag_rtcp_mux)));
    ASSERT_TRUE(upsert(rule_b(flag_rtcp_mux)));
    for (std::uint16_t i = 0; i < 10; ++i) {
        clock.advance_ms(20);
        auto frame = udp4(peer_b_ip, 5000, port_b, rtp_payload(i, i * 160U, 0xb0b));
        ASSERT_TRUE(send(frame).forwarded());
    }
    // B's sender report passes toward A at t0...
    const std::int64_t sr_time = now();
    auto sr = udp4(peer_b_ip, 5000, port_b, rtcp_sr(0xb0b, 0x0000abcd, 0x12340000));
    ASSERT_TRUE(send(sr).forwarded());
    // ...A answers 180 ms later, having held it for 100 ms (6553.6/65536 s).
    clock.advance_ms(180);
    report_block_values about_b{0xb0b, 51, 4, 9, 17, 0xabcd1234, 6554};
    auto rr = rtcp_rr(0xa0a, {report_block_values{0x777, 1, 1, 1, 1, 0, 0}, about_b});
    append_sdes(rr, 0xa0a);
    auto rr_frame = udp4(peer_a_ip, 4000, port_a, rr);
    ASSERT_TRUE(send(rr_frame).forwarded());

    const auto a = stats_of(port_a, 1);
    EXPECT_EQ(a.rtcp_packets, 2U);
    EXPECT_EQ(a.packets, 1U);
    EXPECT_EQ(a.ssrc, 0U);                   // no RTP from A: the RR did not count as RTP
    EXPECT_EQ(a.remote_fraction_lost, 51U);  // the block about B's SSRC, not the first one
    EXPECT_EQ(a.remote_packets_lost, 4);
    EXPECT_EQ(a.remote_jitter_ts, 17U);
    const auto expected_rtt_us = (now() - sr_time - 6554LL * 1'000'000'000 / 65536) / 1000;
    EXPECT_EQ(a.rtt_us, static_cast<std::uint32_t>(expected_rtt_us));
    EXPECT_NEAR(a.rtt_us, 80'000, 100);

    const auto b = stats_of(port_b, 2);
    EXPECT_EQ(b.rtcp_packets, 1U);
    EXPECT_EQ(b.rtp_expected, 9U);
    EXPECT_EQ(b.ssrc, 0xb0bU);
}

TEST_F(relay_udp_test, rtcp_port_treats_everything_as_rtcp) {
    stream_rule rtcp = rule_a(flag_rtcp);
    rtcp.local_port = port_a + 1;
    rtcp.egress_port = port_b + 1;
    rtcp.stream_id = 11;
    ASSERT_TRUE(upsert(rtcp));
    auto frame = udp4(peer_a_ip, 4001, port_a + 1, rtcp_rr(5, {report_block_values{1, 2, 3, 4, 5, 0, 0}}));
    ASSERT_TRUE(send(frame).forwarded());
    auto rtp_looking = udp4(peer_a_ip, 4001, port_a + 1, rtp_payload(1, 2, 3));
    ASSERT_TRUE(send(rtp_looking).forwarded());
    const auto stats = stats_of(port_a + 1, 11);
    EXPECT_EQ(stats.rtcp_packets, 1U);
    EXPECT_EQ(stats.packets, 2U);
    EXPECT_EQ(stats.ssrc, 0U);
}

TEST_F(relay_udp_test, garbage_frames_never_crash) {
    ASSERT_TRUE(upsert(rule_a(flag_learn | flag_rtcp_mux)));
    ASSERT_TRUE(upsert(rule_b(flag_learn | flag_strict_source)));
    std::mt19937 random(11);
    const auto valid = udp4(peer_a_ip, 4000, port_a, rtp_payload(1, 2, 3));
    std::vector<std::uint8_t> frame;
    for (int round = 0; round < 20000; ++round) {
        if (round % 2 == 0) {
            frame.resize(random() % 200);
            for (auto& b : frame) {
                b = static_cast<std::uint8_t>(random());
            }
        } else {
            frame = valid;  // a valid frame with a few bytes flipped and maybe cut
            for (int flips = 0; flips < 3; ++flips) {
                frame[random() % frame.size()] = static_cast<std::uint8_t>(random());
            }
            frame.resize(random() % (frame.size() + 1));
        }
        const auto what = packet::classify(frame, net.identity);
        const auto result =
            relay_udp(table, neighbours, net, frame, what, now(), relay_counters{&counters, 0, 0});
        if (result.forwarded()) {
            ASSERT_LE(result.frame_length, frame.size());
        }
        // Any classification at all, even a lying one.
        packet::classification lie{packet::verdict::udp_for_us, static_cast<std::uint16_t>(random() % 80),
                                   static_cast<std::uint16_t>(random() % 120),
                                   static_cast<std::uint16_t>(random())};
        const auto lied =
            relay_udp(table, neighbours, net, frame, lie, now(), relay_counters{&counters, 0, 0});
        if (lied.forwarded()) {
            ASSERT_LE(lied.frame_length, frame.size());
        }
        clock.advance_ms(1);
    }
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < relay_counter_count; ++i) {
        total += count(static_cast<relay_counter>(i));
    }
    EXPECT_EQ(total, 40000U);  // every call counted exactly once
}

}  // namespace
}  // namespace tandem::media
