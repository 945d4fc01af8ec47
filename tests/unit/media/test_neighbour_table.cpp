#include <gtest/gtest.h>

#include <array>
#include <random>

#include "dataplane/media/neighbour_table.hpp"
#include "dataplane/packet/build.hpp"
#include "tests/unit/media/media_frames.hpp"

namespace tandem::media {
namespace {

using namespace tandem::media::test;

constexpr std::int64_t second_ns = 1'000'000'000;

// A neighbour advertisement from `owner` with a target link-layer option.
std::vector<std::uint8_t> neighbor_advertisement(const packet::ipv6_address& owner,
                                                 const packet::mac_address& mac,
                                                 std::uint8_t hop_limit = 255) {
    const std::size_t icmp_size = 32;
    std::vector<std::uint8_t> f(14 + 40 + icmp_size, 0);
    std::copy(our_mac.begin(), our_mac.end(), f.begin());
    std::copy(mac.begin(), mac.end(), f.begin() + 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    f[14] = 0x60;
    f[19] = icmp_size;
    f[20] = 58;
    f[21] = hop_limit;
    std::copy(owner.begin(), owner.end(), f.begin() + 22);
    std::copy(our_ip6.begin(), our_ip6.end(), f.begin() + 38);
    const std::size_t l4 = 54;
    f[l4] = 136;
    f[l4 + 4] = 0x60;  // solicited, override
    std::copy(owner.begin(), owner.end(), f.begin() + l4 + 8);
    f[l4 + 24] = 2;
    f[l4 + 25] = 1;
    std::copy(mac.begin(), mac.end(), f.begin() + l4 + 26);
    std::uint32_t sum = ref_sum(owner);
    sum = ref_sum(our_ip6, sum);
    sum += 58 + icmp_size;
    sum = ref_sum(std::span(f).subspan(l4), sum);
    const auto c = static_cast<std::uint16_t>(~ref_fold(sum));
    f[l4 + 2] = static_cast<std::uint8_t>(c >> 8);
    f[l4 + 3] = static_cast<std::uint8_t>(c);
    return f;
}

TEST(neighbour_table, learns_from_arp_request_and_expires) {
    neighbour_table table;
    const auto frame = packet::build_arp_request(peer_mac, peer_a_ip, our_ip);
    EXPECT_TRUE(table.learn_from_frame(frame, 10 * second_ns));
    const auto peer = ip_address::v4(peer_a_ip);
    EXPECT_EQ(table.lookup(peer, 10 * second_ns), peer_mac);
    EXPECT_EQ(table.lookup(peer, 309 * second_ns), peer_mac);
    EXPECT_FALSE(table.lookup(peer, 310 * second_ns));
    // Seen again: refreshed.
    EXPECT_TRUE(table.learn_from_frame(frame, 311 * second_ns));
    EXPECT_EQ(table.lookup(peer, 600 * second_ns), peer_mac);
}

TEST(neighbour_table, learns_from_arp_reply) {
    neighbour_table table;
    auto frame = packet::build_arp_request(peer_mac, peer_a_ip, our_ip);
    frame[14 + 7] = 2;  // reply
    EXPECT_TRUE(table.learn_from_frame(frame, 0));
    EXPECT_EQ(table.lookup(ip_address::v4(peer_a_ip), 1), peer_mac);
}

TEST(neighbour_table, ignores_probes_and_group_macs) {
    neighbour_table table;
    EXPECT_FALSE(table.learn_from_frame(packet::build_arp_request(peer_mac, {0, 0, 0, 0}, our_ip), 0));
    const packet::mac_address multicast{0x01, 0x00, 0x5e, 0, 0, 1};
    EXPECT_FALSE(table.learn_from_frame(packet::build_arp_request(multicast, peer_a_ip, our_ip), 0));
    EXPECT_FALSE(table.lookup(ip_address::v4(peer_a_ip), 0));
}

TEST(neighbour_table, learns_from_neighbor_solicitation_and_advertisement) {
    neighbour_table table;
    const auto ns = packet::build_neighbor_solicitation(peer_mac, peer_a_ip6, our_ip6);
    EXPECT_TRUE(table.learn_from_frame(ns, 0));
    EXPECT_EQ(table.lookup(ip_address::v6(peer_a_ip6), 0), peer_mac);

    const packet::mac_address other{0x02, 0, 0, 0, 0, 0x33};
    EXPECT_TRUE(table.learn_from_frame(neighbor_advertisement(peer_b_ip6, other), 0));
    EXPECT_EQ(table.lookup(ip_address::v6(peer_b_ip6), 0), other);
}

TEST(neighbour_table, rejects_nd_with_bad_checksum_hop_limit_or_dad_source) {
    neighbour_table table;
    auto ns = packet::build_neighbor_solicitation(peer_mac, peer_a_ip6, our_ip6);
    ns[ns.size() - 1] ^= 0x01;  // corrupt the option: checksum fails
    EXPECT_FALSE(table.learn_from_frame(ns, 0));
    EXPECT_FALSE(table.learn_from_frame(neighbor_advertisement(peer_b_ip6, peer_mac, 64), 0));
    EXPECT_FALSE(table.learn_from_frame(
        packet::build_neighbor_solicitation(peer_mac, packet::ipv6_address{}, our_ip6), 0));
    EXPECT_FALSE(table.lookup(ip_address::v6(peer_a_ip6), 0));
    EXPECT_FALSE(table.lookup(ip_address::v6(peer_b_ip6), 0));
}

TEST(neighbour_table, static_entries_never_expire_and_are_not_overwritten) {
    neighbour_table table;
    const auto gateway = ip_address::v4(gateway_ip);
    ASSERT_TRUE(table.add_static(gateway, gateway_mac));
    EXPECT_FALSE(table.learn(gateway, peer_mac, 0));
    EXPECT_FALSE(table.learn_from_frame(packet::build_arp_request(peer_mac, gateway_ip, our_ip), 0));
    EXPECT_EQ(table.lookup(gateway, 1'000'000 * second_ns), gateway_mac);
    EXPECT_FALSE(table.should_solicit(gateway, 0));
    EXPECT_TRUE(table.remove(gateway));
    EXPECT_FALSE(table.lookup(gateway, 0));
    EXPECT_FALSE(table.remove(gateway));
}

TEST(neighbour_table, next_hop_is_the_destination_on_link_else_the_gateway) {
    const port_network net = network();
    EXPECT_EQ(next_hop(net, ip_address::v4(peer_a_ip)), ip_address::v4(peer_a_ip));
    EXPECT_EQ(next_hop(net, ip_address::v4(peer_b_ip)), ip_address::v4(gateway_ip));
    EXPECT_EQ(next_hop(net, ip_address::v6(peer_a_ip6)), ip_address::v6(peer_a_ip6));
    EXPECT_EQ(next_hop(net, ip_address::v6(peer_b_ip6)), ip_address::v6(gateway_ip6));
    const packet::ipv6_address link_local{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    EXPECT_EQ(next_hop(net, ip_address::v6(link_local)), ip_address::v6(link_local));

    port_network no_gateway = net;
    no_gateway.ipv4_gateway.reset();
    EXPECT_EQ(next_hop(no_gateway, ip_address::v4(peer_b_ip)), ip_address::v4(peer_b_ip));

    port_network narrow = net;
    narrow.ipv4_prefix = 30;  // 192.0.2.0/30: .10 is off-link now
    EXPECT_EQ(next_hop(narrow, ip_address::v4(peer_a_ip)), ip_address::v4(gateway_ip));
    narrow.ipv4_prefix = 0;
    EXPECT_EQ(next_hop(narrow, ip_address::v4(peer_b_ip)), ip_address::v4(peer_b_ip));
}

TEST(neighbour_table, solicits_at_most_once_per_second_per_address) {
    neighbour_table table;
    const auto a = ip_address::v4(peer_a_ip);
    const auto b = ip_address::v6(peer_b_ip6);
    EXPECT_TRUE(table.should_solicit(a, 5 * second_ns));
    EXPECT_FALSE(table.should_solicit(a, 5 * second_ns + 1));
    EXPECT_FALSE(table.should_solicit(a, 6 * second_ns - 1));
    EXPECT_TRUE(table.should_solicit(b, 5 * second_ns + 2));  // independent per address
    EXPECT_TRUE(table.should_solicit(a, 6 * second_ns));
    EXPECT_FALSE(table.lookup(a, 6 * second_ns));
    // Once resolved, no more requests.
    ASSERT_TRUE(table.learn(a, peer_mac, 6 * second_ns));
    EXPECT_FALSE(table.should_solicit(a, 60 * second_ns));
    EXPECT_EQ(table.lookup(a, 60 * second_ns), peer_mac);
}

TEST(neighbour_table, full_table_evicts_dynamic_entries_but_keeps_static_ones) {
    neighbour_table table(neighbour_config{8, 300 * second_ns, second_ns});
    ASSERT_EQ(table.capacity(), 8U);
    std::size_t learned = 0;
    for (std::uint8_t i = 1; i <= 100; ++i) {
        learned +=
            table.learn(ip_address::v4({10, 0, 0, i}), packet::mac_address{2, 0, 0, 0, 0, i}, i) ? 1 : 0;
    }
    EXPECT_EQ(learned, 100U);  // each one evicts the oldest
    EXPECT_EQ(table.lookup(ip_address::v4({10, 0, 0, 100}), 100), (packet::mac_address{2, 0, 0, 0, 0, 100}));
    std::size_t found = 0;
    for (std::uint8_t i = 1; i <= 100; ++i) {
        found += table.lookup(ip_address::v4({10, 0, 0, i}), 100) ? 1 : 0;
    }
    EXPECT_LE(found, 8U);

    neighbour_table statics(neighbour_config{8, 300 * second_ns, second_ns});
    std::size_t added = 0;
    for (std::uint8_t i = 1; i <= 20; ++i) {
        added +=
            statics.add_static(ip_address::v4({10, 0, 0, i}), packet::mac_address{2, 0, 0, 0, 0, i}) ? 1 : 0;
    }
    EXPECT_EQ(added, 8U);
    EXPECT_FALSE(statics.learn(ip_address::v4({10, 0, 1, 1}), peer_mac, 0));
    EXPECT_FALSE(statics.should_solicit(ip_address::v4({10, 0, 1, 1}), 0));
}

TEST(neighbour_table, arp_request_into_matches_the_reference_builder) {
    std::array<std::uint8_t, 64> out{};
    const std::size_t size = build_arp_request_into(out, our_mac, our_ip, peer_a_ip);
    const auto expected = packet::build_arp_request(our_mac, our_ip, peer_a_ip);
    ASSERT_EQ(size, expected.size());
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), out.begin()));
    EXPECT_EQ(build_arp_request_into(std::span(out).first(41), our_mac, our_ip, peer_a_ip), 0U);
}

TEST(neighbour_table, neighbor_solicitation_into_matches_the_reference_builder) {
    std::array<std::uint8_t, 128> out{};
    const std::size_t size = build_neighbor_solicitation_into(out, our_mac, our_ip6, peer_a_ip6);
    const auto expected = packet::build_neighbor_solicitation(our_mac, our_ip6, peer_a_ip6);
    ASSERT_EQ(size, expected.size());
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), out.begin()));
    EXPECT_EQ(build_neighbor_solicitation_into(std::span(out).first(85), our_mac, our_ip6, peer_a_ip6), 0U);
}

