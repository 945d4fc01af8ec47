#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "dataplane/packet/addresses.hpp"
#include "dataplane/packet/bytes.hpp"
#include "dataplane/packet/headers.hpp"

namespace tandem::packet {
namespace {

TEST(checksum, matches_rfc1071_example) {
    const std::array<std::uint8_t, 8> words{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(checksum_add(words), 0x2ddf0U);
    EXPECT_EQ(checksum_finish(checksum_add(words)), 0x220d);
}

TEST(checksum, odd_length_pads_with_zero) {
    const std::array<std::uint8_t, 3> bytes{0x12, 0x34, 0x56};
    EXPECT_EQ(checksum_add(bytes), 0x1234U + 0x5600U);
}

TEST(addresses, parse_and_print) {
    const auto v4 = parse_ipv4_address("192.0.2.2");
    ASSERT_TRUE(v4);
    EXPECT_EQ(*v4, (ipv4_address{192, 0, 2, 2}));
    EXPECT_EQ(to_string(*v4), "192.0.2.2");

    const auto v6 = parse_ipv6_address("2001:db8::2");
    ASSERT_TRUE(v6);
    EXPECT_EQ((*v6)[0], 0x20);
    EXPECT_EQ((*v6)[15], 0x02);
    EXPECT_EQ(to_string(*v6), "2001:db8::2");

    const auto mac = parse_mac_address("02:00:5E:10:00:01");
    ASSERT_TRUE(mac);
    EXPECT_EQ(to_string(*mac), "02:00:5e:10:00:01");
}

TEST(addresses, reject_garbage) {
    for (const char* text : {"", "192.0.2", "192.0.2.256", "host.example", "192.0.2.2/24", "1.2.3.4.5"}) {
        EXPECT_FALSE(parse_ipv4_address(text)) << text;
    }
    for (const char* text : {"", "2001:db8:::1", "192.0.2.2", "g::1"}) {
        EXPECT_FALSE(parse_ipv6_address(text)) << text;
    }
    for (const char* text :
         {"", "02:00:5e:10:00", "02:00:5e:10:00:0g", "02-00-5e-10-00-01", "02:00:5e:10:00:011"}) {
        EXPECT_FALSE(parse_mac_address(text)) << text;
    }
}

TEST(addresses, solicited_node_group_and_mac) {
    const auto address = *parse_ipv6_address("2001:db8::12:3456");
    const auto group = solicited_node_multicast(address);
    EXPECT_EQ(to_string(group), "ff02::1:ff12:3456");
    EXPECT_EQ(to_string(ipv6_multicast_mac(group)), "33:33:ff:12:34:56");
}

TEST(headers, ethernet_needs_14_bytes_and_reads_one_vlan_tag) {
    std::vector<std::uint8_t> frame(14, 0);
    frame[12] = 0x08;
    EXPECT_FALSE(parse_ethernet(std::span(frame).first(13)));
    const auto plain = parse_ethernet(frame);
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->ether_type, ether_type_ipv4);
    EXPECT_EQ(plain->payload_offset, 14U);

    frame[12] = 0x81;
    frame[13] = 0x00;
    EXPECT_FALSE(parse_ethernet(frame));  // tag announced, not present
    frame.insert(frame.end(), {0x00, 0x05, 0x86, 0xdd});
    const auto tagged = parse_ethernet(frame);
    ASSERT_TRUE(tagged);
    EXPECT_TRUE(tagged->vlan_tagged);
    EXPECT_EQ(tagged->ether_type, ether_type_ipv6);
    EXPECT_EQ(tagged->payload_offset, 18U);
}

TEST(headers, ipv4_rejects_inconsistent_lengths) {
    std::vector<std::uint8_t> ip(20, 0);
    ip[0] = 0x45;
    ip[3] = 20;
    EXPECT_TRUE(parse_ipv4(ip));
    ip[0] = 0x44;  // IHL 4: shorter than the fixed header
    EXPECT_FALSE(parse_ipv4(ip));
    ip[0] = 0x46;  // IHL 6: longer than total length
    EXPECT_FALSE(parse_ipv4(ip));
    ip[0] = 0x45;
    ip[3] = 21;  // total length beyond the bytes present
    EXPECT_FALSE(parse_ipv4(ip));
    ip[3] = 20;
    ip[0] = 0x65;  // version 6
    EXPECT_FALSE(parse_ipv4(ip));
}

TEST(headers, udp_length_must_fit) {
    std::vector<std::uint8_t> udp(12, 0);
    udp[5] = 12;
    EXPECT_TRUE(parse_udp(udp));
    udp[5] = 13;
    EXPECT_FALSE(parse_udp(udp));
    udp[5] = 7;
    EXPECT_FALSE(parse_udp(udp));
    EXPECT_FALSE(parse_udp(std::span(udp).first(7)));
}

}  // namespace
}  // namespace tandem::packet
