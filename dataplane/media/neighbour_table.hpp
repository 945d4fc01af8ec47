#pragma once
// One worker's view of the link: IPv4 -> MAC (ARP) and IPv6 -> MAC
// (neighbour discovery), learned from the ARP and ND packets the worker sees
// on its port, plus static entries from the configuration. Capacity is fixed
// at construction and nothing allocates afterwards: each family is an
// open-addressed table probed over a short bounded window, where an expired
// or stale entry is reused in place and, when the window is full, the entry
// closest to expiry is evicted (static entries never are).
//
// The relay asks next_hop() where a destination is reached (itself on the
// port's subnet, else the gateway), then lookup(). On a miss it asks
// should_solicit(), a per-address rate limiter (one request per second), and
// the io layer writes an ARP request or neighbour solicitation into an mbuf
// with build_solicitation_into(). Cost: a lookup is a hash and at most
// `probe_window` compares; learning parses one short packet.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "dataplane/media/relay.hpp"
#include "dataplane/packet/addresses.hpp"

namespace tandem::media {

// An IPv4 or IPv6 address without a port; family 0 means none.
struct ip_address {
    std::uint8_t family = 0;               // 0, 4 or 6
    std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4 bytes

    static ip_address v4(const packet::ipv4_address& address);
    static ip_address v6(const packet::ipv6_address& address);
    static ip_address of(const media_endpoint& endpoint);
    [[nodiscard]] packet::ipv4_address as_v4() const;
    [[nodiscard]] packet::ipv6_address as_v6() const;
    friend bool operator==(const ip_address&, const ip_address&) = default;
};

// Where a packet to `destination` is sent on the link: the destination
// itself when it is inside the port's prefix (or IPv6 link-local), else the
// configured gateway (or the destination itself when there is none, so a
// proxy-ARP router can still answer).
ip_address next_hop(const port_network& network, const ip_address& destination);

struct neighbour_config {
    std::size_t capacity = 1024;                       // per family, rounded up to a power of two
    std::int64_t reachable_ns = 300'000'000'000;       // a learned entry lives this long
    std::int64_t solicit_interval_ns = 1'000'000'000;  // at most one request per address per interval
};

class neighbour_table {
  public:
    explicit neighbour_table(neighbour_config config = {});

    // Learns the sender of an ARP request/reply, the source of a neighbour
    // solicitation (with a source link-layer option) or the target of a
    // neighbour advertisement (with a target link-layer option). Returns
    // true when an entry was created or refreshed. Total on any bytes;
    // ND packets must carry hop limit 255 and a valid checksum.
    bool learn_from_frame(std::span<const std::uint8_t> frame, std::int64_t now_ns);

    // Dynamic entries refresh and expire; static entries never expire and
    // are not overwritten by learning. False when the probe window is full
    // of static entries.
    bool learn(const ip_address& address, const packet::mac_address& mac, std::int64_t now_ns);
    bool add_static(const ip_address& address, const packet::mac_address& mac);
    bool remove(const ip_address& address);

    [[nodiscard]] std::optional<packet::mac_address> lookup(const ip_address& address,
                                                            std::int64_t now_ns) const;

    // True at most once per solicit_interval_ns per address (and never for
    // an address that is already resolved): the caller then sends one ARP
    // request / neighbour solicitation.
    bool should_solicit(const ip_address& address, std::int64_t now_ns);

    [[nodiscard]] std::size_t capacity() const { return mask_ + 1; }

  private:
    enum class state : std::uint8_t { empty, incomplete, reachable, permanent };
    struct entry {
        std::array<std::uint8_t, 16> address{};
        packet::mac_address mac{};
        state what = state::empty;
        std::int64_t expires_ns = 0;  // reachable: learned until; incomplete: reusable after
        std::int64_t last_solicit_ns = 0;
        bool solicited = false;
    };
    static constexpr std::size_t probe_window = 8;

    entry* table_for(std::uint8_t family);
    [[nodiscard]] const entry* table_for(std::uint8_t family) const;
    [[nodiscard]] std::size_t home(const ip_address& address) const;
    [[nodiscard]] const entry* find(const ip_address& address) const;
    entry* find(const ip_address& address);
    // A slot for a new key: empty, expired or stale first, else the
    // non-static entry closest to expiry; nullptr when all are static.
    entry* claim(const ip_address& address, std::int64_t now_ns);
    bool learn_arp(std::span<const std::uint8_t> payload, std::int64_t now_ns);
    bool learn_nd(std::span<const std::uint8_t> packet, std::int64_t now_ns);

    neighbour_config config_;
    std::size_t mask_;
    std::unique_ptr<entry[]> ipv4_;
    std::unique_ptr<entry[]> ipv6_;
};

// Writes an ARP request (broadcast, who-has `target`) into `out`; returns
// its length (42), or 0 when `out` is too small. Does not allocate.
std::size_t build_arp_request_into(std::span<std::uint8_t> out, const packet::mac_address& our_mac,
                                   const packet::ipv4_address& our_ip, const packet::ipv4_address& target);

// Writes a neighbour solicitation for `target` to its solicited-node group,
// with our link-layer address option and a valid checksum; returns its
// length (86), or 0 when `out` is too small.
std::size_t build_neighbor_solicitation_into(std::span<std::uint8_t> out, const packet::mac_address& our_mac,
                                             const packet::ipv6_address& our_ip,
                                             const packet::ipv6_address& target);

// Either of the above for `next_hop` from this port; 0 when the family is
// not configured on the port or `out` is too small.
std::size_t build_solicitation_into(std::span<std::uint8_t> out, const port_network& network,
                                    const ip_address& next_hop);

}  // namespace tandem::media