TEST(neighbour_table, solicitation_into_picks_the_family) {
    std::array<std::uint8_t, 128> out{};
    const port_network net = network();
    EXPECT_EQ(build_solicitation_into(out, net, ip_address::v4(gateway_ip)), 42U);
    EXPECT_EQ(out[12], 0x08);
    EXPECT_EQ(out[13], 0x06);
    EXPECT_EQ(build_solicitation_into(out, net, ip_address::v6(gateway_ip6)), 86U);
    EXPECT_EQ(out[12], 0x86);
    port_network v4_only = net;
    v4_only.identity.ipv6.reset();
    EXPECT_EQ(build_solicitation_into(out, v4_only, ip_address::v6(gateway_ip6)), 0U);
    EXPECT_EQ(build_solicitation_into(out, net, ip_address{}), 0U);
}

TEST(neighbour_table, garbage_frames_never_crash_or_learn_nonsense) {
    neighbour_table table(neighbour_config{16, 300 * second_ns, second_ns});
    std::mt19937 random(42);
    std::vector<std::uint8_t> frame;
    for (int round = 0; round < 20000; ++round) {
        frame.resize(random() % 128);
        for (auto& b : frame) {
            b = static_cast<std::uint8_t>(random());
        }
        if (frame.size() >= 14 && round % 2 == 0) {
            frame[12] = round % 4 == 0 ? 0x08 : 0x86;  // steer half of them into ARP / IPv6
            frame[13] = round % 4 == 0 ? 0x06 : 0xdd;
        }
        (void)table.learn_from_frame(frame, round);
    }
    // Truncations of valid frames.
    const auto ns = packet::build_neighbor_solicitation(peer_mac, peer_a_ip6, our_ip6);
    for (std::size_t n = 0; n < ns.size(); ++n) {
        EXPECT_FALSE(table.learn_from_frame(std::span(ns).first(n), 0)) << n;
    }
}

}  // namespace
}  // namespace tandem::media
