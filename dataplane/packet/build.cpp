#include "dataplane/packet/build.hpp"

#include <algorithm>

#include "dataplane/packet/bytes.hpp"
#include "dataplane/packet/headers.hpp"

namespace tandem::packet {

namespace {

template <std::size_t N>
void put(std::vector<std::uint8_t>& bytes, std::size_t offset, const std::array<std::uint8_t, N>& value) {
    std::copy(value.begin(), value.end(), bytes.begin() + static_cast<std::ptrdiff_t>(offset));
}

void put_ethernet(std::vector<std::uint8_t>& frame, const mac_address& destination, const mac_address& source,
                  std::uint16_t ether_type) {
    put(frame, 0, destination);
    put(frame, 6, source);
    store_be16(frame, 12, ether_type);
}

void put_ipv4(std::vector<std::uint8_t>& frame, const ipv4_flow& flow, std::uint8_t protocol,
              std::size_t payload_size) {
    const std::span<std::uint8_t> ip(frame.data() + ethernet_header_size, ipv4_min_header_size);
    ip[0] = 0x45;
    store_be16(ip, 2, static_cast<std::uint16_t>(ipv4_min_header_size + payload_size));
    store_be16(ip, 4, 0x1234);
    store_be16(ip, 6, 0x4000);  // don't fragment
    ip[8] = 64;
    ip[9] = protocol;
    std::copy(flow.source_ip.begin(), flow.source_ip.end(), ip.begin() + 12);
    std::copy(flow.destination_ip.begin(), flow.destination_ip.end(), ip.begin() + 16);
    store_be16(ip, 10, checksum_finish(checksum_add(ip)));
}

void put_ipv6(std::vector<std::uint8_t>& frame, const ipv6_address& source, const ipv6_address& destination,
              std::uint8_t hop_limit, std::size_t payload_size) {
    const std::span<std::uint8_t> ip(frame.data() + ethernet_header_size, ipv6_header_size);
    store_be32(ip, 0, 0x60000000U);
    store_be16(ip, 4, static_cast<std::uint16_t>(payload_size));
    ip[6] = ip_protocol_icmpv6;
    ip[7] = hop_limit;
    std::copy(source.begin(), source.end(), ip.begin() + 8);
    std::copy(destination.begin(), destination.end(), ip.begin() + 24);
}

void finish_icmpv6(std::vector<std::uint8_t>& frame, const ipv6_address& source,
                   const ipv6_address& destination) {
    const std::span<std::uint8_t> icmp(frame.data() + ethernet_header_size + ipv6_header_size,
                                       frame.size() - ethernet_header_size - ipv6_header_size);
    const std::uint32_t pseudo = ipv6_pseudo_header_sum(source, destination, ip_protocol_icmpv6, icmp.size());
    store_be16(icmp, 2, checksum_finish(checksum_add(icmp, pseudo)));
}

void put_payload_pattern(std::span<std::uint8_t> payload) {
    for (std::size_t i = 0; i < payload.size(); ++i) {
        payload[i] = static_cast<std::uint8_t>(i);
    }
}

}  // namespace

std::vector<std::uint8_t> build_arp_request(const mac_address& sender_mac, const ipv4_address& sender_ip,
                                            const ipv4_address& target_ip) {
    std::vector<std::uint8_t> frame(ethernet_header_size + arp_ipv4_size);
    put_ethernet(frame, broadcast_mac, sender_mac, ether_type_arp);
    const std::span<std::uint8_t> arp(frame.data() + ethernet_header_size, arp_ipv4_size);
    store_be16(arp, 0, 1);
    store_be16(arp, 2, ether_type_ipv4);
    arp[4] = 6;
    arp[5] = 4;
    store_be16(arp, 6, arp_op_request);
    put(frame, ethernet_header_size + 8, sender_mac);
    put(frame, ethernet_header_size + 14, sender_ip);
    put(frame, ethernet_header_size + 24, target_ip);
    return frame;
}

std::vector<std::uint8_t> build_icmp_echo_request(const ipv4_flow& flow, std::uint16_t identifier,
                                                  std::uint16_t sequence, std::size_t payload_size) {
    const std::size_t icmp_size = icmp_echo_header_size + payload_size;
    std::vector<std::uint8_t> frame(ethernet_header_size + ipv4_min_header_size + icmp_size);
    put_ethernet(frame, flow.destination_mac, flow.source_mac, ether_type_ipv4);
    put_ipv4(frame, flow, ip_protocol_icmp, icmp_size);
    const std::span<std::uint8_t> icmp(frame.data() + ethernet_header_size + ipv4_min_header_size, icmp_size);
    icmp[0] = icmp_echo_request;
    store_be16(icmp, 4, identifier);
    store_be16(icmp, 6, sequence);
    put_payload_pattern(icmp.subspan(icmp_echo_header_size));
    store_be16(icmp, 2, checksum_finish(checksum_add(icmp)));
    return frame;
}

std::vector<std::uint8_t> build_udp(const ipv4_flow& flow, std::uint16_t source_port,
                                    std::uint16_t destination_port, std::span<const std::uint8_t> payload) {
    const std::size_t udp_size = udp_header_size + payload.size();
    std::vector<std::uint8_t> frame(ethernet_header_size + ipv4_min_header_size + udp_size);
    put_ethernet(frame, flow.destination_mac, flow.source_mac, ether_type_ipv4);
    put_ipv4(frame, flow, ip_protocol_udp, udp_size);
    const std::span<std::uint8_t> udp(frame.data() + ethernet_header_size + ipv4_min_header_size, udp_size);
    store_be16(udp, 0, source_port);
    store_be16(udp, 2, destination_port);
    store_be16(udp, 4, static_cast<std::uint16_t>(udp_size));
    std::copy(payload.begin(), payload.end(), udp.begin() + udp_header_size);
    const std::uint32_t pseudo =
        ipv4_pseudo_header_sum(flow.source_ip, flow.destination_ip, ip_protocol_udp, udp_size);
    std::uint16_t checksum = checksum_finish(checksum_add(udp, pseudo));
    store_be16(udp, 6, checksum == 0 ? 0xffff : checksum);
    return frame;
}

std::vector<std::uint8_t> build_icmpv6_echo_request(const ipv6_flow& flow, std::uint16_t identifier,
                                                    std::uint16_t sequence, std::size_t payload_size) {
    const std::size_t icmp_size = 8 + payload_size;
    std::vector<std::uint8_t> frame(ethernet_header_size + ipv6_header_size + icmp_size);
    put_ethernet(frame, flow.destination_mac, flow.source_mac, ether_type_ipv6);
    put_ipv6(frame, flow.source_ip, flow.destination_ip, 64, icmp_size);
    const std::span<std::uint8_t> icmp(frame.data() + ethernet_header_size + ipv6_header_size, icmp_size);
    icmp[0] = icmpv6_echo_request;
    store_be16(icmp, 4, identifier);
    store_be16(icmp, 6, sequence);
    put_payload_pattern(icmp.subspan(8));
    finish_icmpv6(frame, flow.source_ip, flow.destination_ip);
    return frame;
}

std::vector<std::uint8_t> build_neighbor_solicitation(const mac_address& source_mac,
                                                      const ipv6_address& source_ip,
                                                      const ipv6_address& target) {
    const bool with_option = source_ip != ipv6_address{};
    const std::size_t icmp_size = 24 + (with_option ? 8 : 0);
    const ipv6_address group = solicited_node_multicast(target);
    std::vector<std::uint8_t> frame(ethernet_header_size + ipv6_header_size + icmp_size);
    put_ethernet(frame, ipv6_multicast_mac(group), source_mac, ether_type_ipv6);
    put_ipv6(frame, source_ip, group, 255, icmp_size);
    const std::size_t l4 = ethernet_header_size + ipv6_header_size;
    frame[l4] = icmpv6_neighbor_solicitation;
    put(frame, l4 + 8, target);
    if (with_option) {
        frame[l4 + 24] = 1;  // source link-layer address
        frame[l4 + 25] = 1;
        put(frame, l4 + 26, source_mac);
    }
    finish_icmpv6(frame, source_ip, group);
    return frame;
}

}  // namespace tandem::packet
