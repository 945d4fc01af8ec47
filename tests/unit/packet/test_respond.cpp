#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "dataplane/packet/bytes.hpp"
#include "dataplane/packet/classify.hpp"
#include "dataplane/packet/headers.hpp"
#include "dataplane/packet/respond.hpp"
#include "tests/unit/packet/frames.hpp"

namespace tandem::packet {
namespace {

using namespace test_frames;

mac_address mac_at(const std::vector<std::uint8_t>& frame, std::size_t offset) {
    mac_address mac{};
    std::copy_n(frame.begin() + static_cast<std::ptrdiff_t>(offset), mac.size(), mac.begin());
    return mac;
}

template <std::size_t N>
std::array<std::uint8_t, N> bytes_at(const std::vector<std::uint8_t>& frame, std::size_t offset) {
    std::array<std::uint8_t, N> out{};
    std::copy_n(frame.begin() + static_cast<std::ptrdiff_t>(offset), N, out.begin());
    return out;
}

// Classifies and answers in place; returns the reply's length (0: none).
std::size_t answer(std::vector<std::uint8_t>& frame, const port_identity& us, std::size_t room_extra = 0) {
    const std::size_t length = frame.size();
    const auto what = classify(frame, us);
    frame.resize(length + room_extra);
    const std::size_t reply = respond(frame, length, what, us);
    frame.resize(reply == 0 ? length : reply);
    return reply;
}

TEST(respond, arp_request_becomes_reply) {
    auto frame = build_arp_request(peer_mac, peer_ip, our_ip);
    ASSERT_EQ(answer(frame, us_v4()), frame.size());
    EXPECT_EQ(mac_at(frame, 0), peer_mac);
    EXPECT_EQ(mac_at(frame, 6), our_mac);
    EXPECT_EQ(load_be16(frame, 12), ether_type_arp);
    const auto arp = parse_arp(std::span<const std::uint8_t>(frame).subspan(14));
    ASSERT_TRUE(arp);
    EXPECT_EQ(arp->operation, arp_op_reply);
    EXPECT_EQ(arp->sender_mac, our_mac);
    EXPECT_EQ(arp->sender_ip, our_ip);
    EXPECT_EQ(arp->target_mac, peer_mac);
    EXPECT_EQ(arp->target_ip, peer_ip);
    // The reply is an ARP reply for the peer, not another request.
    EXPECT_EQ(classify(frame, port_identity{peer_mac, peer_ip, std::nullopt}).kind, verdict::arp_reply);
}

TEST(respond, icmp_echo_request_becomes_reply) {
    auto frame = build_icmp_echo_request(to_us(), 0x1234, 7, 56);
    const auto request = frame;
    ASSERT_EQ(answer(frame, us_v4()), frame.size());
    EXPECT_EQ(mac_at(frame, 0), peer_mac);
    EXPECT_EQ(mac_at(frame, 6), our_mac);

    const std::span<const std::uint8_t> bytes(frame);
    const auto ip = parse_ipv4(bytes.subspan(14));
    ASSERT_TRUE(ip);
    EXPECT_TRUE(ipv4_header_checksum_ok(bytes.subspan(14), *ip));
    EXPECT_EQ(ip->source, our_ip);
    EXPECT_EQ(ip->destination, peer_ip);
    EXPECT_EQ(ip->ttl, reply_ttl);

    const auto icmp = bytes.subspan(34);
    EXPECT_EQ(icmp[0], icmp_echo_reply);
    EXPECT_EQ(icmp[1], 0);
    EXPECT_EQ(checksum_finish(checksum_add(icmp)), 0);
    // Identifier, sequence and payload come back unchanged.
    EXPECT_TRUE(std::equal(frame.begin() + 38, frame.end(), request.begin() + 38));
}

TEST(respond, icmp_echo_reply_keeps_padding) {
    auto frame = build_icmp_echo_request(to_us(), 1, 1, 4);
    frame.resize(60, 0xee);
    ASSERT_EQ(answer(frame, us_v4()), 60U);
    EXPECT_EQ(frame.back(), 0xee);
    EXPECT_EQ(checksum_finish(checksum_add(std::span<const std::uint8_t>(frame).subspan(34, 12))), 0);
}

TEST(respond, icmpv6_echo_request_becomes_reply) {
    auto frame = build_icmpv6_echo_request(to_us6(), 9, 3, 32);
    ASSERT_EQ(answer(frame, us_dual()), frame.size());
    const std::span<const std::uint8_t> bytes(frame);
    const auto ip = parse_ipv6(bytes.subspan(14));
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->source, our_ip6);
    EXPECT_EQ(ip->destination, peer_ip6);
    const auto icmp = bytes.subspan(54);
    EXPECT_EQ(icmp[0], icmpv6_echo_reply);
    const auto pseudo = ipv6_pseudo_header_sum(ip->source, ip->destination, ip_protocol_icmpv6, icmp.size());
    EXPECT_EQ(checksum_finish(checksum_add(icmp, pseudo)), 0);
}

void expect_advertisement(const std::vector<std::uint8_t>& frame, const ipv6_address& destination,
                          bool solicited) {
    ASSERT_EQ(frame.size(), 14U + 40U + 32U);
    EXPECT_EQ(mac_at(frame, 6), our_mac);
    const std::span<const std::uint8_t> bytes(frame);
    const auto ip = parse_ipv6(bytes.subspan(14));
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->payload_length, 32U);
    EXPECT_EQ(ip->hop_limit, 255);
    EXPECT_EQ(ip->source, our_ip6);
    EXPECT_EQ(ip->destination, destination);
    const auto icmp = bytes.subspan(54);
    EXPECT_EQ(icmp[0], icmpv6_neighbor_advertisement);
    EXPECT_EQ(icmp[4], solicited ? 0x60 : 0x20);
    EXPECT_EQ((bytes_at<16>(frame, 54 + 8)), our_ip6);
    EXPECT_EQ(icmp[24], 2);
    EXPECT_EQ(icmp[25], 1);
    EXPECT_EQ(mac_at(frame, 54 + 26), our_mac);
    const auto pseudo = ipv6_pseudo_header_sum(ip->source, ip->destination, ip_protocol_icmpv6, icmp.size());
    EXPECT_EQ(checksum_finish(checksum_add(icmp, pseudo)), 0);
}

