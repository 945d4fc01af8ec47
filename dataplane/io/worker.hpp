#pragma once
// A worker lcore's run-to-completion loop:
//     while (!quit) { rx burst; classify; answer in place; tx burst; free the rest }
// over the (port, rx queue) pairs assigned to it, sending on its own tx
// queue of each port. It never allocates, logs, locks or throws after
// construction; every frame it does not send back is counted under a reason
// (the counters below, one cache-line-aligned row per worker).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dataplane/io/idle_backoff.hpp"
#include "dataplane/media/neighbour_table.hpp"
#include "dataplane/media/relay_table.hpp"
#include "dataplane/media/spsc_ring.hpp"
#include "dataplane/packet/addresses.hpp"
#include "dataplane/packet/classify.hpp"
#include "gateway/metrics/worker_counters.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace tandem::dataplane::io {

// X(id, metric name, help): the one definition of the worker counters.
#define TANDEM_WORKER_COUNTERS(X)                                                                       \
    X(rx_packets, "tandem_worker_rx_packets_total", "Frames received by the worker")                    \
    X(tx_packets, "tandem_worker_tx_packets_total", "Frames the worker handed to the port for sending") \
    X(arp_replies, "tandem_worker_arp_replies_total", "ARP requests for a port address answered")       \
    X(icmp_echo_replies, "tandem_worker_icmp_echo_replies_total", "ICMP echo requests answered")        \
    X(icmpv6_echo_replies, "tandem_worker_icmpv6_echo_replies_total", "ICMPv6 echo requests answered")  \
    X(neighbor_advertisements, "tandem_worker_neighbor_advertisements_total",                           \
      "IPv6 neighbour solicitations answered")                                                          \
    X(dropped_not_for_us, "tandem_worker_dropped_not_for_us_total",                                     \
      "Frames dropped: addressed to another MAC or IP address")                                         \
    X(dropped_malformed, "tandem_worker_dropped_malformed_total",                                       \
      "Frames dropped: truncated or inconsistent headers, or a bad checksum")                           \
    X(dropped_unsupported, "tandem_worker_dropped_unsupported_total",                                   \
      "Frames dropped: ether type, VLAN tag or ARP operation the data plane does not handle")           \
    X(arp_replies_learned, "tandem_worker_arp_replies_learned_total",                                   \
      "ARP replies consumed: their sender went into the neighbour table")                               \
    X(dropped_other_for_us, "tandem_worker_dropped_other_for_us_total",                                 \
      "Packets to a port address with a protocol the data plane does not serve (TCP, other ICMP)")      \
    X(dropped_fragment, "tandem_worker_dropped_fragment_total", "IP fragments dropped (no reassembly)") \
    X(dropped_udp_no_relay, "tandem_worker_dropped_udp_no_relay_total",                                 \
      "UDP datagrams to a port address while the worker has no relay table")                            \
    X(relayed_bytes, "tandem_bytes_total", "Bytes of UDP payload relayed (RTP and RTCP)")               \
    X(solicitations, "tandem_worker_neighbour_solicitations_total",                                     \
      "ARP requests / neighbour solicitations sent for unresolved next hops")                           \
    X(dropped_multi_segment, "tandem_worker_dropped_multi_segment_total",                               \
      "Frames dropped: spread over several mbufs (scatter is not enabled)")                             \
    X(dropped_reply_failed, "tandem_worker_dropped_reply_failed_total",                                 \
      "Requests that could not be answered in place (no room in the buffer)")                           \
    X(dropped_tx_full, "tandem_worker_dropped_tx_full_total", "Replies dropped: the tx queue was full") \
    X(idle_sleeps, "tandem_worker_idle_sleeps_total", "Times an idle worker slept (adaptive polling)")

enum class worker_counter : std::size_t {
#define TANDEM_WORKER_COUNTER_ENUM(id, name, help) id,
    TANDEM_WORKER_COUNTERS(TANDEM_WORKER_COUNTER_ENUM)
#undef TANDEM_WORKER_COUNTER_ENUM
};

inline constexpr std::array worker_counter_specs{
#define TANDEM_WORKER_COUNTER_SPEC(id, name, help) metrics::counter_spec{name, help, false},
    TANDEM_WORKER_COUNTERS(TANDEM_WORKER_COUNTER_SPEC)
#undef TANDEM_WORKER_COUNTER_SPEC
};

struct worker_queue {
    std::uint16_t port_id = 0;
    std::uint16_t rx_queue = 0;
    packet::port_identity identity;
    media::port_network network;    // identity plus prefixes and gateways, for the relay
    bool checksum_offload = false;  // the port computes IPv4/UDP checksums on tx
};

// What a worker relays with: its own table, neighbour cache and command
// ring (filled by the control thread), its row of relay counters, and a
// pool for the ARP requests / neighbour solicitations it originates.
struct relay_binding {
    media::relay_table* table = nullptr;
    media::spsc_ring<media::relay_command>* commands = nullptr;
    metrics::worker_counters* counters = nullptr;  // relay_counter_specs
    rte_mempool* pool = nullptr;
};

struct worker_settings {
    std::size_t index = 0;  // row in the counters, also the tx queue on every port
    std::vector<worker_queue> queues;
    std::uint16_t burst_size = 32;  // 1..max_burst
    polling_mode polling = polling_mode::adaptive;
    relay_binding relay;
};

class worker {
  public:
    static constexpr std::uint16_t max_burst = 256;

    worker(worker_settings settings, metrics::worker_counters& counters, const std::atomic<bool>& quit);

    // One rx burst on one queue; returns the frames received.
    std::uint16_t poll(const worker_queue& queue);
    // One burst on every assigned queue; returns the frames received.
    std::uint32_t poll_all();
    // Until quit; between empty polls, idle_backoff decides.
    void run();
    // rte_eal_remote_launch entry point; `self` is a worker*.
    static int launch(void* self);

    [[nodiscard]] const worker_settings& settings() const { return settings_; }

  private:
    void count(worker_counter which, std::uint64_t amount = 1) {
        counters_.add(settings_.index, static_cast<std::size_t>(which), amount);
    }

    // Drains the control thread's command ring into the relay table; for a
    // stream with a new destination, starts resolving its next hop at once,
    // so the first media packet toward a new peer is not spent on ARP/ND.
    void apply_commands();
    void prepare_next_hop(const worker_queue& queue, const media::media_endpoint& destination,
                          std::int64_t now_ns);

    // Relays one UDP datagram; true when `mbuf` now goes out (tx list).
    bool relay(rte_mbuf* mbuf, const worker_queue& queue, const packet::classification& what,
               std::int64_t now_ns, std::uint16_t& tx_count);

    worker_settings settings_;
    metrics::worker_counters& counters_;
    media::neighbour_table neighbours_;
    const std::atomic<bool>& quit_;
    idle_backoff backoff_;
    std::array<rte_mbuf*, max_burst> received_{};
    std::array<rte_mbuf*, max_burst> replies_{};
    std::array<rte_mbuf*, max_burst> drops_{};
};

}  // namespace tandem::dataplane::io
