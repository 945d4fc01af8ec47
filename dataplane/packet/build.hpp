#pragma once
// Frame builders for tests, benchmarks and tools: well-formed requests with
// correct checksums, returned as owned byte vectors. They allocate, so they
// are not for worker lcores.

#include <cstdint>
#include <span>
#include <vector>

#include "dataplane/packet/addresses.hpp"

namespace tandem::packet {

std::vector<std::uint8_t> build_arp_request(const mac_address& sender_mac, const ipv4_address& sender_ip,
                                            const ipv4_address& target_ip);

struct ipv4_flow {
    mac_address source_mac{};
    mac_address destination_mac{};
    ipv4_address source_ip{};
    ipv4_address destination_ip{};
};

std::vector<std::uint8_t> build_icmp_echo_request(const ipv4_flow& flow, std::uint16_t identifier,
                                                  std::uint16_t sequence, std::size_t payload_size);

std::vector<std::uint8_t> build_udp(const ipv4_flow& flow, std::uint16_t source_port,
                                    std::uint16_t destination_port, std::span<const std::uint8_t> payload);

struct ipv6_flow {
    mac_address source_mac{};
    mac_address destination_mac{};
    ipv6_address source_ip{};
    ipv6_address destination_ip{};
};

std::vector<std::uint8_t> build_icmpv6_echo_request(const ipv6_flow& flow, std::uint16_t identifier,
                                                    std::uint16_t sequence, std::size_t payload_size);

// To the target's solicited-node group, with a source link-layer address
// option unless the source is :: (duplicate address detection).
std::vector<std::uint8_t> build_neighbor_solicitation(const mac_address& source_mac,
                                                      const ipv6_address& source_ip,
                                                      const ipv6_address& target);

}  // namespace tandem::packet
