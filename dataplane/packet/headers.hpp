#pragma once
// Total parsers for the headers the data plane answers itself: Ethernet,
// ARP, IPv4, ICMP, UDP, IPv6 and ICMPv6. Each takes the bytes from the start
// of its header to the end of the frame, checks the length before reading
// any field, and returns nullopt for anything short or inconsistent. They
// check structure only; whether a packet is for us, and checksums, are the
// classifier's business. Offsets in the results are relative to the span
// that was passed in.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "dataplane/packet/addresses.hpp"

namespace tandem::packet {

inline constexpr std::uint16_t ether_type_ipv4 = 0x0800;
inline constexpr std::uint16_t ether_type_arp = 0x0806;
inline constexpr std::uint16_t ether_type_ipv6 = 0x86dd;

inline constexpr std::uint8_t ip_protocol_icmp = 1;
inline constexpr std::uint8_t ip_protocol_udp = 17;
inline constexpr std::uint8_t ip_protocol_icmpv6 = 58;

inline constexpr std::size_t ethernet_header_size = 14;
inline constexpr std::size_t arp_ipv4_size = 28;
inline constexpr std::size_t ipv4_min_header_size = 20;
inline constexpr std::size_t ipv6_header_size = 40;
inline constexpr std::size_t icmp_echo_header_size = 8;
inline constexpr std::size_t udp_header_size = 8;

inline constexpr std::uint16_t arp_op_request = 1;
inline constexpr std::uint16_t arp_op_reply = 2;

inline constexpr std::uint8_t icmp_echo_reply = 0;
inline constexpr std::uint8_t icmp_echo_request = 8;
inline constexpr std::uint8_t icmpv6_echo_request = 128;
inline constexpr std::uint8_t icmpv6_echo_reply = 129;
inline constexpr std::uint8_t icmpv6_neighbor_solicitation = 135;
inline constexpr std::uint8_t icmpv6_neighbor_advertisement = 136;

struct ethernet_header {
    mac_address destination;
    mac_address source;
    std::uint16_t ether_type;    // after at most one 802.1Q tag
    std::size_t payload_offset;  // 14, or 18 with a VLAN tag
    bool vlan_tagged;
};
std::optional<ethernet_header> parse_ethernet(std::span<const std::uint8_t> frame);

// Only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4).
struct arp_packet {
    std::uint16_t operation;
    mac_address sender_mac;
    ipv4_address sender_ip;
    mac_address target_mac;
    ipv4_address target_ip;
};
std::optional<arp_packet> parse_arp(std::span<const std::uint8_t> payload);

struct ipv4_header {
    std::size_t header_size;   // IHL * 4, 20..60
    std::size_t total_length;  // from the header; <= the bytes available
    std::uint8_t ttl;
    std::uint8_t protocol;
    bool fragment;  // MF set or a non-zero fragment offset
    ipv4_address source;
    ipv4_address destination;
};
// Checks version 4, IHL >= 5, IHL*4 <= total length <= available bytes
// (bytes beyond total_length are Ethernet padding).
std::optional<ipv4_header> parse_ipv4(std::span<const std::uint8_t> packet);
// True when the header checksum verifies.
bool ipv4_header_checksum_ok(std::span<const std::uint8_t> packet, const ipv4_header& header);

struct ipv6_header {
    std::size_t payload_length;  // <= available bytes - 40
    std::uint8_t next_header;
    std::uint8_t hop_limit;
    ipv6_address source;
    ipv6_address destination;
};
std::optional<ipv6_header> parse_ipv6(std::span<const std::uint8_t> packet);

struct udp_header {
    std::uint16_t source_port;
    std::uint16_t destination_port;
    std::size_t length;  // header + payload, 8..available
};
std::optional<udp_header> parse_udp(std::span<const std::uint8_t> segment);

// The pseudo-header sums used by UDP/ICMPv6 checksums, before the payload.
std::uint32_t ipv4_pseudo_header_sum(const ipv4_address& source, const ipv4_address& destination,
                                     std::uint8_t protocol, std::size_t length);
std::uint32_t ipv6_pseudo_header_sum(const ipv6_address& source, const ipv6_address& destination,
                                     std::uint8_t next_header, std::size_t length);

}  // namespace tandem::packet
