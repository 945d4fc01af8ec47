#pragma once
// Frames, RTP/RTCP payloads and reference checksums for the media tests.
// The checksum helpers are written independently of dataplane/packet so a
// bug there cannot hide a bug in the relay's rewrite.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dataplane/media/relay.hpp"
#include "dataplane/packet/addresses.hpp"
#include "dataplane/packet/build.hpp"

namespace tandem::media::test {

inline const packet::mac_address our_mac{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
inline const packet::mac_address peer_mac{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
inline const packet::mac_address gateway_mac{0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};
inline const packet::ipv4_address our_ip{192, 0, 2, 2};
inline const packet::ipv4_address gateway_ip{192, 0, 2, 254};
inline const packet::ipv4_address peer_a_ip{192, 0, 2, 10};     // on the port's /24
inline const packet::ipv4_address peer_b_ip{198, 51, 100, 20};  // behind the gateway
inline const packet::ipv6_address our_ip6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
inline const packet::ipv6_address peer_a_ip6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a};
inline const packet::ipv6_address peer_b_ip6{0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x14};
inline const packet::ipv6_address gateway_ip6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe};

inline port_network network() {
    port_network net;
    net.identity = packet::port_identity{our_mac, our_ip, our_ip6};
    net.ipv4_prefix = 24;
    net.ipv4_gateway = gateway_ip;
    net.ipv6_prefix = 64;
    net.ipv6_gateway = gateway_ip6;
    return net;
}

inline media_endpoint endpoint4(const packet::ipv4_address& ip, std::uint16_t port) {
    media_endpoint e;
    e.family = 4;
    std::copy(ip.begin(), ip.end(), e.address.begin());
    e.port = port;
    return e;
}

inline media_endpoint endpoint6(const packet::ipv6_address& ip, std::uint16_t port) {
    media_endpoint e;
    e.family = 6;
    e.address = ip;
    e.port = port;
    return e;
}

inline std::vector<std::uint8_t> rtp_payload(std::uint16_t sequence, std::uint32_t timestamp,
                                             std::uint32_t ssrc, std::uint8_t payload_type = 0,
                                             std::size_t media_bytes = 160) {
    std::vector<std::uint8_t> p(12 + media_bytes, 0xd5);
    p[0] = 0x80;
    p[1] = payload_type;
    p[2] = static_cast<std::uint8_t>(sequence >> 8);
    p[3] = static_cast<std::uint8_t>(sequence);
    for (int i = 0; i < 4; ++i) {
        p[4 + i] = static_cast<std::uint8_t>(timestamp >> (24 - 8 * i));
        p[8 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
    }
    return p;
}

inline void put32(std::vector<std::uint8_t>& p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        p.push_back(static_cast<std::uint8_t>(v >> (24 - 8 * i)));
    }
}

struct report_block_values {
    std::uint32_t ssrc = 0;
    std::uint8_t fraction_lost = 0;
    std::int32_t cumulative_lost = 0;
    std::uint32_t highest_sequence = 0;
    std::uint32_t jitter = 0;
    std::uint32_t last_sr = 0;
    std::uint32_t delay_since_last_sr = 0;
};

inline void put_block(std::vector<std::uint8_t>& p, const report_block_values& b) {
    put32(p, b.ssrc);
    put32(p, (std::uint32_t{b.fraction_lost} << 24) |
                 (static_cast<std::uint32_t>(b.cumulative_lost) & 0xffffffU));
    put32(p, b.highest_sequence);
    put32(p, b.jitter);
    put32(p, b.last_sr);
    put32(p, b.delay_since_last_sr);
}

inline void set_length(std::vector<std::uint8_t>& p, std::size_t start) {
    const std::size_t words = (p.size() - start) / 4 - 1;
    p[start + 2] = static_cast<std::uint8_t>(words >> 8);
    p[start + 3] = static_cast<std::uint8_t>(words);
}

inline std::vector<std::uint8_t> rtcp_rr(std::uint32_t sender_ssrc,
                                         const std::vector<report_block_values>& blocks) {
    std::vector<std::uint8_t> p{static_cast<std::uint8_t>(0x80 | blocks.size()), 201, 0, 0};
    put32(p, sender_ssrc);
    for (const auto& b : blocks) {
        put_block(p, b);
    }
    set_length(p, 0);
    return p;
}

inline std::vector<std::uint8_t> rtcp_sr(std::uint32_t sender_ssrc, std::uint32_t ntp_seconds,
                                         std::uint32_t ntp_fraction,
                                         const std::vector<report_block_values>& blocks = {}) {
    std::vector<std::uint8_t> p{static_cast<std::uint8_t>(0x80 | blocks.size()), 200, 0, 0};
    put32(p, sender_ssrc);
    put32(p, ntp_seconds);
    put32(p, ntp_fraction);
    put32(p, 12345);  // RTP timestamp
    put32(p, 100);    // packets
    put32(p, 16000);  // octets
    for (const auto& b : blocks) {
        put_block(p, b);
    }
    set_length(p, 0);
    return p;
}

// SDES with one CNAME item, to make compound packets.
inline void append_sdes(std::vector<std::uint8_t>& p, std::uint32_t ssrc) {
    const std::size_t start = p.size();
    p.insert(p.end(), {0x81, 202, 0, 0});
    put32(p, ssrc);
    p.insert(p.end(), {1, 4, 'a', 'b', 'c', 'd', 0, 0});
    set_length(p, start);
}

inline std::vector<std::uint8_t> udp4(const packet::ipv4_address& source, std::uint16_t source_port,
                                      std::uint16_t destination_port, std::span<const std::uint8_t> payload,
                                      const packet::ipv4_address& destination = our_ip) {
    return packet::build_udp(packet::ipv4_flow{peer_mac, our_mac, source, destination}, source_port,
                             destination_port, payload);
}

// Independent one's complement sum (RFC 1071) for the reference checks.
inline std::uint32_t ref_sum(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0) {
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
        const std::uint32_t high = bytes[i];
        const std::uint32_t low = i + 1 < bytes.size() ? bytes[i + 1] : 0;
        sum += (high << 8) | low;
    }
    return sum;
}

