#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "dataplane/packet/bytes.hpp"
#include "dataplane/packet/classify.hpp"
#include "dataplane/packet/headers.hpp"
#include "tests/unit/packet/frames.hpp"

namespace tandem::packet {
namespace {

using namespace test_frames;

verdict kind_of(const std::vector<std::uint8_t>& frame, const port_identity& us) {
    return classify(frame, us).kind;
}

TEST(classify, arp_request_for_our_address) {
    EXPECT_EQ(kind_of(build_arp_request(peer_mac, peer_ip, our_ip), us_v4()), verdict::arp_request_for_us);
}

TEST(classify, arp_request_for_another_address_is_not_for_us) {
    EXPECT_EQ(kind_of(build_arp_request(peer_mac, peer_ip, ipv4_address{192, 0, 2, 3}), us_v4()),
              verdict::not_for_us);
}

TEST(classify, arp_reply_and_unknown_operation) {
    auto frame = build_arp_request(peer_mac, peer_ip, our_ip);
    frame[ethernet_header_size + 7] = arp_op_reply;
    EXPECT_EQ(kind_of(frame, us_v4()), verdict::arp_reply);
    frame[ethernet_header_size + 7] = 9;
    EXPECT_EQ(kind_of(frame, us_v4()), verdict::unsupported);
}

TEST(classify, arp_for_another_hardware_type_is_malformed) {
    auto frame = build_arp_request(peer_mac, peer_ip, our_ip);
    frame[ethernet_header_size + 1] = 6;  // IEEE 802 instead of Ethernet
    EXPECT_EQ(kind_of(frame, us_v4()), verdict::malformed);
}

TEST(classify, icmp_echo_request_with_offsets) {
    const auto frame = build_icmp_echo_request(to_us(), 7, 1, 56);
    const auto result = classify(frame, us_v4());
    EXPECT_EQ(result.kind, verdict::icmp_echo_for_us);
    EXPECT_EQ(result.l3_offset, 14);
    EXPECT_EQ(result.l4_offset, 34);
    EXPECT_EQ(result.l4_length, 64);
}

TEST(classify, ethernet_padding_is_ignored) {
    auto frame = build_icmp_echo_request(to_us(), 7, 1, 0);
    frame.resize(60, 0);  // minimum Ethernet frame without FCS
    const auto result = classify(frame, us_v4());
    EXPECT_EQ(result.kind, verdict::icmp_echo_for_us);
    EXPECT_EQ(result.l4_length, 8);
}

TEST(classify, bad_checksums_are_malformed) {
    auto bad_ip = build_icmp_echo_request(to_us(), 7, 1, 56);
    bad_ip[14 + 10] ^= 0x01;
    EXPECT_EQ(kind_of(bad_ip, us_v4()), verdict::malformed);

    auto bad_icmp = build_icmp_echo_request(to_us(), 7, 1, 56);
    bad_icmp.back() ^= 0x01;
    EXPECT_EQ(kind_of(bad_icmp, us_v4()), verdict::malformed);
}

TEST(classify, other_icmp_types_are_other) {
    auto frame = build_icmp_echo_request(to_us(), 7, 1, 8);
    frame[34] = 13;  // timestamp request; checksum no longer matters for "other"
    EXPECT_EQ(kind_of(frame, us_v4()), verdict::other_for_us);
}

TEST(classify, not_for_us_by_mac_or_ip) {
    auto flow = to_us();
    flow.destination_mac = mac_address{0x02, 0, 0, 0, 0, 0x99};
    EXPECT_EQ(kind_of(build_icmp_echo_request(flow, 1, 1, 8), us_v4()), verdict::not_for_us);

    flow = to_us();
    flow.destination_ip = ipv4_address{198, 51, 100, 1};
    EXPECT_EQ(kind_of(build_icmp_echo_request(flow, 1, 1, 8), us_v4()), verdict::not_for_us);
}

TEST(classify, udp_for_us_with_offsets) {
    const std::vector<std::uint8_t> payload(172, 0x80);
    const auto frame = build_udp(to_us(), 40000, 30000, payload);
    const auto result = classify(frame, us_v4());
    EXPECT_EQ(result.kind, verdict::udp_for_us);
    EXPECT_EQ(result.l4_offset, 34);
    EXPECT_EQ(result.l4_length, 180);
}

TEST(classify, udp_length_beyond_ip_payload_is_malformed) {
    const std::vector<std::uint8_t> payload(10, 0);
    auto frame = build_udp(to_us(), 1, 2, payload);
    frame[34 + 5] = 19;  // UDP length 19 > 18 bytes of IP payload
    EXPECT_EQ(kind_of(frame, us_v4()), verdict::malformed);
}

TEST(classify, fragments_are_reported) {
    auto frame = build_udp(to_us(), 1, 2, std::vector<std::uint8_t>(8, 0));
    frame[14 + 6] = 0x20;  // more fragments
    frame[14 + 10] = 0;
    frame[14 + 11] = 0;
    const std::uint16_t checksum =
        checksum_finish(checksum_add(std::span<const std::uint8_t>(frame).subspan(14, 20)));
    frame[14 + 10] = static_cast<std::uint8_t>(checksum >> 8);
    frame[14 + 11] = static_cast<std::uint8_t>(checksum);
    EXPECT_EQ(kind_of(frame, us_v4()), verdict::fragment_for_us);
}

TEST(classify, unknown_ether_type_and_vlan_are_unsupported) {
    auto frame = build_arp_request(peer_mac, peer_ip, our_ip);
    frame[12] = 0x88;
    frame[13] = 0xcc;  // LLDP
    EXPECT_EQ(kind_of(frame, us_v4()), verdict::unsupported);
    frame[12] = 0x81;
    frame[13] = 0x00;
    EXPECT_EQ(kind_of(frame, us_v4()), verdict::unsupported);
}

TEST(classify, ipv6_is_not_for_us_without_an_ipv6_address) {
    EXPECT_EQ(kind_of(build_icmpv6_echo_request(to_us6(), 1, 1, 8), us_v4()), verdict::not_for_us);
    EXPECT_EQ(kind_of(build_neighbor_solicitation(peer_mac, peer_ip6, our_ip6), us_v4()),
              verdict::not_for_us);
}

TEST(classify, icmpv6_echo_and_neighbor_solicitation) {
    EXPECT_EQ(kind_of(build_icmpv6_echo_request(to_us6(), 1, 1, 8), us_dual()), verdict::icmpv6_echo_for_us);
    EXPECT_EQ(kind_of(build_neighbor_solicitation(peer_mac, peer_ip6, our_ip6), us_dual()),
              verdict::neighbor_solicitation_for_us);
    EXPECT_EQ(kind_of(build_neighbor_solicitation(peer_mac, ipv6_address{}, our_ip6), us_dual()),
              verdict::neighbor_solicitation_for_us);
    EXPECT_EQ(kind_of(build_neighbor_solicitation(peer_mac, peer_ip6, peer_ip6), us_dual()),
              verdict::not_for_us);
}

TEST(classify, neighbor_solicitation_from_off_link_is_malformed) {
    auto frame = build_neighbor_solicitation(peer_mac, peer_ip6, our_ip6);
    frame[14 + 7] = 64;  // hop limit must be 255
    EXPECT_EQ(kind_of(frame, us_dual()), verdict::malformed);
}

TEST(classify, bad_icmpv6_checksum_is_malformed) {
    auto frame = build_icmpv6_echo_request(to_us6(), 1, 1, 8);
    frame.back() ^= 0x40;
    EXPECT_EQ(kind_of(frame, us_dual()), verdict::malformed);
}

// Every strict prefix of a valid request is malformed: the parsers notice the
// missing bytes before reading them (ASan builds check the "before").
TEST(classify, every_truncation_is_malformed) {
    const std::vector<std::vector<std::uint8_t>> frames{
        build_arp_request(peer_mac, peer_ip, our_ip),
        build_icmp_echo_request(to_us(), 1, 1, 56),
        build_udp(to_us(), 1, 2, std::vector<std::uint8_t>(20, 1)),
        build_icmpv6_echo_request(to_us6(), 1, 1, 16),
        build_neighbor_solicitation(peer_mac, peer_ip6, our_ip6),
    };
    for (const auto& frame : frames) {
        for (std::size_t length = 0; length < frame.size(); ++length) {
            // Copy so that reading past `length` would be a heap overflow.
            const std::vector<std::uint8_t> prefix(frame.begin(),
                                                   frame.begin() + static_cast<std::ptrdiff_t>(length));
            EXPECT_EQ(classify(prefix, us_dual()).kind, verdict::malformed) << "length " << length;
        }
    }
}

TEST(classify, random_bytes_never_crash) {
    std::mt19937 random(12345);
    std::size_t for_us = 0;
    for (int round = 0; round < 20000; ++round) {
        std::vector<std::uint8_t> frame(random() % 128);
        for (auto& byte : frame) {
            byte = static_cast<std::uint8_t>(random());
        }
        if (round % 2 == 0 && frame.size() >= 14) {
            // Half of them get our MAC and a known ether type, to reach deeper parsers.
            std::copy(our_mac.begin(), our_mac.end(), frame.begin());
            frame[12] = round % 4 == 0 ? 0x08 : 0x86;
            frame[13] = round % 4 == 0 ? 0x00 : 0xdd;
        }
        const auto result = classify(frame, us_dual());
        for_us += result.kind == verdict::icmp_echo_for_us ? 1 : 0;
        EXPECT_LE(static_cast<std::size_t>(result.kind), verdict_count);
    }
    EXPECT_EQ(for_us, 0U);  // a random checksum-valid echo to our address is not plausible
}

TEST(classify, verdict_names) {
    EXPECT_EQ(to_string(verdict::arp_request_for_us), "arp_request_for_us");
    EXPECT_EQ(to_string(verdict::malformed), "malformed");
}

}  // namespace
}  // namespace tandem::packet
