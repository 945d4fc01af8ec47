#include "dataplane/packet/respond.hpp"

#include <algorithm>

#include "dataplane/packet/bytes.hpp"
#include "dataplane/packet/headers.hpp"

namespace tandem::packet {

namespace {

template <std::size_t N>
void put(std::span<std::uint8_t> bytes, std::size_t offset, const std::array<std::uint8_t, N>& value) {
    std::copy(value.begin(), value.end(), bytes.begin() + static_cast<std::ptrdiff_t>(offset));
}

template <std::size_t N>
std::array<std::uint8_t, N> get(std::span<const std::uint8_t> bytes, std::size_t offset) {
    std::array<std::uint8_t, N> out{};
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(offset), N, out.begin());
    return out;
}

// Ethernet: reply to whoever sent it, from our MAC.
void swap_ethernet(std::span<std::uint8_t> frame, const mac_address& ours) {
    const auto sender = get<6>(frame, 6);
    put(frame, 0, sender);
    put(frame, 6, ours);
}

std::size_t reply_arp(std::span<std::uint8_t> frame, const classification& what, const port_identity& us) {
    const std::size_t l3 = what.l3_offset;
    if (l3 < ethernet_header_size || frame.size() < l3 + arp_ipv4_size) {
        return 0;
    }
    const auto arp = frame.subspan(l3, arp_ipv4_size);
    const auto sender_mac = get<6>(arp, 8);
    const auto sender_ip = get<4>(arp, 14);
    put(frame, 0, sender_mac);
    put(frame, 6, us.mac);
    store_be16(arp, 6, arp_op_reply);
    put(arp, 8, us.mac);
    put(arp, 14, us.ipv4);
    put(arp, 18, sender_mac);
    put(arp, 24, sender_ip);
    return frame.size();
}

std::size_t reply_icmp_echo(std::span<std::uint8_t> frame, const classification& what,
                            const port_identity& us) {
    const std::size_t l3 = what.l3_offset;
    const std::size_t l4 = what.l4_offset;
    const std::size_t l4_length = what.l4_length;
    if (l3 < ethernet_header_size || l4 < l3 + ipv4_min_header_size || l4_length < icmp_echo_header_size ||
        frame.size() < l4 + l4_length) {
        return 0;
    }
    swap_ethernet(frame, us.mac);
    const auto ip = frame.subspan(l3, l4 - l3);
    const auto requester = get<4>(ip, 12);
    put(ip, 12, us.ipv4);
    put(ip, 16, requester);
    ip[8] = reply_ttl;
    store_be16(ip, 10, 0);
    store_be16(ip, 10, checksum_finish(checksum_add(ip)));

    const auto icmp = frame.subspan(l4, l4_length);
    icmp[0] = icmp_echo_reply;
    store_be16(icmp, 2, 0);
    store_be16(icmp, 2, checksum_finish(checksum_add(icmp)));
    return frame.size();
}

void finish_icmpv6(std::span<std::uint8_t> ip, std::span<std::uint8_t> icmp) {
    store_be16(icmp, 2, 0);
    const std::uint32_t pseudo =
        ipv6_pseudo_header_sum(get<16>(ip, 8), get<16>(ip, 24), ip_protocol_icmpv6, icmp.size());
    store_be16(icmp, 2, checksum_finish(checksum_add(icmp, pseudo)));
}

std::size_t reply_icmpv6_echo(std::span<std::uint8_t> frame, const classification& what,
                              const port_identity& us) {
    const std::size_t l3 = what.l3_offset;
    const std::size_t l4 = what.l4_offset;
    const std::size_t l4_length = what.l4_length;
    if (!us.ipv6 || l3 < ethernet_header_size || l4 != l3 + ipv6_header_size || l4_length < 8 ||
        frame.size() < l4 + l4_length) {
        return 0;
    }
    swap_ethernet(frame, us.mac);
    const auto ip = frame.subspan(l3, ipv6_header_size);
    const auto requester = get<16>(ip, 8);
    put(ip, 8, *us.ipv6);
    put(ip, 24, requester);
    ip[7] = reply_ttl;
    const auto icmp = frame.subspan(l4, l4_length);
    icmp[0] = icmpv6_echo_reply;
    finish_icmpv6(ip, icmp);
    return frame.size();
}

std::size_t reply_neighbor_solicitation(std::span<std::uint8_t> room, std::size_t frame_length,
                                        const classification& what, const port_identity& us) {
    constexpr std::size_t advertisement_size = 32;  // 24-byte NA + target link-layer address option
    const std::size_t l3 = what.l3_offset;
    const std::size_t l4 = what.l4_offset;
    if (!us.ipv6 || l3 < ethernet_header_size || l4 != l3 + ipv6_header_size || what.l4_length < 24 ||
        frame_length < l4 + what.l4_length || room.size() < frame_length ||
        room.size() < l4 + advertisement_size) {
        return 0;
    }
    const auto ip = room.subspan(l3, ipv6_header_size);
    const auto solicitor = get<16>(ip, 8);
    const bool from_unspecified = solicitor == ipv6_address{};
    // RFC 4861 7.2.4: a DAD probe (source ::) is answered to all-nodes,
    // without the Solicited flag.
    const ipv6_address all_nodes{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
    const ipv6_address destination = from_unspecified ? all_nodes : solicitor;

    if (from_unspecified) {
        put(room, 0, ipv6_multicast_mac(all_nodes));
        put(room, 6, us.mac);
    } else {
        swap_ethernet(room, us.mac);
    }
    store_be32(ip, 0, 0x60000000U);
    store_be16(ip, 4, static_cast<std::uint16_t>(advertisement_size));
    ip[6] = ip_protocol_icmpv6;
    ip[7] = 255;
    put(ip, 8, *us.ipv6);
    put(ip, 24, destination);

    const auto icmp = room.subspan(l4, advertisement_size);
    std::fill(icmp.begin(), icmp.end(), std::uint8_t{0});
    icmp[0] = icmpv6_neighbor_advertisement;
    icmp[4] = static_cast<std::uint8_t>((from_unspecified ? 0x00 : 0x40) | 0x20);  // Solicited, Override
    put(icmp, 8, *us.ipv6);
    icmp[24] = 2;  // target link-layer address option, length 1 (8 bytes)
    icmp[25] = 1;
    put(icmp, 26, us.mac);
    finish_icmpv6(ip, icmp);
    return l4 + advertisement_size;
}

}  // namespace

std::size_t respond(std::span<std::uint8_t> room, std::size_t frame_length, const classification& what,
                    const port_identity& us) {
    if (frame_length > room.size()) {
        return 0;
    }
    const auto frame = room.first(frame_length);
    switch (what.kind) {
        case verdict::arp_request_for_us:
            return reply_arp(frame, what, us);
        case verdict::icmp_echo_for_us:
            return reply_icmp_echo(frame, what, us);
        case verdict::icmpv6_echo_for_us:
            return reply_icmpv6_echo(frame, what, us);
        case verdict::neighbor_solicitation_for_us:
            return reply_neighbor_solicitation(room, frame_length, what, us);
        default:
            return 0;
    }
}

}  // namespace tandem::packet