inline std::uint16_t ref_fold(std::uint32_t sum) {
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

inline std::uint16_t ref_udp_checksum_with_pseudo(std::span<const std::uint8_t> source,
                                                  std::span<const std::uint8_t> destination,
                                                  std::span<const std::uint8_t> udp_with_zero_checksum) {
    std::uint32_t sum = ref_sum(source);
    sum = ref_sum(destination, sum);
    sum += 17;
    sum += static_cast<std::uint32_t>(udp_with_zero_checksum.size());
    sum = ref_sum(udp_with_zero_checksum, sum);
    const auto c = static_cast<std::uint16_t>(~ref_fold(sum));
    return c == 0 ? 0xffff : c;
}

// IPv6 UDP frame (no builder in dataplane/packet for it).
inline std::vector<std::uint8_t> udp6(const packet::ipv6_address& source, std::uint16_t source_port,
                                      std::uint16_t destination_port, std::span<const std::uint8_t> payload,
                                      const packet::ipv6_address& destination = our_ip6) {
    const std::size_t udp_size = 8 + payload.size();
    std::vector<std::uint8_t> f(14 + 40 + udp_size, 0);
    std::copy(our_mac.begin(), our_mac.end(), f.begin());
    std::copy(peer_mac.begin(), peer_mac.end(), f.begin() + 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    f[14] = 0x60;
    f[18] = static_cast<std::uint8_t>(udp_size >> 8);
    f[19] = static_cast<std::uint8_t>(udp_size);
    f[20] = 17;
    f[21] = 57;  // hop limit
    std::copy(source.begin(), source.end(), f.begin() + 22);
    std::copy(destination.begin(), destination.end(), f.begin() + 38);
    const std::size_t u = 54;
    f[u] = static_cast<std::uint8_t>(source_port >> 8);
    f[u + 1] = static_cast<std::uint8_t>(source_port);
    f[u + 2] = static_cast<std::uint8_t>(destination_port >> 8);
    f[u + 3] = static_cast<std::uint8_t>(destination_port);
    f[u + 4] = static_cast<std::uint8_t>(udp_size >> 8);
    f[u + 5] = static_cast<std::uint8_t>(udp_size);
    std::copy(payload.begin(), payload.end(), f.begin() + static_cast<std::ptrdiff_t>(u + 8));
    const std::uint16_t c = ref_udp_checksum_with_pseudo(source, destination, std::span(f).subspan(u));
    f[u + 6] = static_cast<std::uint8_t>(c >> 8);
    f[u + 7] = static_cast<std::uint8_t>(c);
    return f;
}

// True when the UDP checksum in the frame verifies (zero for IPv4 is "none").
inline bool udp_checksum_valid(std::span<const std::uint8_t> frame, std::size_t l3, std::size_t l4) {
    const bool v4 = (frame[l3] >> 4) == 4;
    const std::size_t address_size = v4 ? 4 : 16;
    const std::size_t address_at = v4 ? l3 + 12 : l3 + 8;
    const std::size_t udp_length = (std::size_t{frame[l4 + 4]} << 8) | frame[l4 + 5];
    std::uint32_t sum = ref_sum(frame.subspan(address_at, address_size));
    sum = ref_sum(frame.subspan(address_at + address_size, address_size), sum);
    sum += 17;
    sum += static_cast<std::uint32_t>(udp_length);
    sum = ref_sum(frame.subspan(l4, udp_length), sum);
    return ref_fold(sum) == 0xffff;
}

inline bool ipv4_header_checksum_valid(std::span<const std::uint8_t> frame, std::size_t l3) {
    const std::size_t size = static_cast<std::size_t>(frame[l3] & 0x0f) * 4;
    return ref_fold(ref_sum(frame.subspan(l3, size))) == 0xffff;
}

}  // namespace tandem::media::test
