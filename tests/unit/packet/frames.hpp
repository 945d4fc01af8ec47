#pragma once
// Addresses shared by the packet tests: "us" is the data plane's port, "peer"
// is a host on the same link.

#include "dataplane/packet/addresses.hpp"
#include "dataplane/packet/build.hpp"

namespace tandem::packet::test_frames {

inline const mac_address our_mac{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
inline const mac_address peer_mac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
inline const ipv4_address our_ip{192, 0, 2, 2};
inline const ipv4_address peer_ip{192, 0, 2, 1};
inline const ipv6_address our_ip6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
inline const ipv6_address peer_ip6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};

inline port_identity us_v4() {
    return port_identity{our_mac, our_ip, std::nullopt};
}
inline port_identity us_dual() {
    return port_identity{our_mac, our_ip, our_ip6};
}

inline ipv4_flow to_us() {
    return ipv4_flow{peer_mac, our_mac, peer_ip, our_ip};
}
inline ipv6_flow to_us6() {
    return ipv6_flow{peer_mac, our_mac, peer_ip6, our_ip6};
}

}  // namespace tandem::packet::test_frames
