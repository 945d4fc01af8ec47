#pragma once
// The first decision a worker makes about a received frame: what is it, and
// is it for this port. classify() is total (any bytes, any length) and does
// not modify the frame. It verifies the IPv4 header checksum and the ICMP /
// ICMPv6 checksums of requests it will answer, so a corrupted request is
// counted as malformed instead of being answered; UDP checksums are left
// to the media code (or the NIC's rx offload). Cost: a few comparisons per
// header plus one pass over an ICMP payload.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/packet/addresses.hpp"

namespace tandem::packet {

// X(name, description): one place for the list; counters and names derive
// from it.
#define TANDEM_PACKET_VERDICTS(X)                                                         \
    X(arp_request_for_us, "ARP request for the port's IPv4 address")                      \
    X(arp_reply, "ARP reply (neighbour learning is not implemented yet)")                 \
    X(icmp_echo_for_us, "ICMP echo request to the port's IPv4 address")                   \
    X(icmpv6_echo_for_us, "ICMPv6 echo request to the port's IPv6 address")               \
    X(neighbor_solicitation_for_us, "IPv6 neighbour solicitation for the port's address") \
    X(udp_for_us, "UDP datagram to the port's address")                                   \
    X(other_for_us, "other IP traffic to the port's address (TCP, other ICMP types)")     \
    X(fragment_for_us, "IPv4 fragment to the port's address (not reassembled)")           \
    X(not_for_us, "frame or packet addressed elsewhere")                                  \
    X(unsupported, "ether type or protocol the data plane does not handle")               \
    X(malformed, "truncated or inconsistent headers, or a bad checksum")

enum class verdict : std::uint8_t {
#define TANDEM_VERDICT_ENUM(name, description) name,
    TANDEM_PACKET_VERDICTS(TANDEM_VERDICT_ENUM)
#undef TANDEM_VERDICT_ENUM
};

inline constexpr std::size_t verdict_count = 0
#define TANDEM_VERDICT_COUNT(name, description) +1
    TANDEM_PACKET_VERDICTS(TANDEM_VERDICT_COUNT)
#undef TANDEM_VERDICT_COUNT
    ;

std::string_view to_string(verdict v);

struct classification {
    verdict kind = verdict::malformed;
    // Offsets into the frame, valid for the *_for_us verdicts: where the IP
    // header and the transport header start, and the transport length
    // (from the IP header, so without Ethernet padding).
    std::uint16_t l3_offset = 0;
    std::uint16_t l4_offset = 0;
    std::uint16_t l4_length = 0;
};

classification classify(std::span<const std::uint8_t> frame, const port_identity& us);

}  // namespace tandem::packet
