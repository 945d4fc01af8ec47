#include "dataplane/packet/headers.hpp"

#include <algorithm>

#include "dataplane/packet/bytes.hpp"

namespace tandem::packet {

namespace {

template <std::size_t N>
std::array<std::uint8_t, N> copy_bytes(std::span<const std::uint8_t> bytes, std::size_t offset) {
    std::array<std::uint8_t, N> out{};
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(offset), N, out.begin());
    return out;
}

constexpr std::uint16_t ether_type_vlan = 0x8100;

}  // namespace

std::optional<ethernet_header> parse_ethernet(std::span<const std::uint8_t> frame) {
    if (frame.size() < ethernet_header_size) {
        return std::nullopt;
    }
    ethernet_header header{};
    header.destination = copy_bytes<6>(frame, 0);
    header.source = copy_bytes<6>(frame, 6);
    header.ether_type = load_be16(frame, 12);
    header.payload_offset = ethernet_header_size;
    if (header.ether_type == ether_type_vlan) {
        if (frame.size() < ethernet_header_size + 4) {
            return std::nullopt;
        }
        header.ether_type = load_be16(frame, 16);
        header.payload_offset = ethernet_header_size + 4;
        header.vlan_tagged = true;
    }
    return header;
}

std::optional<arp_packet> parse_arp(std::span<const std::uint8_t> payload) {
    if (payload.size() < arp_ipv4_size) {
        return std::nullopt;
    }
    if (load_be16(payload, 0) != 1 || load_be16(payload, 2) != ether_type_ipv4 || payload[4] != 6 ||
        payload[5] != 4) {
        return std::nullopt;
    }
    arp_packet arp{};
    arp.operation = load_be16(payload, 6);
    arp.sender_mac = copy_bytes<6>(payload, 8);
    arp.sender_ip = copy_bytes<4>(payload, 14);
    arp.target_mac = copy_bytes<6>(payload, 18);
    arp.target_ip = copy_bytes<4>(payload, 24);
    return arp;
}

std::optional<ipv4_header> parse_ipv4(std::span<const std::uint8_t> packet) {
    if (packet.size() < ipv4_min_header_size) {
        return std::nullopt;
    }
    if ((packet[0] >> 4) != 4) {
        return std::nullopt;
    }
    ipv4_header header{};
    header.header_size = static_cast<std::size_t>(packet[0] & 0x0f) * 4;
    header.total_length = load_be16(packet, 2);
    if (header.header_size < ipv4_min_header_size || header.total_length < header.header_size ||
        header.total_length > packet.size()) {
        return std::nullopt;
    }
    const std::uint16_t flags_fragment = load_be16(packet, 6);
    header.fragment = (flags_fragment & 0x2000) != 0 || (flags_fragment & 0x1fff) != 0;
    header.ttl = packet[8];
    header.protocol = packet[9];
    header.source = copy_bytes<4>(packet, 12);
    header.destination = copy_bytes<4>(packet, 16);
    return header;
}

bool ipv4_header_checksum_ok(std::span<const std::uint8_t> packet, const ipv4_header& header) {
    if (packet.size() < header.header_size) {
        return false;
    }
    return checksum_finish(checksum_add(packet.first(header.header_size))) == 0;
}

std::optional<ipv6_header> parse_ipv6(std::span<const std::uint8_t> packet) {
    if (packet.size() < ipv6_header_size) {
        return std::nullopt;
    }
    if ((packet[0] >> 4) != 6) {
        return std::nullopt;
    }
    ipv6_header header{};
    header.payload_length = load_be16(packet, 4);
    if (header.payload_length > packet.size() - ipv6_header_size) {
        return std::nullopt;
    }
    header.next_header = packet[6];
    header.hop_limit = packet[7];
    header.source = copy_bytes<16>(packet, 8);
    header.destination = copy_bytes<16>(packet, 24);
    return header;
}

std::optional<udp_header> parse_udp(std::span<const std::uint8_t> segment) {
    if (segment.size() < udp_header_size) {
        return std::nullopt;
    }
    udp_header header{};
    header.source_port = load_be16(segment, 0);
    header.destination_port = load_be16(segment, 2);
    header.length = load_be16(segment, 4);
    if (header.length < udp_header_size || header.length > segment.size()) {
        return std::nullopt;
    }
    return header;
}

std::uint32_t ipv4_pseudo_header_sum(const ipv4_address& source, const ipv4_address& destination,
                                     std::uint8_t protocol, std::size_t length) {
    std::uint32_t sum = checksum_add(source);
    sum = checksum_add(destination, sum);
    return sum + protocol + static_cast<std::uint32_t>(length & 0xffff);
}

std::uint32_t ipv6_pseudo_header_sum(const ipv6_address& source, const ipv6_address& destination,
                                     std::uint8_t next_header, std::size_t length) {
    std::uint32_t sum = checksum_add(source);
    sum = checksum_add(destination, sum);
    const auto length32 = static_cast<std::uint32_t>(length);
    return sum + (length32 >> 16) + (length32 & 0xffff) + next_header;
}

}  // namespace tandem::packet
