#include "dataplane/media/neighbour_table.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "dataplane/packet/bytes.hpp"
#include "dataplane/packet/headers.hpp"

namespace tandem::media {

namespace {

constexpr std::size_t arp_frame_size = packet::ethernet_header_size + packet::arp_ipv4_size;
constexpr std::size_t neighbor_solicitation_icmp_size = 24 + 8;  // header, target, source link-layer option
constexpr std::size_t neighbor_solicitation_frame_size =
    packet::ethernet_header_size + packet::ipv6_header_size + neighbor_solicitation_icmp_size;
constexpr std::uint8_t nd_option_source_link_layer = 1;
constexpr std::uint8_t nd_option_target_link_layer = 2;
// An ND packet has a handful of options; more is garbage, not a reason to loop.
constexpr std::size_t max_nd_options = 16;

bool inside_prefix(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
                   std::size_t prefix_bits) {
    prefix_bits = std::min(prefix_bits, a.size() * 8);
    const std::size_t whole = prefix_bits / 8;
    if (!std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(whole), b.begin())) {
        return false;
    }
    const std::size_t rest = prefix_bits % 8;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool usable_mac(const packet::mac_address& mac) {
    // Multicast/broadcast (group bit) or all-zero: never a neighbour.
    return (mac[0] & 0x01) == 0 && mac != packet::mac_address{};
}

template <std::size_t N>
void put(std::span<std::uint8_t> out, std::size_t offset, const std::array<std::uint8_t, N>& value) {
    std::copy(value.begin(), value.end(), out.begin() + static_cast<std::ptrdiff_t>(offset));
}

}  // namespace

ip_address ip_address::v4(const packet::ipv4_address& address) {
    ip_address out;
    out.family = 4;
    std::copy(address.begin(), address.end(), out.bytes.begin());
    return out;
}

ip_address ip_address::v6(const packet::ipv6_address& address) {
    ip_address out;
    out.family = 6;
    out.bytes = address;
    return out;
}

ip_address ip_address::of(const media_endpoint& endpoint) {
    ip_address out;
    out.family = endpoint.family;
    out.bytes = endpoint.address;
    if (out.family == 4) {
        std::fill(out.bytes.begin() + 4, out.bytes.end(), std::uint8_t{0});
    }
    return out;
}

packet::ipv4_address ip_address::as_v4() const {
    packet::ipv4_address out{};
    std::copy_n(bytes.begin(), out.size(), out.begin());
    return out;
}

packet::ipv6_address ip_address::as_v6() const {
    return bytes;
}

ip_address next_hop(const port_network& network, const ip_address& destination) {
    if (destination.family == 4) {
        const auto ours = network.identity.ipv4;
        const auto theirs = destination.as_v4();
        if (inside_prefix(ours, theirs, network.ipv4_prefix) || !network.ipv4_gateway) {
            return destination;
        }
        return ip_address::v4(*network.ipv4_gateway);
    }
    if (destination.family == 6) {
        const bool link_local = destination.bytes[0] == 0xfe && (destination.bytes[1] & 0xc0) == 0x80;
        const bool on_subnet = network.identity.ipv6 &&
                               inside_prefix(*network.identity.ipv6, destination.bytes, network.ipv6_prefix);
        if (link_local || on_subnet || !network.ipv6_gateway) {
            return destination;
        }
        return ip_address::v6(*network.ipv6_gateway);
    }
    return destination;
}

neighbour_table::neighbour_table(neighbour_config config)
    : config_(config),
      mask_(std::bit_ceil(std::max<std::size_t>(config.capacity, probe_window)) - 1),
      ipv4_(std::make_unique<entry[]>(mask_ + 1)),
      ipv6_(std::make_unique<entry[]>(mask_ + 1)) {}

neighbour_table::entry* neighbour_table::table_for(std::uint8_t family) {
    return family == 4 ? ipv4_.get() : family == 6 ? ipv6_.get() : nullptr;
}

const neighbour_table::entry* neighbour_table::table_for(std::uint8_t family) const {
    return family == 4 ? ipv4_.get() : family == 6 ? ipv6_.get() : nullptr;
}

std::size_t neighbour_table::home(const ip_address& address) const {
    // Fold the address to 64 bits and multiply (Fibonacci hashing): the
    // varying low bytes of neighbours on one subnet spread over the table.
    std::uint64_t low = 0;
    std::uint64_t high = 0;
    std::memcpy(&high, address.bytes.data(), 8);
    std::memcpy(&low, address.bytes.data() + 8, 8);
    const std::uint64_t mixed = (high ^ std::rotl(low, 29)) * 0x9e3779b97f4a7c15ULL;
    return static_cast<std::size_t>(mixed >> 32) & mask_;
}

const neighbour_table::entry* neighbour_table::find(const ip_address& address) const {
    const entry* table = table_for(address.family);
    if (table == nullptr) {
        return nullptr;
    }
    // The whole window is scanned (no early stop at an empty slot), so
    // remove() can empty a slot without breaking other keys' probe runs.
    const std::size_t start = home(address);
    for (std::size_t i = 0; i < probe_window; ++i) {
        const entry& e = table[(start + i) & mask_];
        if (e.what != state::empty && e.address == address.bytes) {
            return &e;
        }
    }
    return nullptr;
}

neighbour_table::entry* neighbour_table::find(const ip_address& address) {
    return const_cast<entry*>(static_cast<const neighbour_table*>(this)->find(address));
}

neighbour_table::entry* neighbour_table::claim(const ip_address& address, std::int64_t now_ns) {
    entry* table = table_for(address.family);
    if (table == nullptr) {
        return nullptr;
    }
    const std::size_t start = home(address);
    entry* victim = nullptr;
    for (std::size_t i = 0; i < probe_window; ++i) {
        entry& e = table[(start + i) & mask_];
        if (e.what == state::empty || (e.what != state::permanent && e.expires_ns <= now_ns)) {
            victim = &e;
            break;
        }
        if (e.what != state::permanent && (victim == nullptr || e.expires_ns < victim->expires_ns)) {
            victim = &e;
        }
    }
    if (victim != nullptr) {
        *victim = entry{};
        victim->address = address.bytes;
    }
    return victim;
}

bool neighbour_table::learn(const ip_address& address, const packet::mac_address& mac, std::int64_t now_ns) {
    if (!usable_mac(mac)) {
        return false;
    }
    entry* e = find(address);
    if (e != nullptr && e->what == state::permanent) {
        return false;
    }
    if (e == nullptr) {
        e = claim(address, now_ns);
        if (e == nullptr) {
            return false;
        }
    }
    e->mac = mac;
    e->what = state::reachable;
    e->expires_ns = now_ns + config_.reachable_ns;
    return true;
}

bool neighbour_table::add_static(const ip_address& address, const packet::mac_address& mac) {
    entry* e = find(address);
    if (e == nullptr) {
        // Static entries are configured at startup: nothing is expired yet,
        // so "now" only matters for choosing which dynamic entry to evict.
        e = claim(address, 0);
        if (e == nullptr) {
            return false;
        }
    }
    e->mac = mac;
    e->what = state::permanent;
    e->expires_ns = 0;
    return true;
}

bool neighbour_table::remove(const ip_address& address) {
    entry* e = find(address);
    if (e == nullptr) {
        return false;
    }
    *e = entry{};
    return true;
}

std::optional<packet::mac_address> neighbour_table::lookup(const ip_address& address,
                                                           std::int64_t now_ns) const {
    const entry* e = find(address);
    if (e == nullptr) {
        return std::nullopt;
    }
    if (e->what == state::permanent || (e->what == state::reachable && e->expires_ns > now_ns)) {
        return e->mac;
    }
    return std::nullopt;
}

bool neighbour_table::should_solicit(const ip_address& address, std::int64_t now_ns) {
    entry* e = find(address);
    if (e != nullptr) {
        if (e->what == state::permanent || (e->what == state::reachable && e->expires_ns > now_ns)) {
            return false;
        }
        if (e->solicited && now_ns - e->last_solicit_ns < config_.solicit_interval_ns) {
            return false;
        }
    } else {
        e = claim(address, now_ns);
        if (e == nullptr) {
            return false;
        }
    }
    e->what = state::incomplete;
    e->solicited = true;
    e->last_solicit_ns = now_ns;
    // Unanswered for a few intervals: the slot may go to someone else.
    e->expires_ns = now_ns + 3 * config_.solicit_interval_ns;
    return true;
}

bool neighbour_table::learn_from_frame(std::span<const std::uint8_t> frame, std::int64_t now_ns) {
    const auto ethernet = packet::parse_ethernet(frame);
    if (!ethernet) {
        return false;
    }
    const auto payload = frame.subspan(ethernet->payload_offset);
    if (ethernet->ether_type == packet::ether_type_arp) {
        return learn_arp(payload, now_ns);
    }
    if (ethernet->ether_type == packet::ether_type_ipv6) {
        return learn_nd(payload, now_ns);
    }
    return false;
}

bool neighbour_table::learn_arp(std::span<const std::uint8_t> payload, std::int64_t now_ns) {
    const auto arp = packet::parse_arp(payload);
    if (!arp || (arp->operation != packet::arp_op_request && arp->operation != packet::arp_op_reply)) {
        return false;
    }
    if (arp->sender_ip == packet::ipv4_address{}) {
        return false;  // an address probe (RFC 5227) says nothing about who owns what
    }
    return learn(ip_address::v4(arp->sender_ip), arp->sender_mac, now_ns);
}

bool neighbour_table::learn_nd(std::span<const std::uint8_t> packet, std::int64_t now_ns) {
    const auto ip = packet::parse_ipv6(packet);
    // RFC 4861 7.1: hop limit 255 proves the sender is on-link.
    if (!ip || ip->next_header != packet::ip_protocol_icmpv6 || ip->hop_limit != 255) {
        return false;
    }
    const auto icmp = packet.subspan(packet::ipv6_header_size, ip->payload_length);
    if (icmp.size() < 24 || icmp[1] != 0) {
        return false;
    }
    const std::uint8_t type = icmp[0];
    if (type != packet::icmpv6_neighbor_solicitation && type != packet::icmpv6_neighbor_advertisement) {
        return false;
    }
    const std::uint32_t pseudo =
        packet::ipv6_pseudo_header_sum(ip->source, ip->destination, packet::ip_protocol_icmpv6, icmp.size());
    if (packet::checksum_finish(packet::checksum_add(icmp, pseudo)) != 0) {
        return false;
    }
    const bool solicitation = type == packet::icmpv6_neighbor_solicitation;
    const std::uint8_t wanted_option =
        solicitation ? nd_option_source_link_layer : nd_option_target_link_layer;
    std::optional<packet::mac_address> mac;
    std::size_t offset = 24;
    for (std::size_t n = 0; n < max_nd_options && offset + 2 <= icmp.size(); ++n) {
        const std::size_t length = static_cast<std::size_t>(icmp[offset + 1]) * 8;
        if (length == 0 || offset + length > icmp.size()) {
            return false;  // RFC 4861 4.6: a zero-length option invalidates the packet
        }
        if (icmp[offset] == wanted_option && length >= 8) {
            packet::mac_address found{};
            std::copy_n(icmp.begin() + static_cast<std::ptrdiff_t>(offset + 2), found.size(), found.begin());
            mac = found;
        }
        offset += length;
    }
    if (!mac) {
        return false;
    }
    packet::ipv6_address owner{};
    if (solicitation) {
        if (ip->source == packet::ipv6_address{}) {
            return false;  // duplicate address detection
        }
        owner = ip->source;
    } else {
        std::copy_n(icmp.begin() + 8, owner.size(), owner.begin());
    }
    return learn(ip_address::v6(owner), *mac, now_ns);
}

std::size_t build_arp_request_into(std::span<std::uint8_t> out, const packet::mac_address& our_mac,
                                   const packet::ipv4_address& our_ip, const packet::ipv4_address& target) {
    if (out.size() < arp_frame_size) {
        return 0;
    }
    const auto frame = out.first(arp_frame_size);
    std::fill(frame.begin(), frame.end(), std::uint8_t{0});
    put(frame, 0, packet::broadcast_mac);
    put(frame, 6, our_mac);
    packet::store_be16(frame, 12, packet::ether_type_arp);
    const auto arp = frame.subspan(packet::ethernet_header_size);
    packet::store_be16(arp, 0, 1);  // Ethernet
    packet::store_be16(arp, 2, packet::ether_type_ipv4);
    arp[4] = 6;
    arp[5] = 4;
    packet::store_be16(arp, 6, packet::arp_op_request);
    put(arp, 8, our_mac);
    put(arp, 14, our_ip);
    put(arp, 24, target);  // target MAC stays zero: that is the question
    return arp_frame_size;
}

std::size_t build_neighbor_solicitation_into(std::span<std::uint8_t> out, const packet::mac_address& our_mac,
                                             const packet::ipv6_address& our_ip,
                                             const packet::ipv6_address& target) {
    if (out.size() < neighbor_solicitation_frame_size) {
        return 0;
    }
    const auto frame = out.first(neighbor_solicitation_frame_size);
    std::fill(frame.begin(), frame.end(), std::uint8_t{0});
    const auto group = packet::solicited_node_multicast(target);
    put(frame, 0, packet::ipv6_multicast_mac(group));
    put(frame, 6, our_mac);
    packet::store_be16(frame, 12, packet::ether_type_ipv6);
    const auto ip = frame.subspan(packet::ethernet_header_size);
    packet::store_be32(ip, 0, 0x60000000U);
    packet::store_be16(ip, 4, static_cast<std::uint16_t>(neighbor_solicitation_icmp_size));
    ip[6] = packet::ip_protocol_icmpv6;
    ip[7] = 255;
    put(ip, 8, our_ip);
    put(ip, 24, group);
    const auto icmp = ip.subspan(packet::ipv6_header_size);
    icmp[0] = packet::icmpv6_neighbor_solicitation;
    put(icmp, 8, target);
    icmp[24] = nd_option_source_link_layer;
    icmp[25] = 1;  // in units of 8 bytes
    put(icmp, 26, our_mac);
    const std::uint32_t pseudo =
        packet::ipv6_pseudo_header_sum(our_ip, group, packet::ip_protocol_icmpv6, icmp.size());
    packet::store_be16(icmp, 2, packet::checksum_finish(packet::checksum_add(icmp, pseudo)));
    return neighbor_solicitation_frame_size;
}

std::size_t build_solicitation_into(std::span<std::uint8_t> out, const port_network& network,
                                    const ip_address& next_hop) {
    if (next_hop.family == 4) {
        return build_arp_request_into(out, network.identity.mac, network.identity.ipv4, next_hop.as_v4());
    }
    if (next_hop.family == 6 && network.identity.ipv6) {
        return build_neighbor_solicitation_into(out, network.identity.mac, *network.identity.ipv6,
                                                next_hop.as_v6());
    }
    return 0;
}

}  // namespace tandem::media