TEST(respond, neighbor_solicitation_becomes_advertisement) {
    auto frame = build_neighbor_solicitation(peer_mac, peer_ip6, our_ip6);
    ASSERT_EQ(answer(frame, us_dual()), 86U);
    EXPECT_EQ(mac_at(frame, 0), peer_mac);
    expect_advertisement(frame, peer_ip6, true);
}

TEST(respond, duplicate_address_probe_is_answered_to_all_nodes) {
    auto frame = build_neighbor_solicitation(peer_mac, ipv6_address{}, our_ip6);
    ASSERT_EQ(frame.size(), 78U);  // no source link-layer option: the reply is longer
    EXPECT_EQ(answer(frame, us_dual()), 0U) << "no room to grow";
    ASSERT_EQ(answer(frame, us_dual(), 64), 86U);
    EXPECT_EQ(mac_at(frame, 0), (mac_address{0x33, 0x33, 0, 0, 0, 1}));
    expect_advertisement(frame, *parse_ipv6_address("ff02::1"), false);
}

TEST(respond, verdicts_without_replies_leave_the_frame_alone) {
    for (auto frame : {build_udp(to_us(), 1, 2, std::vector<std::uint8_t>(8, 0)),
                       build_arp_request(peer_mac, peer_ip, ipv4_address{10, 0, 0, 1})}) {
        const auto before = frame;
        EXPECT_EQ(answer(frame, us_v4(), 100), 0U);
        EXPECT_EQ(frame, before);
    }
}

TEST(respond, offsets_outside_the_frame_are_refused) {
    auto frame = build_icmp_echo_request(to_us(), 1, 1, 8);
    const auto before = frame;
    const std::vector<classification> lies{
        {verdict::icmp_echo_for_us, 14, 34, 200},
        {verdict::icmp_echo_for_us, 14, 20, 8},
        {verdict::icmp_echo_for_us, 2, 34, 16},
        {verdict::arp_request_for_us, 40, 0, 0},
        {verdict::icmpv6_echo_for_us, 14, 54, 8},  // no IPv6 address configured
        {verdict::neighbor_solicitation_for_us, 14, 54, 24},
    };
    for (const auto& lie : lies) {
        EXPECT_EQ(respond(frame, frame.size(), lie, us_v4()), 0U);
        EXPECT_EQ(frame, before);
    }
    EXPECT_EQ(respond(frame, frame.size() + 1, classify(frame, us_v4()), us_v4()), 0U);
}

// Mutated requests: whatever classify says, respond stays inside the buffer
// (checked by ASan in the sanitizer build) and any reply it produces
// classifies as a reply, never as a new request we would answer again.
TEST(respond, mutated_requests_never_escape_the_buffer) {
    const std::vector<std::vector<std::uint8_t>> seeds{
        build_arp_request(peer_mac, peer_ip, our_ip),
        build_icmp_echo_request(to_us(), 1, 1, 24),
        build_icmpv6_echo_request(to_us6(), 1, 1, 8),
        build_neighbor_solicitation(peer_mac, peer_ip6, our_ip6),
    };
    std::mt19937 random(777);
    for (int round = 0; round < 20000; ++round) {
        auto frame = seeds[static_cast<std::size_t>(round) % seeds.size()];
        const int flips = 1 + static_cast<int>(random() % 3);
        for (int i = 0; i < flips; ++i) {
            frame[random() % frame.size()] ^= static_cast<std::uint8_t>(1U << (random() % 8));
        }
        const std::size_t length = frame.size();
        const auto what = classify(frame, us_dual());
        std::vector<std::uint8_t> room(frame);
        room.resize(length + random() % 16);
        const std::size_t reply = respond(room, length, what, us_dual());
        ASSERT_LE(reply, room.size());
        if (reply != 0) {
            room.resize(reply);
            const auto again = classify(room, us_dual()).kind;
            EXPECT_NE(again, verdict::icmp_echo_for_us);
            EXPECT_NE(again, verdict::arp_request_for_us);
            EXPECT_NE(again, verdict::icmpv6_echo_for_us);
            EXPECT_NE(again, verdict::neighbor_solicitation_for_us);
        }
    }
}

}  // namespace
}  // namespace tandem::packet
