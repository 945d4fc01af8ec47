#include "dataplane/packet/classify.hpp"

#include <algorithm>
#include <array>

#include "dataplane/packet/bytes.hpp"
#include "dataplane/packet/headers.hpp"

namespace tandem::packet {

namespace {

constexpr std::array<std::string_view, verdict_count> verdict_names{
#define TANDEM_VERDICT_NAME(name, description) #name,
    TANDEM_PACKET_VERDICTS(TANDEM_VERDICT_NAME)
#undef TANDEM_VERDICT_NAME
};

classification make(verdict kind) {
    return classification{kind, 0, 0, 0};
}

classification make(verdict kind, std::size_t l3, std::size_t l4, std::size_t l4_length) {
    return classification{kind, static_cast<std::uint16_t>(l3), static_cast<std::uint16_t>(l4),
                          static_cast<std::uint16_t>(l4_length)};
}

bool is_ipv6_multicast_mac(const mac_address& mac) {
    return mac[0] == 0x33 && mac[1] == 0x33;
}

classification classify_arp(std::span<const std::uint8_t> frame, std::size_t l3, const port_identity& us) {
    const auto arp = parse_arp(frame.subspan(l3));
    if (!arp) {
        return make(verdict::malformed);
    }
    if (arp->operation == arp_op_request) {
        if (arp->target_ip != us.ipv4) {
            return make(verdict::not_for_us);
        }
        return make(verdict::arp_request_for_us, l3, l3, arp_ipv4_size);
    }
    if (arp->operation == arp_op_reply) {
        return make(verdict::arp_reply);
    }
    return make(verdict::unsupported);
}

classification classify_ipv4(std::span<const std::uint8_t> frame, std::size_t l3, const port_identity& us) {
    const auto packet = frame.subspan(l3);
    const auto ip = parse_ipv4(packet);
    if (!ip || !ipv4_header_checksum_ok(packet, *ip)) {
        return make(verdict::malformed);
    }
    if (ip->destination != us.ipv4) {
        return make(verdict::not_for_us);
    }
    const std::size_t l4 = l3 + ip->header_size;
    const std::size_t l4_length = ip->total_length - ip->header_size;
    if (ip->fragment) {
        return make(verdict::fragment_for_us, l3, l4, l4_length);
    }
    const auto segment = frame.subspan(l4, l4_length);
    if (ip->protocol == ip_protocol_icmp) {
        if (segment.size() < icmp_echo_header_size) {
            return make(verdict::malformed);
        }
        if (segment[0] != icmp_echo_request || segment[1] != 0) {
            return make(verdict::other_for_us, l3, l4, l4_length);
        }
        if (checksum_finish(checksum_add(segment)) != 0) {
            return make(verdict::malformed);
        }
        return make(verdict::icmp_echo_for_us, l3, l4, l4_length);
    }
    if (ip->protocol == ip_protocol_udp) {
        if (!parse_udp(segment)) {
            return make(verdict::malformed);
        }
        return make(verdict::udp_for_us, l3, l4, l4_length);
    }
    return make(verdict::other_for_us, l3, l4, l4_length);
}

classification classify_ipv6(std::span<const std::uint8_t> frame, std::size_t l3, const port_identity& us) {
    if (!us.ipv6) {
        return make(verdict::not_for_us);
    }
    const auto ip = parse_ipv6(frame.subspan(l3));
    if (!ip) {
        return make(verdict::malformed);
    }
    const bool to_unicast = ip->destination == *us.ipv6;
    const bool to_solicited_node = ip->destination == solicited_node_multicast(*us.ipv6);
    if (!to_unicast && !to_solicited_node) {
        return make(verdict::not_for_us);
    }
    const std::size_t l4 = l3 + ipv6_header_size;
    const auto segment = frame.subspan(l4, ip->payload_length);
    if (ip->next_header == ip_protocol_icmpv6) {
        if (segment.size() < 8) {
            return make(verdict::malformed);
        }
        const std::uint32_t pseudo =
            ipv6_pseudo_header_sum(ip->source, ip->destination, ip_protocol_icmpv6, segment.size());
        if (checksum_finish(checksum_add(segment, pseudo)) != 0) {
            return make(verdict::malformed);
        }
        const std::uint8_t type = segment[0];
        if (type == icmpv6_echo_request && segment[1] == 0 && to_unicast) {
            return make(verdict::icmpv6_echo_for_us, l3, l4, segment.size());
        }
        if (type == icmpv6_neighbor_solicitation) {
            // RFC 4861 7.1.1: hop limit 255 proves the sender is on-link.
            if (segment[1] != 0 || ip->hop_limit != 255 || segment.size() < 24) {
                return make(verdict::malformed);
            }
            ipv6_address target{};
            std::copy_n(segment.begin() + 8, target.size(), target.begin());
            return make(target == *us.ipv6 ? verdict::neighbor_solicitation_for_us : verdict::not_for_us, l3,
                        l4, segment.size());
        }
        return make(verdict::other_for_us, l3, l4, segment.size());
    }
    if (!to_unicast) {
        return make(verdict::not_for_us);
    }
    if (ip->next_header == ip_protocol_udp) {
        if (!parse_udp(segment)) {
            return make(verdict::malformed);
        }
        return make(verdict::udp_for_us, l3, l4, segment.size());
    }
    // Extension headers are not walked yet; whatever follows them is "other".
    return make(verdict::other_for_us, l3, l4, segment.size());
}

}  // namespace

std::string_view to_string(verdict v) {
    const auto index = static_cast<std::size_t>(v);
    return index < verdict_names.size() ? verdict_names[index] : std::string_view("unknown");
}

classification classify(std::span<const std::uint8_t> frame, const port_identity& us) {
    const auto ethernet = parse_ethernet(frame);
    if (!ethernet) {
        return make(verdict::malformed);
    }
    const bool for_our_mac = ethernet->destination == us.mac || ethernet->destination == broadcast_mac ||
                             (us.ipv6 && is_ipv6_multicast_mac(ethernet->destination));
    if (!for_our_mac) {
        return make(verdict::not_for_us);
    }
    if (ethernet->vlan_tagged) {
        return make(verdict::unsupported);
    }
    const std::size_t l3 = ethernet->payload_offset;
    switch (ethernet->ether_type) {
        case ether_type_arp:
            return classify_arp(frame, l3, us);
        case ether_type_ipv4:
            return classify_ipv4(frame, l3, us);
        case ether_type_ipv6:
            return classify_ipv6(frame, l3, us);
        default:
            return make(verdict::unsupported);
    }
}

}  // namespace tandem::packet
