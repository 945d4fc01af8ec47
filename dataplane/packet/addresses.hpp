#pragma once
// Link and network addresses as fixed byte arrays in network order, so they
// compare with memcmp against packet bytes, plus the identity of one media
// port: the addresses the data plane answers for on that port.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::packet {

using mac_address = std::array<std::uint8_t, 6>;
using ipv4_address = std::array<std::uint8_t, 4>;
using ipv6_address = std::array<std::uint8_t, 16>;

inline constexpr mac_address broadcast_mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// Text forms: "192.0.2.2", "2001:db8::2", "02:00:00:00:00:01". nullopt for
// anything else (no host names, no prefixes).
std::optional<ipv4_address> parse_ipv4_address(std::string_view text);
std::optional<ipv6_address> parse_ipv6_address(std::string_view text);
std::optional<mac_address> parse_mac_address(std::string_view text);

std::string to_string(const ipv4_address& address);
std::string to_string(const ipv6_address& address);
std::string to_string(const mac_address& address);

// ff02::1:ffXX:XXXX, where a neighbour solicitation for `address` is sent.
ipv6_address solicited_node_multicast(const ipv6_address& address);
// 33:33 followed by the group's low 32 bits (RFC 2464).
mac_address ipv6_multicast_mac(const ipv6_address& group);

struct port_identity {
    mac_address mac{};
    ipv4_address ipv4{};
    std::optional<ipv6_address> ipv6;  // IPv6 is answered only when configured
};

}  // namespace tandem::packet
